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
