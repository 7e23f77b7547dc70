import { Prisma, type PrismaClient } from "../platform/db/generated/client.ts";
import type { DbClient } from "../platform/db/types.ts";
import {
  appendEvent,
  eventColumnsSql,
  eventValuesSql,
  jsonbSql,
  lockIncidentRow,
  transitionIncident,
  type EventInput,
  type LockedIncident,
} from "../incidents/repository/writes.ts";
import type { IncidentStatus } from "../incidents/lifecycle.ts";
import { arrivalDeadlinesInsertSql, cancelIncidentDeadlines, cancelOfferTimeout, insertArrivalDeadlines } from "../sla/repository.ts";
import type { DeadlineKind } from "../sla/deadlines.ts";
import { mayTakeAnother, type TeamStatus, type TierPolicy } from "./policy.ts";
import type { IndexedTeam } from "./team-index.ts";

/** What dispatching needs of an incident. */
export interface DispatchIncident {
  id: number;
  code: string;
  status: IncidentStatus;
  arrivalDeadlineAt: Date;
  lat: number;
  lng: number;
  siteId: number;
  companyId: number;
  detourFactor: number;
  offers: { id: number; teamId: number; status: string; tier: number }[];
}

/** A team as stored: what ranking needs, and what the board shows. */
export interface TeamRow extends IndexedTeam {
  name: string;
  phone: string;
  travelSamples: number;
  organisation: string;
}

export interface OfferRow {
  id: number;
  incidentId: number;
  teamId: number;
  status: "offered" | "accepted" | "declined" | "expired" | "withdrawn" | "completed";
  tier: number;
  backup: boolean;
  estimatedArrivalS: number;
  respondedAt: Date | null;
  arrivedAt: Date | null;
}

export interface NewOffer {
  incidentId: number;
  teamId: number;
  tier: number;
  etaS: number;
  distanceM: number;
  backup: boolean;
  offeredAt: Date;
  expiresAt: Date;
  offeredBy: string | null;
  /** Its timeline entry; the new offer's id is merged into the entry's data. */
  entry: EventInput;
  /** The incident's arrival deadline rows, written with the first offer (when not yet there). */
  arrivalDeadlines: { arrivalDeadlineAt: Date; warningAt: Date } | null;
}

export const ACTIVE_OFFER = ["offered", "accepted"] as const;

/**
 * Everything the dispatch services read and write, as they see it. `tx` is the unit of work's
 * transaction (`work.db`); reads without one use the pool. The services know only this interface, so
 * their unit tests run over an in-memory fake (test/unit/dispatch-services.test.ts).
 */
