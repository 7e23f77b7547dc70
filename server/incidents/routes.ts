import { z } from "zod";
import type { ApiRouter } from "../platform/http.ts";
import { ALL, CITY_READERS, FIELD, OPERATORS, READERS, type SessionUser } from "../auth/roles.ts";
import { RESCUER_STEPS, RESCUER_TRANSITIONS } from "../contracts/roles.ts";
import { accessChecks, actorOfUser } from "../auth/scopes.ts";
import { scopeOf } from "../auth/actor-scope.ts";
import type { AccessRepository } from "../auth/repository.ts";
import type { PrismaClient } from "../platform/db/generated/client.ts";
import { causeClasses, incidentStatuses, incidentView, massEventView, teamOfferView, timelineEventView, timelineView } from "../contracts/index.ts";
import { ApiError, errors } from "../platform/errors.ts";
import type { UnitOfWork } from "../platform/outbox/unit-of-work.ts";
import type { IncidentCursor, IncidentReads } from "./repository/reads.ts";
import { isOpen } from "./lifecycle.ts";
import { applyMassTransition, applyTransition, closeMassEventIfDone, recordStep } from "./commands.ts";
import { listMassEvents, loadMassEvent, loadTimeline } from "./repository/timeline.ts";
import { presentEvent } from "./presenter.ts";

const idParams = z.object({ id: z.coerce.number().int().positive() });

/** Kept for old clients and ignored: the actor is the signed-in user. */
const actor = z
  .object({ type: z.enum(["user", "team", "system"]), id: z.string().min(1).max(64).nullable().default(null) })
  .optional();
const at = z.iso.datetime({ offset: true, message: "an ISO 8601 time with offset, e.g. 2026-11-27T08:00:00Z" }).optional();
const count = z.number().int().min(0).max(100);

const transitionBody = z
  .object({
    to: z.enum(incidentStatuses),
    reason: z.string().trim().min(1).max(500).optional(),
    at,
    lat: z.number().min(-90).max(90).optional(),
    lng: z.number().min(-180).max(180).optional(),
    actor,
    trappedCount: count.optional(),
    injuredCount: count.optional(),
    causeClass: z.enum(causeClasses).optional(),
    causeText: z.string().trim().max(500).optional(),
  })
  .refine((b) => (b.lat === undefined) === (b.lng === undefined), { message: "give lat and lng together", path: ["lat"] });

const transitionsReply = z.object({ incident: incidentView });

/**
 * The list's page marker: opaque to clients (base64url of the last incident's sort key), so the paging
 * scheme can change without breaking them.
 */
