import type { IncidentView, OfferView } from "../../../server/contracts/index.ts";

const kindRank: Record<IncidentView["kind"], number> = { entrapment: 0, fault: 1, other: 2 };

/** Entrapments before faults, then the oldest first report first. */
export function byUrgency(a: IncidentView, b: IncidentView): number {
  return (
    kindRank[a.kind] - kindRank[b.kind] ||
    Date.parse(a.reportedAt) - Date.parse(b.reportedAt) ||
    a.id - b.id
  );
}

const offerRank: Partial<Record<OfferView["status"], number>> = { accepted: 0, completed: 1, offered: 2 };

/** Offers still meaning "this team is on it or being asked", assigned ones first. */
export function activeOffers(incident: IncidentView): OfferView[] {
  return incident.offers
    .filter((o) => offerRank[o.status] !== undefined)
    .sort(
      (a, b) =>
        (offerRank[a.status] ?? 9) - (offerRank[b.status] ?? 9) ||
        Number(a.backup) - Number(b.backup) ||
        Date.parse(b.offeredAt) - Date.parse(a.offeredAt),
    );
}

export function etaMinutes(offer: OfferView): number {
  return Math.max(1, Math.ceil(offer.estimatedArrivalS / 60));
}

export interface QueueFilter {
  districtId: number | null;
  status: IncidentView["status"] | null;
  /** A tier of an active offer, or "none" for incidents nobody is on yet. */
  tier: number | "none" | null;
}

export const noFilter: QueueFilter = { districtId: null, status: null, tier: null };

export function matchesFilter(incident: IncidentView, filter: QueueFilter): boolean {
  if (filter.districtId !== null && incident.district.id !== filter.districtId) return false;
  if (filter.status !== null && incident.status !== filter.status) return false;
  if (filter.tier !== null) {
    const offers = activeOffers(incident);
    if (filter.tier === "none" ? offers.length > 0 : !offers.some((o) => o.tier === filter.tier)) return false;
  }
  return true;
}

export type QueueEntry =
  | { type: "incident"; incident: IncidentView }
  | { type: "mass"; massEventId: number; incidents: IncidentView[] };

/**
 * Incidents of one mass event (a power cut in a building, a storm in a district) are shown together,
 * in the place of their most urgent member, so twenty entrapments in one block read as one situation
 * and do not bury the single one elsewhere. `sorted` must already be in urgency order.
 */
export function groupByMassEvent(sorted: readonly IncidentView[], knownMassEvents: ReadonlySet<number>): QueueEntry[] {
  const entries: QueueEntry[] = [];
  const groups = new Map<number, { type: "mass"; massEventId: number; incidents: IncidentView[] }>();
  for (const incident of sorted) {
    const id = incident.massEventId;
    if (id === null || !knownMassEvents.has(id)) {
      entries.push({ type: "incident", incident });
      continue;
    }
    let group = groups.get(id);
    if (!group) {
      group = { type: "mass", massEventId: id, incidents: [] };
      groups.set(id, group);
      entries.push(group);
    }
    group.incidents.push(incident);
  }
  // A "group" of one is just an incident.
  return entries.map((e) => (e.type === "mass" && e.incidents.length === 1 ? { type: "incident", incident: e.incidents[0]! } : e));
}
