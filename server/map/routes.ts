import { z } from "zod";
import type { ApiRouter } from "../platform/http.ts";
import { ALL } from "../auth/roles.ts";
import type { Config } from "../platform/config.ts";
import type { Dispatch } from "../dispatch/index.ts";
import { districtView, elevatorCard, elevatorPoints, teamView } from "../contracts/index.ts";
import { errors } from "../platform/errors.ts";
import { scopeOf, teamListedTo } from "../auth/actor-scope.ts";
import type { ElevatorRepository } from "../elevators/repository.ts";
import type { MapRepository } from "./repository.ts";
import type { AccessRepository } from "../auth/repository.ts";
import { accessChecks } from "../auth/scopes.ts";

export function registerMapRoutes(
  api: ApiRouter,
  deps: { map: MapRepository; elevators: ElevatorRepository; access: AccessRepository; config: Config; dispatch: Pick<Dispatch, "teams"> },
): void {
  const { map, elevators, config, dispatch } = deps;
  const scope = accessChecks(deps.access);

  api.route({
    method: "get",
    path: "/api/client-config",
    summary: "Settings the console needs before it draws the map",
    tags: ["map"],
    access: "public",
    response: z.object({
      tiles: z.enum(["osm", "tianditu", "amap", "none"]),
      tiandituKey: z.string().nullable(),
      center: z.object({ lat: z.number(), lng: z.number() }),
      zoom: z.number().int(),
    }),
    handler: async () => ({
      tiles: config.map.tiles,
      tiandituKey: config.map.tiandituKey,
      center: { lat: 39.12, lng: 117.2 },
      zoom: 11,
    }),
  });

  api.route({
    method: "get",
    path: "/api/districts",
    summary: "Districts with their outlines (GeoJSON, WGS-84)",
    tags: ["map"],
    access: ALL,
    response: z.array(districtView),
    handler: () => map.districts(),
  });

  api.route({
    method: "get",
    path: "/api/elevators/points",
    summary: "The positions of the elevators the caller may see (a company its own, a crew its jobs'), in columnar arrays",
    tags: ["map"],
    access: ALL,
    response: elevatorPoints,
    handler: ({ user }) => map.elevatorPoints(scopeOf(user)),
  });

  api.route({
    method: "get",
    path: "/api/elevators/by-rescue-code/{rescueCode}",
    summary: "The elevator card for a 6-digit rescue code (a company its own elevators, a crew its jobs')",
    tags: ["elevators"],
    access: ALL,
    params: z.object({ rescueCode: z.string().regex(/^\d{6}$/, "a rescue code has 6 digits") }),
    response: elevatorCard,
    handler: async ({ params, user }) => {
      const card = await elevators.card(params.rescueCode);
      // Outside the caller's scope looks the same as no such code.
      if (!card || !(await scope.elevator(user, card.id))) throw errors.notFound(`elevator with rescue code ${params.rescueCode}`);
      return card;
    },
  });

  api.route({
    method: "get",
    path: "/api/teams",
    summary: "Every rescue team with its live state",
    tags: ["teams"],
    access: ALL,
    response: z.array(teamView),
    // The teams are the dispatch engine's live state in memory: no query to scope, and no page to cut short.
    handler: async ({ user }) => {
      const scope = scopeOf(user);
      return dispatch.teams.list().filter((team) => teamListedTo(scope, team));
    },
  });
}