export interface DispatchStore {
  loadTeams(): Promise<{ teams: TeamRow[]; activeOffers: { id: number; teamId: number; siteId: number }[] }>;
  loadIncident(incidentId: number, tx?: DbClient): Promise<DispatchIncident | null>;
  incidentStatus(incidentId: number, tx?: DbClient): Promise<IncidentStatus | null>;
  teamStatus(teamId: number): Promise<TeamStatus | null>;
  /** Locks the incident row until commit (see server/platform/db/locks.ts for the order) and reads it. */
  lockIncident(tx: DbClient, incidentId: number): Promise<LockedIncident | null>;
  transition(tx: DbClient, incidentId: number, to: IncidentStatus, event: Omit<EventInput, "type" | "fromStatus" | "toStatus">, locked?: LockedIncident): Promise<void>;
  appendEvent(tx: DbClient, incidentId: number, event: EventInput): Promise<void>;
  claimTeam(tx: DbClient, teamId: number, siteId: number, policy: TierPolicy): Promise<TeamStatus | null>;
  refreshTeamStatus(tx: DbClient, teamId: number): Promise<TeamStatus>;
  insertOffer(tx: DbClient, offer: NewOffer): Promise<number>;
  offer(offerId: number, tx?: DbClient): Promise<(OfferRow & { siteId: number }) | null>;
  siteOfOffer(offerId: number): Promise<{ incidentId: number; teamId: number; lat: number; lng: number } | null>;
  recordAnswer(tx: DbClient, offerId: number, answer: { status: OfferRow["status"]; respondedAt: Date | null; declineReason?: string }): Promise<void>;
  countOffers(tx: DbClient, incidentId: number, statuses: readonly string[]): Promise<number>;
  recordArrival(tx: DbClient, offerId: number, at: Date, position: { lat?: number; lng?: number }): Promise<void>;
  teamTravel(tx: DbClient, teamId: number): Promise<{ ratio: number; samples: number }>;
  setTeamTravel(tx: DbClient, teamId: number, travel: { ratio: number; samples: number }): Promise<void>;
  endActiveOffers(tx: DbClient, incidentId: number): Promise<{ id: number; teamId: number }[]>;
  setTeamPosition(tx: DbClient, teamId: number, position: { lat: number; lng: number; at: Date }): Promise<number>;
  lockTeamActiveOffers(tx: DbClient, teamId: number): Promise<number | null>;
  setTeamStatus(tx: DbClient, teamId: number, status: TeamStatus): Promise<void>;
  /** Whether the timeline holds an event of `type` written by the check of this deadline row. */
  escalationRecorded(incidentId: number, deadlineId: number, type?: "sla_escalated" | "sla_warning" | "sla_breached"): Promise<boolean>;
  insertArrivalDeadlines(tx: DbClient, incidentId: number, due: { arrivalDeadlineAt: Date; warningAt: Date }): Promise<void>;
  cancelOfferTimeout(tx: DbClient, offerId: number, now: Date): Promise<void>;
  cancelIncidentDeadlines(tx: DbClient, incidentId: number, now: Date, kinds: readonly DeadlineKind[]): Promise<void>;
}

/** Dispatch's SQL: teams, offers, and the offer side of incidents (their timeline and deadline rows). */
export class DispatchRepository implements DispatchStore {
  constructor(private readonly prisma: PrismaClient) {}

  async loadTeams(): Promise<{ teams: TeamRow[]; activeOffers: { id: number; teamId: number; siteId: number }[] }> {
    const teams = (await this.prisma.$queryRaw`
      SELECT t.id, t.name, t.phone, t.kind::text AS kind, t.status::text AS status, t."maintenanceCompanyId", t."baseLat", t."baseLng",
             t.lat, t.lng, t."positionAt", t."travelRatio", t."travelSamples",
             COALESCE(c.name, r.name, f.name, '') AS organisation
      FROM teams t
      LEFT JOIN maintenance_companies c ON c.id = t."maintenanceCompanyId"
      LEFT JOIN rescue_stations r ON r.id = t."rescueStationId"
      LEFT JOIN fire_stations f ON f.id = t."fireStationId"
      ORDER BY t.id`) as TeamRow[];
    const activeOffers = (await this.prisma.$queryRaw`
      SELECT o.id, o."teamId", e."siteId"
      FROM dispatch_offers o JOIN incidents i ON i.id = o."incidentId" JOIN elevators e ON e.id = i."elevatorId"
      WHERE o.status IN ('offered', 'accepted')`) as { id: number; teamId: number; siteId: number }[];
    return { teams, activeOffers };
  }

  /** One plain query (offers aggregated as JSON): a power cut pays every round trip hundreds of times. */
  async loadIncident(incidentId: number, db: DbClient = this.prisma): Promise<DispatchIncident | null> {
    const rows = (await db.$queryRaw`
      SELECT i.id, i.code, i.status::text AS status, i."arrivalDeadlineAt", s.lat, s.lng, e."siteId",
             e."maintenanceCompanyId" AS "companyId", d."detourFactor",
             COALESCE((SELECT json_agg(json_build_object('id', o.id, 'teamId', o."teamId", 'status', o.status, 'tier', o.tier) ORDER BY o.id)
                       FROM dispatch_offers o WHERE o."incidentId" = i.id), '[]'::json) AS offers
      FROM incidents i JOIN elevators e ON e.id = i."elevatorId" JOIN sites s ON s.id = e."siteId"
      JOIN districts d ON d.id = i."districtId"
      WHERE i.id = ${incidentId}::int`) as DispatchIncident[];
    return rows[0] ?? null;
  }

