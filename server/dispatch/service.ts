import type { PrismaClient } from "../platform/db/generated/client.ts";
import type { DomainEvents } from "../platform/events.ts";
import type { Logger } from "../platform/logger.ts";
import type { TeamView } from "../contracts/index.ts";
import { appendEvent, transitionIncident } from "../incidents/service.ts";
import { chooseTeam, type TeamCandidate } from "./ranking.ts";

interface LiveTeam extends TeamCandidate {
  name: string;
  phone: string;
  organisation: string;
}

const POSITION_STALE_MS = 5 * 60_000;

/**
 * Team state lives in memory (rebuilt from the database at start) so ranking never waits on a query;
 * every change is written to the database first, guarded by a conditional update so that no team is
 * booked twice, even by another server process.
 */
export class DispatchService {
  private readonly teams = new Map<number, LiveTeam>();

  constructor(
    private readonly prisma: PrismaClient,
    private readonly events: DomainEvents,
    private readonly log: Logger,
    private readonly options: { offerTimeoutS: number; clock: () => Date },
  ) {}

  async load(): Promise<void> {
    const rows = await this.prisma.team.findMany({
      include: { maintenanceCompany: true, rescueStation: true, fireStation: true },
    });
    this.teams.clear();
    for (const row of rows) {
      this.teams.set(row.id, {
        id: row.id,
        name: row.name,
        phone: row.phone,
        kind: row.kind,
        status: row.status,
        maintenanceCompanyId: row.maintenanceCompanyId,
        baseLat: row.baseLat,
        baseLng: row.baseLng,
        lat: row.lat,
        lng: row.lng,
        positionAt: row.positionAt,
        organisation: row.maintenanceCompany?.name ?? row.rescueStation?.name ?? row.fireStation?.name ?? "",
      });
    }
  }

  listTeams(): TeamView[] {
    return [...this.teams.values()].map(presentTeam);
  }

  team(id: number): TeamView | null {
    const team = this.teams.get(id);
    return team ? presentTeam(team) : null;
  }

  /** Offers the incident to the best available team; returns the offer id, or null when nobody is free. */
  async autoDispatch(incidentId: number): Promise<number | null> {
    const incident = await this.prisma.incident.findUniqueOrThrow({
      where: { id: incidentId },
      include: { elevator: { include: { site: true } }, district: true },
    });
    if (incident.status !== "reported") return null;
    const target = { lat: incident.elevator.site.lat, lng: incident.elevator.site.lng };
    const tried = new Set<number>();
    for (;;) {
      const now = this.options.clock();
      const candidates = [...this.teams.values()].filter((team) => !tried.has(team.id));
      const best = chooseTeam(target, incident.elevator.maintenanceCompanyId, candidates, {
        now,
        detourFactor: incident.district.detourFactor,
        staleAfterMs: POSITION_STALE_MS,
      });
      if (!best) {
        this.log.warn({ incidentId }, "no available team to offer");
        return null;
      }
      tried.add(best.teamId);
      const offerId = await this.prisma.$transaction(async (tx) => {
        const claimed = await tx.team.updateMany({
          where: { id: best.teamId, status: "available" },
          data: { status: "offered" },
        });
        if (claimed.count === 0) return null;
        const offer = await tx.dispatchOffer.create({
          data: {
            incidentId,
            teamId: best.teamId,
            tier: best.tier,
            estimatedArrivalS: best.etaS,
            distanceM: best.distanceM,
            offeredAt: now,
            expiresAt: new Date(now.getTime() + this.options.offerTimeoutS * 1000),
          },
        });
        const actor = { type: "system" as const, id: "dispatch" };
        await appendEvent(tx, incidentId, {
          type: "offer_made",
          actor,
          at: now,
          data: { offerId: offer.id, teamId: best.teamId, tier: best.tier, etaS: best.etaS, distanceM: best.distanceM },
        });
        await transitionIncident(tx, incidentId, "dispatched", { actor, at: now, reason: "offered to nearest team" });
        return offer.id;
      });
      if (offerId === null) {
        // Someone else booked the team meanwhile: refresh it and try the next one.
        const fresh = await this.prisma.team.findUnique({ where: { id: best.teamId }, select: { status: true } });
        const live = this.teams.get(best.teamId);
        if (live && fresh) live.status = fresh.status;
        continue;
      }
      const live = this.teams.get(best.teamId);
      if (live) live.status = "offered";
      this.events.emit("team.changed", { teamId: best.teamId });
      this.events.emit("incident.changed", { incidentId });
      return offerId;
    }
  }
}

function presentTeam(team: LiveTeam): TeamView {
  return {
    id: team.id,
    name: team.name,
    kind: team.kind,
    status: team.status,
    phone: team.phone,
    lat: team.lat ?? team.baseLat,
    lng: team.lng ?? team.baseLng,
    positionAt: team.positionAt ? team.positionAt.toISOString() : null,
    maintenanceCompanyId: team.maintenanceCompanyId,
    organisation: team.organisation,
  };
}
