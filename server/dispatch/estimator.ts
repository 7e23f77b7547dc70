import { distance as greatCircleKm } from "geokdbush";

/** Urban driving speed by hour in Asia/Shanghai (UTC+8, no DST): rush hours are slow. */
export function urbanSpeedKmh(at: Date): number {
  const hour = (at.getUTCHours() + 8) % 24;
  if ((hour >= 7 && hour < 9) || (hour >= 17 && hour < 19)) return 18;
  if (hour >= 22 || hour < 6) return 40;
  return 26;
}

export interface Point {
  lat: number;
  lng: number;
}

export interface TravelEstimate {
  distanceM: number;
  etaS: number;
}

export interface EstimateContext {
  at: Date;
  /** Road distance / great-circle distance of the incident's district. */
  detourFactor: number;
  /** Learned ratio actual/estimated travel of this team (1 = no correction yet). */
  travelRatio: number;
}

/**
 * How long a team needs from one point to another. The straight-line estimate below is the default; a
 * road-network router can replace it as long as `lowerBoundS` stays a true lower bound, because the
 * spatial search prunes candidates with it.
 */
export interface TravelTimeEstimator {
  estimate(from: Point, to: Point, context: EstimateContext): TravelEstimate;
  /**
   * The greatest great-circle distance any team could cover in `seconds` under `context` (an upper bound):
   * the spatial search uses it as its radius, so it must never be too small.
   */
  reachableM(seconds: number, context: Omit<EstimateContext, "travelRatio">): number;
}

/** Learned ratios are clamped: one freak trip (traffic jam, wrong address) must not make a team useless. */
export const MIN_TRAVEL_RATIO = 0.5;
export const MAX_TRAVEL_RATIO = 2.5;

export class StraightLineEstimator implements TravelTimeEstimator {
  estimate(from: Point, to: Point, context: EstimateContext): TravelEstimate {
    const distanceM = greatCircleKm(from.lng, from.lat, to.lng, to.lat) * 1000;
    const speedMs = (urbanSpeedKmh(context.at) * 1000) / 3600;
    const ratio = Math.min(MAX_TRAVEL_RATIO, Math.max(MIN_TRAVEL_RATIO, context.travelRatio));
    return { distanceM: Math.round(distanceM), etaS: Math.round(((distanceM * context.detourFactor) / speedMs) * ratio) };
  }

  reachableM(seconds: number, context: Omit<EstimateContext, "travelRatio">): number {
    const speedMs = (urbanSpeedKmh(context.at) * 1000) / 3600;
    // +1 m and +1 s absorb the rounding of estimate().
    return ((seconds + 1) * speedMs) / (context.detourFactor * MIN_TRAVEL_RATIO) + 1;
  }
}

/**
 * Learning from history: exponential smoothing of actual/estimated travel time per team. The first
 * samples weigh more (1/n) so a new team converges quickly, later ones at `alpha`.
 */
export function learnTravelRatio(
  current: { ratio: number; samples: number },
  sample: { actualS: number; estimatedS: number },
  alpha = 0.2,
): { ratio: number; samples: number } {
  if (!(sample.estimatedS > 0) || !(sample.actualS > 0)) return current;
  const observed = Math.min(MAX_TRAVEL_RATIO, Math.max(MIN_TRAVEL_RATIO, sample.actualS / sample.estimatedS));
  const weight = Math.max(alpha, 1 / (current.samples + 1));
  return { ratio: current.ratio + weight * (observed - current.ratio), samples: current.samples + 1 };
}
