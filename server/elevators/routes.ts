import { z } from "zod";
import type { ApiRouter } from "../platform/http.ts";
import { CITY_READERS } from "../auth/roles.ts";
import { lookupResult } from "../contracts/index.ts";
import { ElevatorLookup } from "./lookup.ts";
import type { ElevatorRepository } from "./repository.ts";

export function registerElevatorLookupRoutes(api: ApiRouter, deps: { elevators: ElevatorRepository }): void {
  const lookup = new ElevatorLookup(deps.elevators);
  api.route({
    method: "get",
    path: "/api/elevators/lookup",
    summary:
      "Identify an elevator: q = 6-digit rescue code | 20-digit registration code | caller's phone number | address or building name (fuzzy); plus caller history and open alarms nearby",
    tags: ["elevators"],
    access: CITY_READERS,
    query: z
      .object({
        q: z.string().trim().min(1, "q must not be empty").max(100).optional(),
        caller: z.string().trim().regex(/^\+?[0-9][0-9 -]{2,24}$/, "caller is a phone number").optional(),
        lat: z.coerce.number().min(-90).max(90).optional(),
        lng: z.coerce.number().min(-180).max(180).optional(),
        radiusM: z.coerce.number().int().min(50).max(20_000).default(1000),
        limit: z.coerce.number().int().min(1).max(100).default(20),
      })
      .refine((v) => (v.lat === undefined) === (v.lng === undefined), { message: "give lat and lng together", path: ["lat"] })
      .refine((v) => v.q !== undefined || v.caller !== undefined || v.lat !== undefined, {
        message: "give q (code, number, address or name), caller, or lat and lng",
        path: ["q"],
      }),
    response: lookupResult,
    handler: ({ query }) => lookup.lookup(query),
  });
}
