export type DeadlineKind = "offer_timeout" | "arrival_warning" | "arrival";

/**
 * When to check that an incident's arrival deadline will be met: `leadS` before it, or at once when the
 * first estimate already misses it. Pure.
 */
export function warningDueAt(input: { now: Date; arrivalDeadlineAt: Date; leadS: number; estimatedArrivalAt: Date | null }): Date {
  if (input.estimatedArrivalAt && input.estimatedArrivalAt > input.arrivalDeadlineAt) return input.now;
  const due = new Date(input.arrivalDeadlineAt.getTime() - input.leadS * 1000);
  return due < input.now ? input.now : due;
}

/** Will the best estimate miss the deadline? No estimate (nobody assigned) counts as a miss. */
export function predictsMiss(estimatedArrivalAt: Date | null, arrivalDeadlineAt: Date): boolean {
  return estimatedArrivalAt === null || estimatedArrivalAt > arrivalDeadlineAt;
}
