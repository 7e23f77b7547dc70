import { Prisma } from "../platform/db/generated/client.ts";
import type { DbClient } from "../platform/db/types.ts";
import { checkTransition, milestoneColumn, openStatuses, type IncidentStatus } from "./lifecycle.ts";

export interface Actor {
  type: "user" | "device" | "team" | "system";
  id: string | null;
}

export interface OpenIncidentInput {
  elevatorId: number;
  kind: "entrapment" | "fault" | "other";
  source: "call" | "alarm" | "manual";
  reportedAt: Date;
  actor: Actor;
  reason?: string;
  data?: Prisma.InputJsonValue;
}

/**
 * How reports are merged: set once at start from the configuration (INCIDENT_MERGE_WINDOW_MIN, MASS_EVENT_*).
 * Module-level because alarms and calls both reach openOrAttachIncident, and the alarm path should not
 * have to carry incident settings through its signature.
 */
export interface IncidentPolicy {
  /** A report this soon after the elevator's last incident ended is linked to it as a repeat. */
  mergeWindowMs: number;
  /** Incidents counted for a mass event are those reported within this span. */
  massWindowMs: number;
  /** That many incidents in one site (building / estate) within the window form a mass event. */
  massSiteMin: number;
  /** That many incidents in one district within the window form an area mass event. */
  massDistrictMin: number;
}

export const defaultIncidentPolicy: IncidentPolicy = {
  mergeWindowMs: 30 * 60_000,
  massWindowMs: 10 * 60_000,
  massSiteMin: 3,
  massDistrictMin: 10,
};

let policy: IncidentPolicy = defaultIncidentPolicy;

export function setIncidentPolicy(next: IncidentPolicy): void {
  policy = next;
}

export function incidentPolicy(): IncidentPolicy {
  return policy;
}

export class InvalidTransitionError extends Error {
  constructor(
    readonly from: IncidentStatus,
    readonly to: IncidentStatus,
    readonly allowed: IncidentStatus[],
  ) {
    super(`an incident in status ${from} cannot become ${to}; allowed next: ${allowed.join(", ") || "none"}`);
  }
}

function incidentCode(id: number, at: Date): string {
  // Asia/Shanghai calendar day, as dispatchers read it.
  const local = new Date(at.getTime() + 8 * 3600_000).toISOString().slice(0, 10).replaceAll("-", "");
  return `TJ${local}-${String(id).padStart(6, "0")}`;
}

/**
 * Opens an incident for an elevator, or returns the one already open (one incident per elevator event).
 * Must run inside a transaction: the advisory lock on the elevator serialises concurrent reports of the
 * same elevator across processes until commit.
 */