  async incidentStatus(incidentId: number, db: DbClient = this.prisma): Promise<IncidentStatus | null> {
    const rows = (await db.$queryRaw`SELECT status::text AS status FROM incidents WHERE id = ${incidentId}::int`) as { status: IncidentStatus }[];
    return rows[0]?.status ?? null;
  }

  lockIncident(tx: DbClient, incidentId: number): Promise<LockedIncident | null> {
    return lockIncidentRow(tx as Prisma.TransactionClient, incidentId);
  }

  transition(
    tx: DbClient,
    incidentId: number,
    to: IncidentStatus,
    event: Omit<EventInput, "type" | "fromStatus" | "toStatus">,
    locked?: LockedIncident,
  ): Promise<void> {
    return transitionIncident(tx as Prisma.TransactionClient, incidentId, to, event, locked);
  }

  appendEvent(tx: DbClient, incidentId: number, event: EventInput): Promise<void> {
    return appendEvent(tx, incidentId, event);
  }

  insertArrivalDeadlines(tx: DbClient, incidentId: number, due: { arrivalDeadlineAt: Date; warningAt: Date }): Promise<void> {
    return insertArrivalDeadlines(tx, incidentId, due);
  }

  cancelOfferTimeout(tx: DbClient, offerId: number, now: Date): Promise<void> {
    return cancelOfferTimeout(tx, offerId, now);
  }

  cancelIncidentDeadlines(tx: DbClient, incidentId: number, now: Date, kinds: readonly DeadlineKind[]): Promise<void> {
    return cancelIncidentDeadlines(tx, incidentId, now, kinds);
  }

  async teamStatus(teamId: number): Promise<TeamStatus | null> {
    const rows = (await this.prisma.$queryRaw`SELECT status::text AS status FROM teams WHERE id = ${teamId}::int`) as { status: TeamStatus }[];
    return rows[0]?.status ?? null;
  }

  /**
   * Books a team: the conditional UPDATE takes a free team (and its row lock) in one statement; a team
   * already on a job passes only under the same-site rule, checked against committed offers while the
   * row lock is held. Returns the team's status after booking, or null when it cannot be booked.
   */
  async claimTeam(tx: DbClient, teamId: number, siteId: number, policy: TierPolicy): Promise<TeamStatus | null> {
    const claimed = await tx.$executeRaw`
      UPDATE teams SET status = 'offered'::"TeamStatus" WHERE id = ${teamId}::int AND status = 'available'::"TeamStatus"`;
    if (claimed === 1) return "offered";
    if (policy.sameSiteMax <= 1) return null;
    const rows = (await tx.$queryRaw`SELECT status::text AS status FROM teams WHERE id = ${teamId}::int FOR UPDATE`) as { status: TeamStatus }[];
    const status = rows[0]?.status;
    if (status === "offered" || status === "busy") {
      const sites = (await tx.$queryRaw`
        SELECT e."siteId" AS "siteId" FROM dispatch_offers o
        JOIN incidents i ON i.id = o."incidentId" JOIN elevators e ON e.id = i."elevatorId"
        WHERE o."teamId" = ${teamId}::int AND o.status IN ('offered', 'accepted')`) as { siteId: number }[];
      // Already offered or busy: one more lift of the same building leaves its status as it is.
      return mayTakeAnother(
        sites.map((s) => s.siteId),
        siteId,
        policy,
      )
        ? status
        : null;
    }
    // Freed between the UPDATE and the lock: the claim now succeeds, since this transaction holds the lock.
    if (status === "available") return this.claimTeam(tx, teamId, siteId, policy);
    return null;
  }

