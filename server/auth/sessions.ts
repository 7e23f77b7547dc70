import crypto from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { NextFunction, Request, Response } from "express";
import type { AuthedRequest } from "../platform/http.ts";
import type { SessionUser } from "./roles.ts";
import type { SessionRepository } from "./repository.ts";

export const SESSION_COOKIE = "lift96333_session";
export const SESSION_TTL_MS = 12 * 3600_000; // one dispatcher shift

export const hashToken = (token: string) => crypto.createHash("sha256").update(token).digest("hex");

export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? "").split(";")) {
    const i = part.indexOf("=");
    if (i < 0) continue;
    const key = part.slice(0, i).trim();
    try {
      out[key] = decodeURIComponent(part.slice(i + 1).trim());
    } catch {
      // a malformed cookie is ignored
    }
  }
  return out;
}

/**
 * Stateful sessions: the cookie holds 32 random bytes, the database only their SHA-256, so a stolen
 * database gives no usable cookie, and logout, password change and disabling a user end sessions at once
 * (a signed stateless token could not be revoked before it expires).
 */
export class Sessions {
  constructor(private readonly store: SessionRepository) {}

  async create(userId: number, address: string | null): Promise<{ token: string; expiresAt: Date }> {
    const token = crypto.randomBytes(32).toString("base64url");
    const expiresAt = new Date(Date.now() + SESSION_TTL_MS);
    await this.store.create({ tokenHash: hashToken(token), userId, expiresAt, address });
    return { token, expiresAt };
  }

  async resolve(token: string | undefined): Promise<SessionUser | null> {
    if (!token || token.length > 100) return null;
    const found = await this.store.byTokenHash(hashToken(token));
    if (!found || found.expiresAt.getTime() <= Date.now() || found.disabled) return null;
    return found.user;
  }

  fromRequest(req: IncomingMessage): Promise<SessionUser | null> {
    return this.resolve(parseCookies(req.headers.cookie)[SESSION_COOKIE]);
  }

  end(sessionId: number): Promise<void> {
    return this.store.delete(sessionId);
  }

  endAllOf(userId: number, except?: number): Promise<void> {
    return this.store.deleteAllOf(userId, except);
  }

  /** Which of these sessions still stand (sockets re-check theirs with it). */
  live(sessionIds: readonly number[]): Promise<Set<number>> {
    return this.store.live(sessionIds, new Date());
  }

  /** Express middleware: puts the signed-in user (or null) on the request. */
  middleware() {
    return (req: Request, _res: Response, next: NextFunction) => {
      this.fromRequest(req).then(
        (user) => {
          (req as AuthedRequest).user = user;
          next();
        },
        (error) => next(error),
      );
    };
  }
}

export function sessionCookie(token: string, expiresAt: Date, secure: boolean): string {
  return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict; Expires=${expiresAt.toUTCString()}${secure ? "; Secure" : ""}`;
}
export const clearedCookie = `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;
