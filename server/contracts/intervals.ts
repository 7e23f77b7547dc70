import type { IncidentStatus } from "./lifecycle.ts";

export interface TimelineEntry {
  at: Date;
  toStatus: IncidentStatus | null;
  type: string;
}

export interface ResponseIntervals {
  /** first dispatch - first report */
  callProcessingS: number | null;
  /** rescuer accepted - dispatched */
  acceptanceS: number | null;
  /** on_scene - en_route */
  travelS: number | null;
  /** on_scene - first report: the legal 30-minute limit is measured here */
  arrivalS: number | null;
  /** released - on_scene */
  extricationS: number | null;
  /** released - first report */
  entrapmentS: number | null;
}

/** The one definition of docs/design.md's response intervals, computed from an incident's timeline. */
export function computeIntervals(reportedAt: Date, timeline: readonly TimelineEntry[]): ResponseIntervals {
  const first = new Map<IncidentStatus, number>();
  for (const entry of [...timeline].sort((a, b) => a.at.getTime() - b.at.getTime())) {
    if (entry.toStatus && !first.has(entry.toStatus)) first.set(entry.toStatus, entry.at.getTime());
  }
  const reported = reportedAt.getTime();
  const span = (from: number | undefined, to: number | undefined) =>
    from === undefined || to === undefined ? null : Math.round((to - from) / 1000);
  return {
    callProcessingS: span(reported, first.get("dispatched")),
    acceptanceS: span(first.get("dispatched"), first.get("accepted")),
    travelS: span(first.get("en_route"), first.get("on_scene")),
    arrivalS: span(reported, first.get("on_scene")),
    extricationS: span(first.get("on_scene"), first.get("released")),
    entrapmentS: span(reported, first.get("released")),
  };
}
