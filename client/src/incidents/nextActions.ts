import type { IncidentView, OfferView, TimelineEventView } from "../../../server/contracts/index.ts";
import { allowedNext, isOpen } from "../../../server/contracts/index.ts";

/** Statuses in which the dispatch engine still books teams (mirrors server/dispatch/service.ts). */
const DISPATCHABLE: ReadonlySet<IncidentView["status"]> = new Set(["reported", "dispatched", "accepted", "en_route"]);

export type DetailAction =
  | "dispatch"
  | "accept"
  | "depart"
  | "arrive"
  | "release"
  | "close"
  | "cancel"
  | "false_alarm"
  | "callback"
  | "note";

export interface ActionPlan {
  actions: ReadonlySet<DetailAction>;
  /** The offer an acceptance is recorded for (primary before backup, oldest first). */
  offerToAccept: OfferView | null;
  /** The accepted offer that departure and arrival are recorded for. */
  assignedOffer: OfferView | null;
}

function byPrimaryThenOldest(a: OfferView, b: OfferView): number {
  return Number(a.backup) - Number(b.backup) || Date.parse(a.offeredAt) - Date.parse(b.offeredAt) || a.id - b.id;
}

/**
 * What a dispatcher may do next, from the incident alone: the server's state machine decides the
 * transitions, the offers decide which field step (accept, depart, arrive) is recorded for whom.
 */
export function planActions(incident: IncidentView): ActionPlan {
  const actions = new Set<DetailAction>();
  const status = incident.status;
  if (!isOpen(status)) return { actions, offerToAccept: null, assignedOffer: null };

  const offered = incident.offers.filter((o) => o.status === "offered").sort(byPrimaryThenOldest);
  const accepted = incident.offers.filter((o) => o.status === "accepted").sort(byPrimaryThenOldest);
  const offerToAccept = DISPATCHABLE.has(status) ? (offered[0] ?? null) : null;
  const assignedOffer = accepted[0] ?? null;
  const next = allowedNext(status, incident.kind);

  if (DISPATCHABLE.has(status)) actions.add("dispatch");
  if (offerToAccept) actions.add("accept");
  if (assignedOffer && status === "accepted") actions.add("depart");
  if (assignedOffer && (status === "accepted" || status === "en_route")) actions.add("arrive");
  if (next.includes("released")) actions.add("release");
  if (next.includes("closed")) actions.add("close");
  if (next.includes("cancelled")) actions.add("cancel");
  if (next.includes("false_alarm")) actions.add("false_alarm");
  actions.add("callback");
  actions.add("note");
  return { actions, offerToAccept, assignedOffer };
}

/** Offers still holding a team: the ones a dispatcher may withdraw. */
export function isActiveOffer(offer: OfferView): boolean {
  return offer.status === "offered" || offer.status === "accepted";
}

/** Adds entries not seen yet (by id) and keeps the list in time order; entries with equal times keep id order. */
export function mergeTimeline(current: readonly TimelineEventView[], incoming: readonly TimelineEventView[]): TimelineEventView[] {
  const byId = new Map(current.map((e) => [e.id, e]));
  let added = false;
  for (const entry of incoming) {
    if (byId.has(entry.id)) continue;
    byId.set(entry.id, entry);
    added = true;
  }
  if (!added && current.length === byId.size) return current as TimelineEventView[];
  return [...byId.values()].sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || compareIds(a.id, b.id));
}