  /**
   * Team status follows its offers: busy with an accepted one, offered with a pending one, else available.
   * A team its dispatcher took off duty stays off duty. One statement: count, update, and the resulting status.
   */
  async refreshTeamStatus(tx: DbClient, teamId: number): Promise<TeamStatus> {
    const [row] = (await tx.$queryRaw`
      WITH counts AS (
        SELECT count(*) FILTER (WHERE status = 'accepted') AS accepted, count(*) FILTER (WHERE status = 'offered') AS offered
        FROM dispatch_offers WHERE "teamId" = ${teamId}::int),
      updated AS (
        UPDATE teams SET status = (CASE WHEN counts.accepted > 0 THEN 'busy' WHEN counts.offered > 0 THEN 'offered' ELSE 'available' END)::"TeamStatus"
        FROM counts
        WHERE teams.id = ${teamId}::int AND teams.status IN ('available', 'offered', 'busy')
        RETURNING teams.status)
      SELECT COALESCE((SELECT status::text FROM updated), (SELECT status::text FROM teams WHERE id = ${teamId}::int)) AS status`) as {
      status: TeamStatus;
    }[];
    return row!.status;
  }

  /**
   * The offer row, its timeout deadline, its timeline entry and (first offer) the arrival deadlines in one
   * statement, because the new offer's id goes into the others and every round trip is paid per offer.
   */
  async insertOffer(tx: DbClient, offer: NewOffer): Promise<number> {
    const arrival = offer.arrivalDeadlines
      ? Prisma.sql`, arrival AS (${arrivalDeadlinesInsertSql(offer.incidentId, offer.arrivalDeadlines)})`
      : Prisma.empty;
    const [row] = (await tx.$queryRaw`
      WITH offer AS (
        INSERT INTO dispatch_offers ("incidentId", "teamId", tier, backup, "estimatedArrivalS", "distanceM", "offeredAt", "expiresAt", "offeredBy")
        VALUES (${offer.incidentId}::int, ${offer.teamId}::int, ${offer.tier}::int, ${offer.backup}::boolean, ${offer.etaS}::int,
                ${offer.distanceM}::int, ${offer.offeredAt}::timestamp(3), ${offer.expiresAt}::timestamp(3), ${offer.offeredBy}::text)
        RETURNING id),
      timeout AS (
        INSERT INTO sla_deadlines ("incidentId", kind, "dueAt", data)
        SELECT ${offer.incidentId}::int, 'offer_timeout', ${offer.expiresAt}::timestamp(3), jsonb_build_object('offerId', offer.id) FROM offer),
      made AS (
        INSERT INTO incident_events ${eventColumnsSql}
        SELECT ${eventValuesSql(Prisma.sql`${offer.incidentId}::int`, offer.entry, {
          data: Prisma.sql`jsonb_build_object('offerId', offer.id) || ${jsonbSql(offer.entry.data)}`,
        })}
        FROM offer)
      ${arrival}
      SELECT id FROM offer`) as [{ id: number }];
    return row.id;
  }

  async offer(offerId: number, db: DbClient = this.prisma): Promise<(OfferRow & { siteId: number }) | null> {
    const rows = (await db.$queryRaw`
      SELECT o.id, o."incidentId", o."teamId", o.status::text AS status, o.tier, o.backup, o."estimatedArrivalS", o."respondedAt", o."arrivedAt",
             e."siteId"
      FROM dispatch_offers o JOIN incidents i ON i.id = o."incidentId" JOIN elevators e ON e.id = i."elevatorId"
      WHERE o.id = ${offerId}::int`) as (OfferRow & { siteId: number })[];
    return rows[0] ?? null;
  }

  /** The elevator's position, for checking a reported arrival. */
  async siteOfOffer(offerId: number): Promise<{ incidentId: number; teamId: number; lat: number; lng: number } | null> {
    const rows = (await this.prisma.$queryRaw`
      SELECT o."incidentId", o."teamId", s.lat, s.lng
      FROM dispatch_offers o JOIN incidents i ON i.id = o."incidentId" JOIN elevators e ON e.id = i."elevatorId" JOIN sites s ON s.id = e."siteId"
      WHERE o.id = ${offerId}::int`) as { incidentId: number; teamId: number; lat: number; lng: number }[];
    return rows[0] ?? null;
  }

  async recordAnswer(tx: DbClient, offerId: number, answer: { status: OfferRow["status"]; respondedAt: Date | null; declineReason?: string }) {
    await tx.$executeRaw`
      UPDATE dispatch_offers SET status = ${answer.status}::"OfferStatus",
        "respondedAt" = COALESCE(${answer.respondedAt}::timestamp(3), "respondedAt"),
        "declineReason" = COALESCE(${answer.declineReason ?? null}::text, "declineReason")
      WHERE id = ${offerId}::int`;
  }

