import type { Alarm, PrismaClient } from "../platform/db/generated/client.ts";

/**
 * The alarm reads and the acknowledgement the alarm routes make. Raising, repeating and clearing alarms
 * from devices is the alarm service's (server/alarms/service.ts).
 */

export interface AlarmFilter {
  active?: boolean;
  acknowledged?: boolean;
  elevatorId?: number;
  deviceId?: string;
  /** Keyset paging: only alarms with a smaller id (the last id of the previous page). */
  before?: number;
  limit: number;
}

export interface AlarmRepository {
  /** Newest first. */
  list(filter: AlarmFilter): Promise<Alarm[]>;
  /** Marks the alarm acknowledged unless it already was (the first acknowledgement is kept); null when it does not exist. */
  acknowledge(id: number, by: string, at: Date): Promise<Alarm | null>;
}

export function createAlarmRepository(prisma: PrismaClient): AlarmRepository {
  return {
    list: (filter) =>
      prisma.alarm.findMany({
        where: {
          ...(filter.active !== undefined ? { active: filter.active } : {}),
          ...(filter.acknowledged !== undefined ? { acknowledged: filter.acknowledged } : {}),
          ...(filter.elevatorId !== undefined ? { elevatorId: filter.elevatorId } : {}),
          ...(filter.deviceId !== undefined ? { deviceId: filter.deviceId } : {}),
          ...(filter.before !== undefined ? { id: { lt: filter.before } } : {}),
        },
        orderBy: { id: "desc" },
        take: filter.limit,
      }),
    async acknowledge(id, by, at) {
      await prisma.alarm.updateMany({ where: { id, acknowledged: false }, data: { acknowledged: true, ackAt: at, ackBy: by } });
      return prisma.alarm.findUnique({ where: { id } });
    },
  };
}
