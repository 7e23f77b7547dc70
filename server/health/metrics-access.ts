import crypto from "node:crypto";
import type { NextFunction, Request, Response } from "express";

const LOOPBACK = new Set(["127.0.0.1", "::1", "::ffff:127.0.0.1"]);

/**
 * Who may read /metrics on the main port. The figures describe the centre's load and failures, so they are
 * not public: with METRICS_TOKEN a scraper sends `Authorization: Bearer <token>`; with METRICS_PORT they are
 * served on that internal listener instead; with neither, outside production, only this machine's own
 * connections (the socket's address, never a forwarded header) may read them, and production serves them
 * nowhere but where one of the two is set.
 */
export function metricsGuard(options: { token: string | null; port: number | null; production: boolean }) {
  const expected = options.token ? crypto.createHash("sha256").update(options.token).digest() : null;
  return (req: Request, res: Response, next: NextFunction) => {
    if (expected) {
      const given = /^Bearer (.+)$/.exec(req.get("authorization") ?? "")?.[1] ?? "";
      if (crypto.timingSafeEqual(crypto.createHash("sha256").update(given).digest(), expected)) return next();
      res.status(401).set("WWW-Authenticate", 'Bearer realm="metrics"').json({ error: { id: "unauthenticated", message: "send Authorization: Bearer <METRICS_TOKEN>" } });
      return;
    }
    if (options.port === null && !options.production && LOOPBACK.has(req.socket.remoteAddress ?? "")) return next();
    res.status(404).json({ error: { id: "not_found", message: "no such route" } });
  };
}