  async countOffers(tx: DbClient, incidentId: number, statuses: readonly string[]): Promise<number> {
    const [row] = (await tx.$queryRaw`
      SELECT count(*)::int AS n FROM dispatch_offers WHERE "incidentId" = ${incidentId}::int AND status::text IN (${Prisma.join(statuses)})`) as [
      { n: number },
    ];
    return row.n;
  }

  async recordArrival(tx: DbClient, offerId: number, at: Date, position: { lat?: number; lng?: number }): Promise<void> {
    await tx.$executeRaw`
      UPDATE dispatch_offers SET "arrivedAt" = ${at}::timestamp(3), "arrivalLat" = ${position.lat ?? null}::float8, "arrivalLng" = ${position.lng ?? null}::float8
      WHERE id = ${offerId}::int`;
  }

  async teamTravel(tx: DbClient, teamId: number): Promise<{ ratio: number; samples: number }> {
    const [row] = (await tx.$queryRaw`SELECT "travelRatio" AS ratio, "travelSamples" AS samples FROM teams WHERE id = ${teamId}::int`) as [
      { ratio: number; samples: number },
    ];
    return row;
  }

  async setTeamTravel(tx: DbClient, teamId: number, travel: { ratio: number; samples: number }): Promise<void> {
    await tx.$executeRaw`UPDATE teams SET "travelRatio" = ${travel.ratio}::float8, "travelSamples" = ${travel.samples}::int WHERE id = ${teamId}::int`;
  }

  /** Ends the active offers of an ended incident (accepted ones completed, the rest withdrawn). */
  async endActiveOffers(tx: DbClient, incidentId: number): Promise<{ id: number; teamId: number }[]> {
    return (await tx.$queryRaw`
      UPDATE dispatch_offers SET status = (CASE WHEN status = 'accepted' THEN 'completed' ELSE 'withdrawn' END)::"OfferStatus"
      WHERE "incidentId" = ${incidentId}::int AND status IN ('offered', 'accepted')
      RETURNING id, "teamId"`) as { id: number; teamId: number }[];
  }

  async setTeamPosition(tx: DbClient, teamId: number, position: { lat: number; lng: number; at: Date }): Promise<number> {
    return tx.$executeRaw`
      UPDATE teams SET lat = ${position.lat}::float8, lng = ${position.lng}::float8, "positionAt" = ${position.at}::timestamp(3)
      WHERE id = ${teamId}::int`;
  }

  /** Locks the team row and counts its active offers: a team on a job cannot be put off duty. */
  async lockTeamActiveOffers(tx: DbClient, teamId: number): Promise<number | null> {
    const locked = (await tx.$queryRaw`SELECT id FROM teams WHERE id = ${teamId}::int FOR UPDATE`) as { id: number }[];
    if (!locked.length) return null;
    const [row] = (await tx.$queryRaw`
      SELECT count(*)::int AS n FROM dispatch_offers WHERE "teamId" = ${teamId}::int AND status IN ('offered', 'accepted')`) as [{ n: number }];
    return row.n;
  }

  async setTeamStatus(tx: DbClient, teamId: number, status: TeamStatus): Promise<void> {
    await tx.$executeRaw`UPDATE teams SET status = ${status}::"TeamStatus" WHERE id = ${teamId}::int`;
  }

  /** Whether an escalation was already recorded for this deadline (a redelivered check does nothing). */
  async escalationRecorded(incidentId: number, deadlineId: number, type: "sla_escalated" | "sla_warning" | "sla_breached" = "sla_escalated"): Promise<boolean> {
    const rows = (await this.prisma.$queryRaw`
      SELECT 1 FROM incident_events
      WHERE "incidentId" = ${incidentId}::int AND type::text = ${type} AND (data->>'deadlineId')::int = ${deadlineId}::int
      LIMIT 1`) as unknown[];
    return rows.length > 0;
  }
}
