import { z } from "zod";

/** Errors with stable ids that clients can rely on; the message is for people. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly id: string,
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
  conflict: (message: string, details?: unknown) => new ApiError(409, "conflict", message, details),
  unavailable: (message: string) => new ApiError(503, "unavailable", message),
};
