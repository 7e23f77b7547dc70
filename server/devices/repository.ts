import { Prisma, type PrismaClient } from "../platform/db/generated/client.ts";

/** The device registry's rows: the only place its SQL lives. */

export interface DeviceRow {
  id: string;
  elevatorId: number | null;
  firmware: string | null;
  secretHash: string;
  online: boolean;
  lastSeenAt: Date | null;
  disabledAt: Date | null;
  createdAt: Date;
}

export interface NewDevice {
  id: string;
  elevatorId: number | null;
  firmware: string | null;
  secretHash: string;
  mosquittoHash: string;
}

export interface DeviceChange {
  /** A number binds the device to that elevator, null unbinds it. */
  elevatorId?: number | null;
  secretHash?: string;
  mosquittoHash?: string;
  disabledAt?: Date | null;
}

/** A write's outcome: the row, or why there is none (no such device; the id or the elevator is taken). */
export type DeviceWrite = { ok: true; device: DeviceRow } | { ok: false; reason: "missing" | "taken" };

export interface DeviceRepository {
  /** Every device, for the in-memory registry the broker authenticates against. */
  all(): Promise<DeviceRow[]>;
  find(id: string): Promise<DeviceRow | null>;
  /** The device bound to an elevator, if any. */
  boundTo(elevatorId: number): Promise<string | null>;
  elevatorExists(elevatorId: number): Promise<boolean>;
  create(device: NewDevice): Promise<DeviceWrite>;
  update(id: string, change: DeviceChange): Promise<DeviceWrite>;
  /** Enabled devices' Mosquitto password hashes by id (null for devices registered before they were stored). */
  brokerLogins(): Promise<{ id: string; mosquittoHash: string | null }[]>;
}

const columns = {
  id: true,
  elevatorId: true,
  firmware: true,
  secretHash: true,
  online: true,
  lastSeenAt: true,
  disabledAt: true,
  createdAt: true,
} as const;

// Driver adapters report some constraint errors as P2002 and others only through the driver's SQLSTATE.
const isUnique = (e: unknown) =>
  (e instanceof Prisma.PrismaClientKnownRequestError && e.code === "P2002") || /23505|Unique constraint/i.test(String((e as Error)?.message ?? ""));
const isMissing = (e: unknown) => e instanceof Prisma.PrismaClientKnownRequestError && e.code === "P2025";

export function createDeviceRepository(prisma: PrismaClient): DeviceRepository {
  const write = async (run: () => Promise<DeviceRow>): Promise<DeviceWrite> => {
    try {
      return { ok: true, device: await run() };
    } catch (error) {
      if (isMissing(error)) return { ok: false, reason: "missing" };
      if (isUnique(error)) return { ok: false, reason: "taken" };
      throw error;
    }
  };
  return {
    all: () => prisma.device.findMany({ select: columns }),
    find: (id) => prisma.device.findUnique({ where: { id }, select: columns }),
    async boundTo(elevatorId) {
      return (await prisma.device.findUnique({ where: { elevatorId }, select: { id: true } }))?.id ?? null;
    },
    async elevatorExists(elevatorId) {
      return (await prisma.elevator.findUnique({ where: { id: elevatorId }, select: { id: true } })) !== null;
    },
    create: (device) => write(() => prisma.device.create({ data: device, select: columns })),
    update: (id, change) => write(() => prisma.device.update({ where: { id }, data: change, select: columns })),
    brokerLogins: () => prisma.device.findMany({ where: { disabledAt: null }, select: { id: true, mosquittoHash: true }, orderBy: { id: "asc" } }),
  };
}