const cursorKey = z.object({ reportedAt: z.iso.datetime(), id: z.number().int().positive() });
export const encodeCursor = (c: IncidentCursor) => Buffer.from(JSON.stringify([c.reportedAt, c.id])).toString("base64url");
function decodeCursor(value: string): IncidentCursor | null {
  try {
    const [reportedAt, id] = JSON.parse(Buffer.from(value, "base64url").toString("utf8")) as [unknown, unknown];
    const parsed = cursorKey.safeParse({ reportedAt, id });
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
const cursorParam = z
  .string()
  .max(200)
  .transform((value, ctx) => {
    const cursor = decodeCursor(value);
    if (!cursor) ctx.addIssue({ code: "custom", message: "not a cursor this list gave out (X-Next-Cursor)" });
    return cursor ?? z.NEVER;
  });

export function registerIncidentRoutes(
  api: ApiRouter,
  prisma: PrismaClient,
  deps: { reads: IncidentReads; access: AccessRepository; uow: UnitOfWork; clock?: () => Date; maxFutureSkewMs?: number },
): void {
  const clock = deps.clock ?? (() => new Date());
  const { reads } = deps;
  const scope = accessChecks(deps.access);
  const when = (value: string | undefined) => {
    const now = clock();
    if (value === undefined) return now;
    const t = new Date(value);
    // A phone's clock may run a little ahead; anything further is a typo that would corrupt the intervals.
    if (t.getTime() > now.getTime() + (deps.maxFutureSkewMs ?? 120_000)) {
      throw new ApiError(400, "time_in_future", `at (${value}) lies in the future`);
    }
    return t;
  };
  /**
   * A rescuer acts only on a job its team holds (an accepted offer), and only in the ways listed in the
   * contracts; anything else is refused with 403 (the incident is visible to it, so 404 would be a lie).
   */
  const rescuerMay = async (user: SessionUser, incidentId: number, what: string, allowed: boolean) => {
    if (user.role !== "rescuer") return;
    if (!allowed) throw errors.forbidden(`a rescuer may not ${what}; the centre does that`);
    if (user.teamId === null || !(await deps.access.engaged(user.teamId, [incidentId])).has(incidentId)) {
      throw errors.forbidden(`your team holds no accepted offer on incident ${incidentId}`);
    }
  };
  const loadView = async (id: number) => {
    const view = await reads.view(id);
    if (!view) throw errors.notFound(`incident ${id}`);
    return view;
  };
  api.route({
    method: "get",
    path: "/api/incidents",
    summary:
      "List the incidents the caller may read, newest first; when more follow, the X-Next-Cursor response header holds the `cursor` for the next page",
    tags: ["incidents"],
    // A rescuer lists the incidents its team was offered; a company admin its company's elevators'.
    access: ALL,
    query: z.object({
      open: z.enum(["true", "false"]).default("true").transform((v) => v === "true"),
      limit: z.coerce.number().int().min(1).max(1000).default(200),
      cursor: cursorParam.optional(),
    }),
    response: z.array(incidentView),
    handler: async ({ query, user, res }) => {
      const page = await reads.list(scopeOf(user), { open: query.open, limit: query.limit, after: query.cursor ?? null });
      // A header rather than an envelope keeps the body the array existing clients read.
      if (page.next) res.setHeader("X-Next-Cursor", encodeCursor(page.next));
      return page.items;
    },
  });

  api.route({
    method: "get",
    path: "/api/incidents/{id}",
    summary: "One incident",
    tags: ["incidents"],
    access: [...READERS, "rescuer"],
    scope: (user, { params }) => scope.incident(user, params.id),
    params: idParams,
    response: incidentView,
    handler: ({ params }) => loadView(params.id),
  });

  api.route({
    method: "get",
    path: "/api/incidents/{id}/events",
    summary: "The incident's append-only timeline",
    tags: ["incidents"],
    access: [...READERS, "rescuer"],
    scope: (user, { params }) => scope.incident(user, params.id),
    params: idParams,
    response: z.array(timelineEventView),
    handler: async ({ params }) => {
      const events = await reads.timeline(params.id);
      if (!events) throw errors.notFound(`incident ${params.id}`);
      return events.map(presentEvent);
    },
  });

  api.route({
    method: "get",
    path: "/api/teams/{id}/offers",
    summary: "A team's live offers (to answer, or accepted and not yet finished) with their incidents: what its phone shows",
    tags: ["teams"],
    // Readers see any team (a company admin only its company's), a rescuer only the own team.
    access: ALL,
    scope: (user, { params }) => scope.team(user, params.id),
    params: idParams,
    response: z.array(teamOfferView),
    handler: async ({ params }) => {
      const offers = await reads.teamOffers(params.id);
      if (!offers) throw errors.notFound(`team ${params.id}`);
      const incidents = new Map((await reads.views([...new Set(offers.map((o) => o.incidentId))])).map((v) => [v.id, v]));
      return offers.flatMap((offer) => {
        const incident = incidents.get(offer.incidentId);
        const view = incident?.offers.find((o) => o.id === offer.id);
        if (!incident || !view) return [];
        return [{ ...view, respondedAt: offer.respondedAt?.toISOString() ?? null, arrivedAt: offer.arrivedAt?.toISOString() ?? null, incident }];
      });
    },
  });

  // Lifecycle commands, steps, timeline, mass events.
  api.route({
    method: "post",
    path: "/api/incidents/{id}/transitions",
    summary: "Move an incident to its next status (409 with the allowed next steps when the state machine refuses)",
    tags: ["incidents"],
    access: FIELD,
    scope: (user, { params }) => scope.incident(user, params.id),
    params: idParams,
    body: transitionBody,
    response: transitionsReply,
    handler: async ({ params, body, user }) => {
      await rescuerMay(user, params.id, `move an incident to ${body.to}`, (RESCUER_TRANSITIONS as readonly string[]).includes(body.to));
      await applyTransition(deps.uow, params.id, { ...body, at: when(body.at), actor: actorOfUser(user) });
      const incident = await loadView(params.id);
      if (incident.massEventId !== null && !isOpen(incident.status)) await closeMassEventIfDone(deps.uow, incident.massEventId, when(body.at));
      return { incident };
    },
  });

  api.route({
    method: "post",
    path: "/api/incidents/{id}/steps",
    summary: "Record a step that is not a state: passenger callback (回拨安抚), follow-up call (回访), note, or trapped/injured counts",
    tags: ["incidents"],
    access: FIELD,
    scope: (user, { params }) => scope.incident(user, params.id),
    params: idParams,
    body: z.object({
      type: z.enum(["passenger_callback", "follow_up", "note", "counts"]),
      at,
      actor,
      outcome: z.enum(["reached", "no_answer", "reassured", "satisfied", "complaint", "other"]).optional(),
      note: z.string().trim().max(1000).optional(),
      lat: z.number().min(-90).max(90).optional(),
      lng: z.number().min(-180).max(180).optional(),
      trappedCount: count.optional(),
      injuredCount: count.optional(),
    }),
    status: 201,
    response: transitionsReply,
    handler: async ({ params, body, user }) => {
      await rescuerMay(user, params.id, `record a ${body.type} step`, (RESCUER_STEPS as readonly string[]).includes(body.type));
      await recordStep(deps.uow, params.id, { ...body, at: when(body.at), actor: actorOfUser(user) });
      return { incident: await loadView(params.id) };
    },
  });

  api.route({
    method: "get",
    path: "/api/incidents/{id}/timeline",
    summary: "The append-only timeline with the response intervals computed from it, and the calls attached",
    tags: ["incidents"],
    access: [...READERS, "rescuer"],
    scope: (user, { params }) => scope.incident(user, params.id),
    params: idParams,
    response: timelineView,
    handler: async ({ params }) => {
      const timeline = await loadTimeline(prisma, params.id);
      if (!timeline) throw errors.notFound(`incident ${params.id}`);
      return timeline;
    },
  });

  api.route({
    method: "get",
    path: "/api/mass-events",
    summary: "Mass events (several elevators of one site or area failing together), newest first",
    tags: ["incidents"],
    access: CITY_READERS,
    query: z.object({
      open: z.enum(["true", "false"]).default("true").transform((v) => v === "true"),
      limit: z.coerce.number().int().min(1).max(500).default(50),
    }),
    response: z.array(massEventView),
    handler: ({ query }) => listMassEvents(prisma, query),
  });

  api.route({
    method: "get",
    path: "/api/mass-events/{id}",
    summary: "One mass event with its member incidents",
    tags: ["incidents"],
    access: CITY_READERS,
    params: idParams,
    response: massEventView,
    handler: async ({ params }) => {
      const view = await loadMassEvent(prisma, params.id);
      if (!view) throw errors.notFound(`mass event ${params.id}`);
      return view;
    },
  });

  api.route({
    method: "post",
    path: "/api/mass-events/{id}/transitions",
    summary: "Apply one transition to every member incident where allowed; the refused ones come back with their allowed steps",
    tags: ["incidents"],
    access: OPERATORS,
    params: idParams,
    body: transitionBody,
    response: z.object({
      massEvent: massEventView,
      applied: z.array(z.number().int()),
      refused: z.array(z.object({ incidentId: z.number().int(), status: z.string(), allowed: z.array(z.string()), message: z.string() })),
    }),
    handler: async ({ params, body, user }) => {
      const result = await applyMassTransition(deps.uow, params.id, { ...body, at: when(body.at), actor: actorOfUser(user) });
      const massEvent = await loadMassEvent(prisma, params.id);
      if (!massEvent) throw errors.notFound(`mass event ${params.id}`);
      return { massEvent, ...result };
    },
  });
}
