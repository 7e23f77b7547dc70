import { z } from "zod";
import type { ApiRouter } from "../platform/http.ts";
import { CITY_READERS, FIELD, OPERATORS } from "../auth/roles.ts";
import { accessChecks, actorOfUser } from "../auth/scopes.ts";
import type { AccessRepository } from "../auth/repository.ts";
import type { PrismaClient } from "../platform/db/generated/client.ts";
import { incidentView, rankedTeamView, teamView } from "../contracts/index.ts";
import { errors } from "../platform/errors.ts";
import { requireIncidentView } from "../incidents/presenter.ts";
import type { Dispatch } from "./index.ts";

const idParams = z.object({ id: z.coerce.number().int().positive() });
const lat = z.number().min(-90).max(90);
const lng = z.number().min(-180).max(180);
const reason = z.string().trim().min(2).max(500);
/** Kept for old clients and ignored: the timeline records the signed-in user. */
const by = z.string().trim().min(1).max(64).optional();

export function registerDispatchRoutes(api: ApiRouter, deps: { prisma: PrismaClient; access: AccessRepository; dispatch: Dispatch }): void {
  const { prisma, dispatch } = deps;
  const scope = accessChecks(deps.access);
  const incident = (id: number) => requireIncidentView(prisma, id);

  api.route({
    method: "post",
    path: "/api/teams/{id}/position",
    summary: "Report a team's live position (rescuer app or vehicle GPS)",
    tags: ["teams"],
    access: [...FIELD, "company_admin"],
    scope: (user, { params }) => scope.team(user, params.id),
    params: idParams,
    body: z.object({ lat, lng, at: z.iso.datetime({ offset: true }).optional() }),
    response: teamView,
    handler: ({ params, body }) => dispatch.teams.setPosition(params.id, { lat: body.lat, lng: body.lng, at: body.at ? new Date(body.at) : undefined }),
  });

  api.route({
    method: "post",
    path: "/api/teams/{id}/status",
    summary: "Put a team on or off duty (offered and busy follow its offers)",
    tags: ["teams"],
    access: [...FIELD, "company_admin"],
    scope: (user, { params }) => scope.team(user, params.id),
    params: idParams,
    body: z.object({ status: z.enum(["available", "off_duty", "offline"]) }),
    response: teamView,
    handler: ({ params, body }) => dispatch.teams.setStatus(params.id, body.status),
  });

  api.route({
    method: "get",
    path: "/api/incidents/{id}/candidates",
    summary: "Bookable teams per tier ranked by estimated arrival, for choosing by hand",
    tags: ["dispatch"],
    access: CITY_READERS,
    params: idParams,
    query: z.object({ limit: z.coerce.number().int().min(1).max(50).default(5) }),
    response: z.array(rankedTeamView),
    handler: ({ params, query }) => dispatch.offers.candidates(params.id, query.limit),
  });

  api.route({
    method: "post",
    path: "/api/incidents/{id}/offers",
    summary: "Dispatcher: send a chosen team (or the engine's next choice; all tiers at once on request)",
    tags: ["dispatch"],
    access: OPERATORS,
    params: idParams,
    body: z
      .object({
        teamId: z.number().int().positive().optional(),
        backup: z.boolean().optional(),
        allTiers: z.boolean().optional(),
        reason,
        by,
      })
      .refine((b) => !(b.teamId !== undefined && b.allTiers), { message: "teamId and allTiers exclude each other" }),
    response: incidentView,
    status: 201,
    handler: async ({ params, body, user }) => {
      const actor = actorOfUser(user);
      if (body.teamId !== undefined) {
        await dispatch.offers.assign(params.id, body.teamId, { actor, reason: body.reason, backup: body.backup });
      } else {
        const view = await incident(params.id);
        const created = await dispatch.offers.dispatchNext(params.id, { reason: body.reason, allTiers: body.allTiers, backup: body.backup });
        if (created.length === 0) throw errors.conflict(`no bookable team for incident ${params.id} (status ${view.status})`, { status: view.status }, "no_bookable_team");
      }
      return incident(params.id);
    },
  });

  api.route({
    method: "post",
    path: "/api/offers/{id}/accept",
    summary: "Rescuer accepts an offer",
    tags: ["dispatch"],
    access: FIELD,
    scope: (user, { params }) => scope.offer(user, params.id),
    params: idParams,
    body: z.object({ by }),
    response: incidentView,
    handler: async ({ params, user }) => incident(await dispatch.answers.accept(params.id, actorOfUser(user))),
  });

  api.route({
    method: "post",
    path: "/api/offers/{id}/decline",
    summary: "Rescuer declines an offer with a reason; the next team is offered",
    tags: ["dispatch"],
    access: FIELD,
    scope: (user, { params }) => scope.offer(user, params.id),
    params: idParams,
    body: z.object({ reason, by }),
    response: incidentView,
    handler: async ({ params, body, user }) => incident(await dispatch.answers.decline(params.id, body.reason, actorOfUser(user))),
  });

  api.route({
    method: "post",
    path: "/api/offers/{id}/withdraw",
    summary: "Dispatcher override: withdraw an offer, optionally sending another team by hand",
    tags: ["dispatch"],
    access: OPERATORS,
    params: idParams,
    body: z.object({ reason, reassignTeamId: z.number().int().positive().optional(), by }),
    response: incidentView,
    handler: async ({ params, body, user }) =>
      incident(await dispatch.answers.withdraw(params.id, { reason: body.reason, reassignTeamId: body.reassignTeamId, actor: actorOfUser(user) })),
  });

  api.route({
    method: "post",
    path: "/api/offers/{id}/depart",
    summary: "The accepted team sets off (incident en_route)",
    tags: ["dispatch"],
    access: FIELD,
    scope: (user, { params }) => scope.offer(user, params.id),
    params: idParams,
    body: z.object({ lat: lat.optional(), lng: lng.optional(), by }).refine((b) => (b.lat === undefined) === (b.lng === undefined), {
      message: "lat and lng go together",
    }),
    response: incidentView,
    handler: async ({ params, body, user }) => incident(await dispatch.arrival.depart(params.id, { actor: actorOfUser(user), lat: body.lat, lng: body.lng })),
  });

  api.route({
    method: "post",
    path: "/api/offers/{id}/arrive",
    summary: "Team on scene: by position within the arrival radius, or confirmed by a dispatcher with a reason",
    tags: ["dispatch"],
    access: FIELD,
    scope: (user, { params }) => scope.offer(user, params.id),
    params: idParams,
    body: z.union([
      z.object({ lat, lng, by }),
      z.object({ confirm: z.literal(true), reason, lat: lat.optional(), lng: lng.optional(), by }),
    ]),
    response: incidentView,
    handler: async ({ params, body, user }) => {
      const confirmed = "confirm" in body;
      // A crew proves its arrival by position; confirming without one is a dispatcher's call, with a reason.
      if (confirmed && user.role === "rescuer") throw errors.forbidden("a rescuer reports arrival by position; only the centre confirms an arrival without one");
      const { incidentId } = await dispatch.arrival.arrive(params.id, {
        actor: actorOfUser(user),
        lat: body.lat,
        lng: body.lng,
        confirm: confirmed,
        reason: confirmed ? body.reason : undefined,
      });
      return incident(incidentId);
    },
  });
}
