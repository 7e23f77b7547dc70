import type { PrismaClient } from "../platform/db/generated/client.ts";
import type { DistrictView, ElevatorPoints } from "../contracts/index.ts";
import type { ActorScope } from "../auth/actor-scope.ts";
import { elevatorInScope } from "../auth/repository.ts";

/** The map's reads: district outlines and the positions of the elevators an actor may see. */
export interface MapRepository {
  districts(): Promise<DistrictView[]>;
  /** Columnar arrays, so 200,000 points cost one array per field rather than one object each. */
  elevatorPoints(scope: ActorScope): Promise<ElevatorPoints>;
}

export function createMapRepository(prisma: PrismaClient): MapRepository {
  return {
    async districts() {
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
      })) as DistrictView[];
    },
    async elevatorPoints(scope) {
      const rows = await prisma.$queryRaw<{ id: number; lat: number; lng: number; rescueCode: string; hasDevice: boolean }[]>`
        SELECT e.id, s.lat, s.lng, e."rescueCode" AS "rescueCode", (d.id IS NOT NULL) AS "hasDevice"
        FROM elevators e JOIN sites s ON s.id = e."siteId" LEFT JOIN devices d ON d."elevatorId" = e.id
        WHERE ${elevatorInScope(scope)}
        ORDER BY e.id`;
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
  };
}