export async function openOrAttachIncident(
  tx: Prisma.TransactionClient,
  input: OpenIncidentInput,
): Promise<{ incidentId: number; created: boolean; repeatOf?: number }> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(96333, ${input.elevatorId})`;
  const open = await tx.incident.findFirst({
    where: { elevatorId: input.elevatorId, status: { in: [...openStatuses] } },
    orderBy: { reportedAt: "desc" },
    select: { id: true },
  });
  if (open) return { incidentId: open.id, created: false };

  // A report shortly after the last incident of this elevator ended is most likely the same fault coming
  // back (or a dismissal that was wrong): it still opens a new incident, because attaching it to a closed
  // one would keep a fresh entrapment out of the dispatchers' queue, but both sides are linked.
  const recent = await tx.incident.findFirst({
    where: { elevatorId: input.elevatorId, closedAt: { gte: new Date(input.reportedAt.getTime() - policy.mergeWindowMs) } },
    orderBy: { closedAt: "desc" },
    select: { id: true, status: true },
  });

  const elevator = await tx.elevator.findUniqueOrThrow({
    where: { id: input.elevatorId },
    select: { site: { select: { district: { select: { id: true, arrivalLimitMinutes: true } } } } },
  });
  const district = elevator.site.district;
  const [{ id }] = (await tx.$queryRaw`SELECT nextval(pg_get_serial_sequence('incidents', 'id'))::int AS id`) as [
    { id: number },
  ];
  await tx.incident.create({
    data: {
      id,
      code: incidentCode(id, input.reportedAt),
      kind: input.kind,
      source: input.source,
      elevatorId: input.elevatorId,
      districtId: district.id,
      reportedAt: input.reportedAt,
      arrivalDeadlineAt: new Date(input.reportedAt.getTime() + district.arrivalLimitMinutes * 60_000),
    },
  });
  const data =
    recent && input.data && typeof input.data === "object" && !Array.isArray(input.data)
      ? { ...(input.data as Record<string, Prisma.InputJsonValue>), repeatOf: recent.id }
      : recent
        ? { repeatOf: recent.id }
        : input.data;
  await appendEvent(tx, id, {
    type: "reported",
    toStatus: "reported",
    actor: input.actor,
    at: input.reportedAt,
    reason: input.reason,
    data,
  });
  if (recent) {
    await appendEvent(tx, recent.id, {
      type: "repeat_report",
      actor: input.actor,
      at: input.reportedAt,
      reason: `elevator reported again ${recent.status === "closed" ? "after closing" : `after ${recent.status}`}`,
      data: { newIncidentId: id },
    });
  }
  return { incidentId: id, created: true, ...(recent ? { repeatOf: recent.id } : {}) };
}

export interface EventInput {
  type: string;
  actor: Actor;
  at: Date;
  fromStatus?: IncidentStatus;
  toStatus?: IncidentStatus;
  reason?: string;
  lat?: number;
  lng?: number;
  data?: Prisma.InputJsonValue;
}

function eventRow(incidentId: number, event: EventInput) {
  return {
    incidentId,
    type: event.type,
    fromStatus: event.fromStatus,
    toStatus: event.toStatus,
    actorType: event.actor.type,
    actorId: event.actor.id,
    at: event.at,
    reason: event.reason,
    lat: event.lat,
    lng: event.lng,
    data: event.data,
  };
}

export async function appendEvent(db: DbClient, incidentId: number, event: EventInput): Promise<void> {
  await db.incidentEvent.create({ data: eventRow(incidentId, event) });
}

/** The same entry on many incidents' timelines in one statement (a mass event's members). */
export async function appendEventToMany(db: DbClient, incidentIds: readonly number[], event: EventInput): Promise<void> {
  if (incidentIds.length) await db.incidentEvent.createMany({ data: incidentIds.map((id) => eventRow(id, event)) });
}

/**
 * Moves an incident to a new status inside a transaction: checks the state machine, sets the milestone
 * time the first time, bumps the version and appends the transition to the timeline.
 */
export async function transitionIncident(
  tx: Prisma.TransactionClient,
  incidentId: number,
  to: IncidentStatus,
  event: Omit<EventInput, "type" | "fromStatus" | "toStatus">,
): Promise<void> {
  const rows = (await tx.$queryRaw`
    SELECT status::text AS status, kind::text AS kind FROM incidents WHERE id = ${incidentId} FOR UPDATE`) as {
    status: IncidentStatus;
    kind: "entrapment" | "fault" | "other";
  }[];
  const current = rows[0];
  if (!current) throw new Error(`incident ${incidentId} does not exist`);
  const check = checkTransition(current.status, to, current.kind);
  if (!check.ok) throw new InvalidTransitionError(check.from, check.to, check.allowed);
  const column = milestoneColumn[to as keyof typeof milestoneColumn] as string | undefined;
  // One statement: the milestone keeps the first time the status was reached (COALESCE); the column name
  // comes from the fixed milestone map, never from input.
  const milestone = column ? Prisma.sql`, ${Prisma.raw(`"${column}"`)} = COALESCE(${Prisma.raw(`"${column}"`)}, ${event.at})` : Prisma.empty;
  await tx.$executeRaw`
    UPDATE incidents SET status = ${to}::"IncidentStatus", version = version + 1, "updatedAt" = now() ${milestone}
    WHERE id = ${incidentId}`;
  await appendEvent(tx, incidentId, { ...event, type: "transition", fromStatus: current.status, toStatus: to });
}
