import express, { type Request, type Response, type NextFunction, type Router } from "express";
import { OpenAPIRegistry, OpenApiGeneratorV3, type RouteConfig } from "@asteasolutions/zod-to-openapi";
import { z } from "zod";
import { ApiError, errors } from "./errors.ts";
import type { Logger } from "./logger.ts";
import { apiError } from "../contracts/index.ts";
import { personalViewOf, presentPersonal, type Access, type Role, type SessionUser } from "../auth/roles.ts";

/** What the session middleware leaves on the request. */
export type AuthedRequest = Request & { user?: SessionUser | null };

/** The signed-in user on a request, if any. */
export const userOf = (req: Request): SessionUser | null => (req as AuthedRequest).user ?? null;

/** One audit entry an API action produces; the writer (server/audit) is given to the router. */
export interface AuditEntry {
  actor: string;
  action: string;
  target: string | null;
  address: string | null;
  data?: unknown;
}

type Method = "get" | "post" | "put" | "patch" | "delete";

export interface RouteSpec<
  P extends z.ZodType = z.ZodType,
  Q extends z.ZodType = z.ZodType,
  B extends z.ZodType = z.ZodType,
  R extends z.ZodType = z.ZodType,
  A extends Access = Access,
> {
  method: Method;
  /**
   * Required: who may call the route. A route without a rule does not compile; ApiRouter answers 401
   * without a session and 403 for a role not listed, before the input is even parsed.
   */
  access: A;
  /**
   * Resource check after validation (company admins to their own company, rescuers to their own team):
   * false answers 404 "not found or no access", never revealing that the resource exists.
   */
  scope?: (user: SessionUser, input: { params: z.infer<P>; query: z.infer<Q>; body: z.infer<B> }) => Promise<boolean> | boolean;
  /** Audit action name; mutating role routes are audited by default as `METHOD path`; false: not audited. */
  audit?: string | false;
  /** OpenAPI style path, e.g. `/api/incidents/{id}`. */
  path: string;
  summary: string;
  tags: string[];
  params?: P;
  query?: Q;
  body?: B;
  response: R;
  status?: number;
  handler: (input: {
    params: z.infer<P>;
    query: z.infer<Q>;
    body: z.infer<B>;
    req: Request;
    res: Response;
    user: A extends readonly Role[] ? SessionUser : SessionUser | null;
  }) => Promise<z.infer<R>>;
}

/**
 * The one way a REST route is declared: the same zod schemas validate the request, type the handler and
 * describe the route in the OpenAPI document.
 */
export class ApiRouter {
  readonly registry = new OpenAPIRegistry();
  readonly router: Router = express.Router();
  /** Every declared route with its rule, for the role-matrix test and the docs. */
  readonly rules: { method: Method; path: string; access: Access }[] = [];
  /** `audit`: where audit entries go; without it nothing is audited. */
  constructor(private readonly audit: ((entry: AuditEntry) => Promise<void>) | null = null) {}

  route<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType, R extends z.ZodType, A extends Access>(
    spec: RouteSpec<P, Q, B, R, A>,
  ): void {
    const access: Access = spec.access;
    if (access === undefined) throw new Error(`route ${spec.method} ${spec.path} has no access rule`);
    this.rules.push({ method: spec.method, path: spec.path, access });
    const status = spec.status ?? 200;
    const config: RouteConfig = {
      method: spec.method,
      path: spec.path,
      summary: spec.summary,
      tags: spec.tags,
      "x-access": typeof access === "string" ? access : [...access],
      request: {
        ...(spec.params ? { params: spec.params as never } : {}),
        ...(spec.query ? { query: spec.query as never } : {}),
        ...(spec.body ? { body: { content: { "application/json": { schema: spec.body } } } } : {}),
      },
      responses: {
        [status]: { description: "OK", content: { "application/json": { schema: spec.response } } },
        400: { description: "Invalid input", content: { "application/json": { schema: apiError } } },
        ...(typeof access === "string"
          ? {}
          : {
              401: { description: "Not signed in", content: { "application/json": { schema: apiError } } },
              403: { description: "Role not allowed", content: { "application/json": { schema: apiError } } },
            }),
      },
    };
    this.registry.registerPath(config);
    const expressPath = spec.path.replace(/\{(\w+)\}/g, ":$1");
    this.router[spec.method](expressPath, async (req: Request, res: Response, next: NextFunction) => {
      try {
        const user = userOf(req);
        if (typeof access !== "string") {
          if (!user) throw new ApiError(401, "unauthenticated", "sign in first");
          if (!access.includes(user.role)) throw new ApiError(403, "forbidden", `a ${user.role} may not ${spec.method.toUpperCase()} ${spec.path}`);
        }
        const parse = <S extends z.ZodType | undefined>(schema: S, value: unknown, where: string) => {
          if (!schema) return undefined;
          const result = schema.safeParse(value);
          if (!result.success) throw errors.validation(result.error, where);
          return result.data;
        };
        const params = parse(spec.params, req.params, "path parameters");
        const query = parse(spec.query, req.query, "query");
        const body = parse(spec.body, req.body ?? {}, "body");
        if (spec.scope && user && !(await spec.scope(user, { params, query, body } as never))) {
          throw errors.notFound("the resource (or your access to it)");
        }
        let result = await spec.handler({ params, query, body, req, res, user } as never);
        if (spec.audit !== false && this.audit && typeof access !== "string" && user && spec.method !== "get") {
          await this.audit({
            actor: user.username,
            action: spec.audit ?? `${spec.method.toUpperCase()} ${spec.path}`,
            target: params && Object.keys(params).length ? JSON.stringify(params) : null,
            address: req.ip ?? null,
            data: { role: user.role },
          });
        }
        // A handler that wrote the response itself (a file download, a printable page) is done.
        if (res.headersSent) return;
        if (user) result = presentPersonal(result, personalViewOf(user.role));
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
