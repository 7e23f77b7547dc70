import { pino, type Logger } from "pino";

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: "lift96333" },
    // Secrets never reach the log, whatever object a caller passes.
    redact: { paths: ["password", "secret", "*.password", "*.secret", "req.headers.cookie"], censor: "[redacted]" },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
