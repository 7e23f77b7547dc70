import type { Database } from "./db/index.ts";
import { createAnalyticsRepository, type AnalyticsRepository } from "../analytics/repository.ts";
import { createAlarmRepository, type AlarmRepository } from "../alarms/repository.ts";
import { createAuditRepository, type AuditRepository } from "../audit/repository.ts";
import { createAuthRepository, type AuthRepository } from "../auth/repository.ts";
import { createDeviceRepository, type DeviceRepository } from "../devices/repository.ts";
import { createElevatorRepository, type ElevatorRepository } from "../elevators/repository.ts";
import { createIncidentReads, type IncidentReads } from "../incidents/repository/reads.ts";
import { createMapRepository, type MapRepository } from "../map/repository.ts";

/** Every capability's repository, built once at the composition root and passed to routes and services. */
export interface Repositories {
  alarms: AlarmRepository;
  analytics: AnalyticsRepository;
  audit: AuditRepository;
  auth: AuthRepository;
  devices: DeviceRepository;
  elevators: ElevatorRepository;
  incidents: IncidentReads;
  map: MapRepository;
}

export function createRepositories(db: Pick<Database, "prisma">): Repositories {
  const { prisma } = db;
  return {
    alarms: createAlarmRepository(prisma),
    analytics: createAnalyticsRepository(prisma),
    audit: createAuditRepository(prisma),
    auth: createAuthRepository(prisma),
    devices: createDeviceRepository(prisma),
    elevators: createElevatorRepository(prisma),
    incidents: createIncidentReads(prisma),
    map: createMapRepository(prisma),
  };
}
