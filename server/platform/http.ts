import express, { type Request, type Response, type NextFunction, type Router } from "express";
import { OpenAPIRegistry, OpenApiGeneratorV3, type RouteConfig } from "@asteasolutions/zod-to-openapi";
import { z } from "zod";
import { ApiError, errors } from "./errors.ts";
import type { Logger } from "./logger.ts";
import { apiError } from "../contracts/index.ts";

type Method = "get" | "post" | "put" | "patch" | "delete";

export interface RouteSpec<
  P extends z.ZodType = z.ZodType,
  Q extends z.ZodType = z.ZodType,
  B extends z.ZodType = z.ZodType,
  R extends z.ZodType = z.ZodType,
> {
  method: Method;
  /** OpenAPI style path, e.g. `/api/incidents/{id}`. */
  path: string;
  summary: string;
  tags: string[];
  params?: P;
  query?: Q;
  body?: B;
  response: R;
  status?: number;
  handler: (input: { params: z.infer<P>; query: z.infer<Q>; body: z.infer<B>; req: Request }) => Promise<z.infer<R>>;
}

/**
 * The one way a REST route is declared: the same zod schemas validate the request, type the handler and
 * describe the route in the OpenAPI document.
 */
export class ApiRouter {
  readonly registry = new OpenAPIRegistry();
  readonly router: Router = express.Router();

  route<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType, R extends z.ZodType>(spec: RouteSpec<P, Q, B, R>): void {
    const status = spec.status ?? 200;
    const config: RouteConfig = {
      method: spec.method,
      path: spec.path,
      summary: spec.summary,
      tags: spec.tags,
      request: {
        ...(spec.params ? { params: spec.params as never } : {}),
        ...(spec.query ? { query: spec.query as never } : {}),
        ...(spec.body ? { body: { content: { "application/json": { schema: spec.body } } } } : {}),
      },
      responses: {
        [status]: { description: "OK", content: { "application/json": { schema: spec.response } } },
        400: { description: "Invalid input", content: { "application/json": { schema: apiError } } },
      },
    };
    this.registry.registerPath(config);
    const expressPath = spec.path.replace(/\{(\w+)\}/g, ":$1");
    this.router[spec.method](expressPath, async (req: Request, res: Response, next: NextFunction) => {
      try {
        const parse = <S extends z.ZodType | undefined>(schema: S, value: unknown, where: string) => {
          if (!schema) return undefined;
          const result = schema.safeParse(value);
          if (!result.success) throw errors.validation(result.error, where);
          return result.data;
        };
        const params = parse(spec.params, req.params, "path parameters");
        const query = parse(spec.query, req.query, "query");
        const body = parse(spec.body, req.body ?? {}, "body");
        const result = await spec.handler({ params, query, body, req } as never);
        res.status(status).json(result);
      } catch (error) {
        next(error);
      }
    });
  }

  openApiDocument(info: { title: string; version: string }) {
    return new OpenApiGeneratorV3(this.registry.definitions).generateDocument({
      openapi: "3.0.3",
      info: { ...info, description: "96333 elevator emergency dispatch platform REST API" },
    });
  }
}

/** Translates every error into `{error:{id,message}}`; internals are logged with a correlation id only. */
export function errorHandler(log: Logger) {
  return (error: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (error instanceof ApiError) {
      res.status(error.status).json({ error: { id: error.id, message: error.message, details: error.details } });
      return;
    }
    const status = (error as { status?: number; statusCode?: number }).status ?? (error as { statusCode?: number }).statusCode;
    if (status && status >= 400 && status < 500) {
      // body-parser's own errors: malformed JSON, too large.
      const type = (error as { type?: string }).type;
      const id = type === "entity.too.large" ? "payload_too_large" : type === "entity.parse.failed" ? "malformed_json" : "bad_request";
      res.status(status).json({ error: { id, message: (error as Error).message } });
      return;
    }
    const correlationId = crypto.randomUUID();
    log.error({ err: error, correlationId, method: req.method, url: req.originalUrl }, "request failed");
    res.status(500).json({ error: { id: "internal", message: `internal error (reference ${correlationId})` } });
  };
}