function compareIds(a: string, b: string): number {
  // Ids are bigint strings: a shorter one is the smaller number.
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

/** The i18n key under `detail.event` that names a timeline entry; a transition is named by where it went. */
export function timelineLabelKey(entry: Pick<TimelineEventView, "type" | "toStatus" | "fromStatus">): string {
  if (entry.type === "transition" && entry.toStatus) {
    // Back to reported means every team fell away, which reads differently from the first report.
    if (entry.toStatus === "reported") return "to_reported";
    return `to_${entry.toStatus}`;
  }
  return entry.type;
}

/** mm:ss for an interval in seconds, or a dash while it has not happened. */
export function formatInterval(seconds: number | null): string {
  if (seconds === null) return "—";
  const total = Math.max(0, Math.round(seconds));
  return `${String(Math.floor(total / 60)).padStart(2, "0")}:${String(total % 60).padStart(2, "0")}`;
}

/** The team id a timeline entry concerns (offers, departures, arrivals carry it in their data). */
export function teamIdOf(entry: Pick<TimelineEventView, "data">): number | null {
  const data = entry.data;
  if (data && typeof data === "object" && "teamId" in data) {
    const id = (data as { teamId: unknown }).teamId;
    return typeof id === "number" ? id : null;
  }
  return null;
}

// Reasons the server writes itself, in English or as codes; the console shows them in the dispatcher's language.
export const serverReasons: Readonly<Record<string, string>> = {
  "no team available": "noTeamAvailable",
  "offered to nearest team": "offeredToNearest",
  "team accepted": "teamAccepted",
  "previous team declined": "previousDeclined",
  "previous offer expired": "previousExpired",
  "previous offer withdrawn by dispatcher": "previousWithdrawn",
  "team departed": "teamDeparted",
  "arrival reported without departure": "arrivedWithoutDeparture",
  "position within arrival radius": "positionInRadius",
  "96333 call": "hotlineCall",
  estimate_misses_deadline: "estimateMissesDeadline",
  deadline_missed: "deadlineMissed",
  no_team_available: "noTeamAvailable",
};

/** Reasons with a value in them: the pattern, the key, and the value's name in the text. */
export const serverReasonPatterns: readonly { pattern: RegExp; key: string; value: string; example: string }[] = [
  { pattern: /^no answer within (\d+) s$/, key: "noAnswerWithin", value: "seconds", example: "no answer within 180 s" },
  { pattern: /^alarm ([a-z_]+)$/, key: "alarmRaised", value: "alarm", example: "alarm trapped" },
  { pattern: /^SLA escalation: ([a-z_]+)$/, key: "slaEscalation", value: "why", example: "SLA escalation: deadline_missed" },
];

export interface ServerReason {
  key: string;
  values: Record<string, string>;
}

/** The i18n key under `detail.serverReason` (and its values) for a reason the server wrote, or null for a person's own words. */
export function serverReason(reason: string): ServerReason | null {
  const plain = serverReasons[reason];
  if (plain) return { key: plain, values: {} };
  for (const { pattern, key, value } of serverReasonPatterns) {
    const match = pattern.exec(reason);
    if (match) return { key, values: { [value]: match[1]! } };
  }
  return null;
}


/** The outcome recorded with a passenger callback or follow-up, if any. */
export function outcomeOf(entry: Pick<TimelineEventView, "data">): string | null {
  const data = entry.data;
  if (data && typeof data === "object" && "outcome" in data) {
    const outcome = (data as { outcome: unknown }).outcome;
    return typeof outcome === "string" ? outcome : null;
  }
  return null;
}

export interface EntryFacts {
  trappedCount?: number;
  injuredCount?: number;
  causeClass?: string;
  causeText?: string;
}

/** Counts and cause carried in an entry's data (counts steps, transitions that set them, closing). */
export function factsOf(entry: Pick<TimelineEventView, "data">): EntryFacts {
  const data = entry.data;
  if (!data || typeof data !== "object") return {};
  const d = data as Record<string, unknown>;
  const facts: EntryFacts = {};
  if (typeof d.trappedCount === "number") facts.trappedCount = d.trappedCount;
  if (typeof d.injuredCount === "number") facts.injuredCount = d.injuredCount;
  if (typeof d.causeClass === "string") facts.causeClass = d.causeClass;
  if (typeof d.causeText === "string") facts.causeText = d.causeText;
  return facts;
}

export interface TeamAssignment {
  incidentId: number;
  incidentCode: string;
  offerStatus: OfferView["status"];
}

/** Which open incident each team is on (or being asked for), from the incidents' active offers. */
export function assignmentsByTeam(incidents: Iterable<IncidentView>): Map<number, TeamAssignment> {
  const out = new Map<number, TeamAssignment>();
  for (const incident of incidents) {
    for (const offer of incident.offers) {
      if (!isActiveOffer(offer)) continue;
      const existing = out.get(offer.teamId);
      // An accepted job outranks a pending offer elsewhere.
      if (existing && !(existing.offerStatus === "offered" && offer.status === "accepted")) continue;
      out.set(offer.teamId, { incidentId: incident.id, incidentCode: incident.code, offerStatus: offer.status });
    }
  }
  return out;
}
