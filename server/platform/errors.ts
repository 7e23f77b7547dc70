import { z } from "zod";
import type { ErrorId } from "../contracts/errors.ts";

/** Errors with stable ids that clients can rely on; the message is for people. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly id: ErrorId,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export const errors = {
  validation: (error: z.ZodError, where: string) =>
    new ApiError(
      400,
      "validation_failed",
      `invalid ${where}: ${error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")}`,
      error.issues.map((i) => ({ path: i.path.map(String), message: i.message })),
    ),
  forbidden: (message: string) => new ApiError(403, "forbidden", message),
  notFound: (what: string) => new ApiError(404, "not_found", `${what} not found`),
  /** A request that clashes with the current state; `id` says which clash, for the client's own text. */
  conflict: (message: string, details?: unknown, id: ErrorId = "conflict") => new ApiError(409, id, message, details),
  unavailable: (message: string) => new ApiError(503, "unavailable", message),
};
