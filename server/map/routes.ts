import { z } from "zod";
import type { ApiRouter } from "../platform/http.ts";
import { ALL } from "../auth/roles.ts";
import type { PrismaClient } from "../platform/db/generated/client.ts";
import type { Config } from "../platform/config.ts";
import type { Dispatch } from "../dispatch/index.ts";
import { districtView, elevatorCard, elevatorPoints, teamView, type ElevatorPoints } from "../contracts/index.ts";
import { errors } from "../platform/errors.ts";

export function registerMapRoutes(api: ApiRouter, deps: { prisma: PrismaClient; config: Config; dispatch: Dispatch }): void {
  const { prisma, config, dispatch } = deps;

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
    handler: async () => {
      const rows = await prisma.district.findMany({ orderBy: { code: "asc" } });
      return rows.map((d) => ({
        id: d.id,
        code: d.code,
        name: d.name,
        nameEn: d.nameEn,
        central: d.central,
        arrivalLimitMinutes: d.arrivalLimitMinutes,
        center: { lat: d.centerLat, lng: d.centerLng },
        outline: d.outline,
      }));
    },
  });

  api.route({
    method: "get",
    path: "/api/elevators/points",
    summary: "Every elevator's position for the map, in columnar arrays",
    tags: ["map"],
    access: ALL,
    response: elevatorPoints,
    handler: async () => {
      const rows = (await prisma.$queryRaw`
        SELECT e.id, s.lat, s.lng, e."rescueCode" AS "rescueCode", (d.id IS NOT NULL) AS "hasDevice"
        FROM elevators e JOIN sites s ON s.id = e."siteId" LEFT JOIN devices d ON d."elevatorId" = e.id
        ORDER BY e.id`) as { id: number; lat: number; lng: number; rescueCode: string; hasDevice: boolean }[];
      const points: ElevatorPoints = { count: rows.length, id: [], lat: [], lng: [], rescueCode: [], hasDevice: [] };
      for (const row of rows) {
        points.id.push(row.id);
        points.lat.push(row.lat);
        points.lng.push(row.lng);
        points.rescueCode.push(row.rescueCode);
        points.hasDevice.push(row.hasDevice);
      }
      return points;
    },
  });

  api.route({
    method: "get",
    path: "/api/elevators/by-rescue-code/{rescueCode}",
    summary: "The elevator card for a 6-digit rescue code",
    tags: ["elevators"],
    access: ALL,
    params: z.object({ rescueCode: z.string().regex(/^\d{6}$/, "a rescue code has 6 digits") }),
    response: elevatorCard,
    handler: async ({ params }) => {
      const e = await prisma.elevator.findUnique({
        where: { rescueCode: params.rescueCode },
        include: { site: { include: { district: true } }, maintenanceCompany: true, device: { select: { id: true } } },
      });
      if (!e) throw errors.notFound(`elevator with rescue code ${params.rescueCode}`);
      return {
        id: e.id,
        rescueCode: e.rescueCode,
        registrationCode: e.registrationCode,
        type: e.type,
        brand: e.brand,
        model: e.model,
        floors: e.floors,
        unitNo: e.unitNo,
        usageUnit: e.usageUnit,
        installDate: e.installDate.toISOString().slice(0, 10),
        nextInspectionDue: e.nextInspectionDue.toISOString().slice(0, 10),
        lastMaintenanceAt: e.lastMaintenanceAt?.toISOString() ?? null,
        inService: e.inService,
        site: { id: e.site.id, name: e.site.name, address: e.site.address, lat: e.site.lat, lng: e.site.lng },
        district: { id: e.site.district.id, name: e.site.district.name },
        maintenanceCompany: {
          id: e.maintenanceCompany.id,
          name: e.maintenanceCompany.name,
          contactName: e.maintenanceCompany.contactName,
          contactPhone: e.maintenanceCompany.contactPhone,
        },
        deviceId: e.device?.id ?? null,
      };
    },
  });

  api.route({
    method: "get",
    path: "/api/teams",
    summary: "Every rescue team with its live state",
    tags: ["teams"],
    access: ALL,
    response: z.array(teamView),
    handler: async ({ user }) => {
      const teams = dispatch.teams.list();
      return user.role === "company_admin" ? teams.filter((t) => t.maintenanceCompanyId === user.maintenanceCompanyId) : teams;
    },
  });
}
