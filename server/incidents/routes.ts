import { z } from "zod";
import type { ApiRouter } from "../platform/http.ts";
import { ALL, CITY_READERS, FIELD, OPERATORS, READERS } from "../auth/roles.ts";
import { actorOfUser, scopes } from "../auth/scopes.ts";
import type { PrismaClient } from "../platform/db/generated/client.ts";
import { causeClasses, incidentStatuses, incidentView, massEventView, teamOfferView, timelineEventView, timelineView } from "../contracts/index.ts";
import { ApiError, errors } from "../platform/errors.ts";
import type { DomainEvents } from "../platform/events.ts";
import { listIncidentViews, loadIncidentViews, requireIncidentView } from "./presenter.ts";
import { isOpen } from "./lifecycle.ts";
import { applyMassTransition, applyTransition, closeMassEventIfDone, listMassEvents, loadMassEvent, loadTimeline, presentEvent, recordStep } from "./commands.ts";

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

export function registerIncidentRoutes(
  api: ApiRouter,
  prisma: PrismaClient,
  deps: { events?: DomainEvents; clock?: () => Date; maxFutureSkewMs?: number } = {},
): void {
  const clock = deps.clock ?? (() => new Date());
  const scope = scopes(prisma);
  const changed = (incidentId: number) => deps.events?.emit("incident.changed", { incidentId });
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
  const loadView = (id: number) => requireIncidentView(prisma, id);
  api.route({
    method: "get",
    path: "/api/incidents",
    summary: "List incidents, newest first",
    tags: ["incidents"],
    access: READERS,
    query: z.object({
      open: z.enum(["true", "false"]).default("true").transform((v) => v === "true"),
      limit: z.coerce.number().int().min(1).max(1000).default(200),
    }),
    response: z.array(incidentView),
    handler: async ({ query, user }) => {
      const views = await listIncidentViews(prisma, query);
      if (user.role !== "company_admin") return views;
      const own = await prisma.incident.findMany({
        where: { id: { in: views.map((v) => v.id) }, elevator: { maintenanceCompanyId: user.maintenanceCompanyId ?? -1 } },
        select: { id: true },
      });
      const ids = new Set(own.map((r) => r.id));
      return views.filter((v) => ids.has(v.id));
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
      const exists = await prisma.incident.count({ where: { id: params.id } });
      if (!exists) throw errors.notFound(`incident ${params.id}`);
      const events = await prisma.incidentEvent.findMany({ where: { incidentId: params.id }, orderBy: [{ at: "asc" }, { id: "asc" }] });
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
      if (!(await prisma.team.count({ where: { id: params.id } }))) throw errors.notFound(`team ${params.id}`);
      const offers = await prisma.dispatchOffer.findMany({
        where: { teamId: params.id, status: { in: ["offered", "accepted"] } },
        orderBy: [{ offeredAt: "asc" }, { id: "asc" }],
      });
      const incidents = new Map((await loadIncidentViews(prisma, [...new Set(offers.map((o) => o.incidentId))])).map((v) => [v.id, v]));
      return offers.flatMap((offer) => {
        const incident = incidents.get(offer.incidentId);
        const view = incident?.offers.find((o) => o.id === offer.id);
        if (!incident || !view) return [];
        return [{ ...view, respondedAt: offer.respondedAt?.toISOString() ?? null, arrivedAt: offer.arrivedAt?.toISOString() ?? null, incident }];
      });
    },
  });

  // ---- lifecycle commands, steps, timeline, mass events ----
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
      await applyTransition(prisma, params.id, { ...body, at: when(body.at), actor: actorOfUser(user) });
      changed(params.id);
      const incident = await loadView(params.id);
      if (incident.massEventId !== null && !isOpen(incident.status)) {
        await closeMassEventIfDone(prisma, incident.massEventId, when(body.at));
        deps.events?.emit("mass_event.changed", { massEventId: incident.massEventId });
      }
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
      await recordStep(prisma, params.id, { ...body, at: when(body.at), actor: actorOfUser(user) });
      changed(params.id);
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
      const result = await applyMassTransition(prisma, params.id, { ...body, at: when(body.at), actor: actorOfUser(user) });
      for (const id of result.applied) changed(id);
      deps.events?.emit("mass_event.changed", { massEventId: params.id });
      const massEvent = await loadMassEvent(prisma, params.id);
      if (!massEvent) throw errors.notFound(`mass event ${params.id}`);
      return { massEvent, ...result };
    },
  });
}
