import express, { type NextFunction, type Request, type Response } from "express";
import { z } from "zod";
import type { ApiRouter } from "../platform/http.ts";
import { CITY_READERS, OPERATORS } from "../auth/roles.ts";
import { actorOfUser } from "../auth/scopes.ts";
import { ApiError, errors } from "../platform/errors.ts";
import { callView, incidentKinds, incidentView } from "../contracts/index.ts";
import { verifyTelephony } from "./signature.ts";
import { SIGNATURE_HEADER, TELEPHONY_PATH, TIMESTAMP_HEADER, iso, label, phone, telephonyEventBody } from "../contracts/telephony.ts";
import type { CallService } from "./service.ts";

const rescueCode = z.string().regex(/^\d{6}$/, "a rescue code has 6 digits");
const actor = z
  .object({ type: z.enum(["user", "team", "system"]), id: z.string().min(1).max(64).nullable().default(null) })
  .optional(); // ignored: the actor is the signed-in user
const count = z.number().int().min(0).max(100);

const incidentRequest = {
  kind: z.enum(incidentKinds).default("entrapment"),
  trappedCount: count.optional(),
  injuredCount: count.optional(),
  autoDispatch: z.boolean().default(true),
};

const callOutcome = z.object({ call: callView, incident: incidentView.nullable(), incidentCreated: z.boolean() });
const idParams = z.object({ id: z.coerce.number().int().positive() });

/**
 * The webhook's signature covers the exact bytes sent, so the body is read raw here, checked, and only
 * then parsed as JSON for the route's zod schema. Mounted before the app's JSON parser.
 */
export function telephonyAuth(options: { secret: string | null; clock: () => Date }) {
  const raw = express.raw({ type: () => true, limit: "64kb" });
  return [
    raw,
    (req: Request, _res: Response, next: NextFunction) => {
      if (!options.secret) {
        next(errors.unavailable("the telephony webhook is disabled: set TELEPHONY_SECRET"));
        return;
      }
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const check = verifyTelephony({
        secret: options.secret,
        timestamp: req.get(TIMESTAMP_HEADER) ?? undefined,
        signature: req.get(SIGNATURE_HEADER) ?? undefined,
        rawBody: body,
        nowMs: options.clock().getTime(),
      });
      if (!check.ok) {
        next(new ApiError(401, check.reason, check.message));
        return;
      }
      try {
        req.body = JSON.parse(body.toString("utf8"));
      } catch {
        next(new ApiError(400, "malformed_json", "the body is not valid JSON"));
        return;
      }
      (req as Request & { telephonySignature?: string }).telephonySignature = check.signature;
      next();
    },
  ];
}

// The app mounts the webhook by this path; it is the contracts' (the PBX simulator posts to it).
export { TELEPHONY_PATH };

/** Routes of calls; the app mounts telephonyAuth() on TELEPHONY_PATH before its JSON parser. */
export function registerCallRoutes(api: ApiRouter, deps: { calls: CallService }): void {
  const { calls } = deps;

  api.route({
    method: "post",
    path: TELEPHONY_PATH,
    summary:
      "Call events from the PBX / call centre (ringing, answered, ended). HMAC-SHA256 of `X-Timestamp + '.' + body` with TELEPHONY_SECRET in X-Signature; idempotent per (callId, event)",
    tags: ["calls"],
    access: "machine",
    body: telephonyEventBody,
    response: z.object({ call: callView, duplicate: z.boolean() }),
    handler: async ({ body, req }) => {
      const signature = (req as Request & { telephonySignature?: string }).telephonySignature;
      if (!signature) throw new ApiError(401, "missing_headers", "unsigned request");
      return calls.telephonyEvent(body, signature);
    },
  });

  api.route({
    method: "post",
    path: "/api/calls",
    summary: "A call entered by a dispatcher; with openIncident and a rescue code it becomes an incident in the same request",
    tags: ["calls"],
    access: OPERATORS,
    status: 201,
    body: z
      .object({
        callerNumber: phone,
        line: label.optional(),
        agent: label.optional(),
        ringingAt: iso.optional(),
        answeredAt: iso.optional(),
        endedAt: iso.optional(),
        notes: z.string().trim().max(2000).optional(),
        rescueCode: rescueCode.optional(),
        elevatorId: z.number().int().positive().optional(),
        openIncident: z.boolean().default(false),
        actor,
        ...incidentRequest,
      })
      .refine((b) => !b.openIncident || b.rescueCode !== undefined || b.elevatorId !== undefined, {
        message: "openIncident needs rescueCode or elevatorId",
        path: ["rescueCode"],
      }),
    response: callOutcome,
    handler: ({ body, user }) => calls.createManual(body, actorOfUser(user)),
  });

  api.route({
    method: "post",
    path: "/api/calls/{id}/incident",
    summary: "Identify the call's elevator and open its incident, or attach the call to the incident already open",
    tags: ["calls"],
    access: OPERATORS,
    params: idParams,
    status: 201,
    body: z
      .object({
        rescueCode: rescueCode.optional(),
        elevatorId: z.number().int().positive().optional(),
        note: z.string().trim().max(500).optional(),
        actor,
        ...incidentRequest,
      })
      .refine((b) => b.rescueCode !== undefined || b.elevatorId !== undefined, { message: "give rescueCode or elevatorId", path: ["rescueCode"] }),
    response: callOutcome,
    handler: ({ params, body, user }) => calls.openIncident(params.id, body, actorOfUser(user)),
  });

  api.route({
    method: "get",
    path: "/api/calls",
    summary: "Recent calls, newest first",
    tags: ["calls"],
    access: CITY_READERS,
    query: z.object({
      active: z.enum(["true", "false"]).default("false").transform((v) => v === "true"),
      callerNumber: phone.optional(),
      limit: z.coerce.number().int().min(1).max(500).default(100),
    }),
    response: z.array(callView),
    handler: ({ query }) => calls.list(query),
  });

  api.route({
    method: "get",
    path: "/api/calls/{id}",
    summary: "One call",
    tags: ["calls"],
    access: CITY_READERS,
    params: idParams,
    response: callView,
    handler: async ({ params }) => {
      const call = await calls.get(params.id);
      if (!call) throw errors.notFound(`call ${params.id}`);
      return call;
    },
  });
}
