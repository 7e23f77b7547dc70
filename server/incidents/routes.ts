import { z } from "zod";
import type { ApiRouter } from "../platform/http.ts";
import type { PrismaClient } from "../platform/db/generated/client.ts";
import { incidentView } from "../contracts/index.ts";
import { errors } from "../platform/errors.ts";
import { listIncidentViews, loadIncidentView } from "./presenter.ts";

const idParams = z.object({ id: z.coerce.number().int().positive() });

export function registerIncidentRoutes(api: ApiRouter, prisma: PrismaClient): void {
  api.route({
    method: "get",
    path: "/api/incidents",
    summary: "List incidents, newest first",
    tags: ["incidents"],
    query: z.object({
      open: z.enum(["true", "false"]).default("true").transform((v) => v === "true"),
      limit: z.coerce.number().int().min(1).max(1000).default(200),
    }),
    response: z.array(incidentView),
    handler: ({ query }) => listIncidentViews(prisma, query),
  });

  api.route({
    method: "get",
    path: "/api/incidents/{id}",
    summary: "One incident",
    tags: ["incidents"],
    params: idParams,
    response: incidentView,
    handler: async ({ params }) => {
      const view = await loadIncidentView(prisma, params.id);
      if (!view) throw errors.notFound(`incident ${params.id}`);
      return view;
    },
  });

  api.route({
    method: "get",
    path: "/api/incidents/{id}/events",
    summary: "The incident's append-only timeline",
    tags: ["incidents"],
    params: idParams,
    response: z.array(
      z.object({
        id: z.string(),
        type: z.string(),
        fromStatus: z.string().nullable(),
        toStatus: z.string().nullable(),
        actorType: z.string(),
        actorId: z.string().nullable(),
        at: z.string(),
        reason: z.string().nullable(),
        data: z.unknown(),
      }),
    ),
    handler: async ({ params }) => {
      const exists = await prisma.incident.count({ where: { id: params.id } });
      if (!exists) throw errors.notFound(`incident ${params.id}`);
      const events = await prisma.incidentEvent.findMany({ where: { incidentId: params.id }, orderBy: [{ at: "asc" }, { id: "asc" }] });
      return events.map((e) => ({
        id: e.id.toString(),
        type: e.type,
        fromStatus: e.fromStatus,
        toStatus: e.toStatus,
        actorType: e.actorType,
        actorId: e.actorId,
        at: e.at.toISOString(),
        reason: e.reason,
        data: e.data,
      }));
    },
  });
}
