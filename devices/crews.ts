import { applyTransition } from "../server/incidents/commands.ts";
import type { Actor } from "../server/incidents/service.ts";
import type { Platform } from "../server/app.ts";
import type { Logger } from "../server/platform/logger.ts";

/**
 * Demo rescue crews for `npm start`: what the teams' phones would do. An offered team accepts after a
 * short while, sets off from where it is, drives towards the elevator so that it arrives about when the
 * engine estimated, reports its position every tick (the console's map shows it moving), arrives by
 * position, and frees the passengers a few minutes later. Closing stays with the dispatcher (callback,
 * cause). Teams with a user account of their own (rescuer1, ...) are left to that user.
 */
export interface CrewOptions {
  tickMs: number;
  /** Seconds an offered team takes to accept, uniformly in [min, max]. */
  acceptAfterS: [number, number];
  departAfterS: number;
  releaseAfterS: [number, number];
  /** Drives and waits this many times faster than real time (1 in the demo: learned travel ratios stay honest). */
  timeScale: number;
}

export const demoCrewOptions: CrewOptions = { tickMs: 2000, acceptAfterS: [15, 40], departAfterS: 10, releaseAfterS: [120, 300], timeScale: 1 };

interface Trip {
  from: { lat: number; lng: number };
  departedAt: number;
  travelMs: number;
}

/** A fixed fraction in [0, 1) per id, so each offer's delays are random-looking but stable across ticks. */
const spread = (id: number, salt: number) => ((Math.imul(id * 31 + salt, 2654435761) >>> 0) % 1000) / 1000;
const between = ([min, max]: [number, number], id: number, salt: number) => min + (max - min) * spread(id, salt);

export function runDemoCrews(platform: Pick<Platform, "db" | "dispatch" | "uow">, log: Logger, options: CrewOptions = demoCrewOptions) {
  const { prisma } = platform.db;
  const trips = new Map<number, Trip>();
  const seconds = (s: number) => (s * 1000) / options.timeScale;
  let running = false;
  let stopped = false;

  const act = async (what: string, offerId: number, action: () => Promise<unknown>) => {
    try {
      await action();
    } catch (error) {
      // The dispatcher may have done it first (recorded the acceptance, withdrawn the offer): not an error.
      log.debug({ offerId, what, err: (error as Error).message }, "crew step skipped");
    }
  };

  const tick = async () => {
    const now = Date.now();
    const offers = await prisma.dispatchOffer.findMany({
      where: { status: { in: ["offered", "accepted"] }, arrivedAt: null, team: { members: { none: {} } } },
      include: { incident: { select: { id: true, status: true, elevator: { select: { site: { select: { lat: true, lng: true } } } } } } },
    });
    for (const offer of offers) {
      const actor: Actor = { type: "team", id: String(offer.teamId) };
      const site = offer.incident.elevator.site;
      if (offer.status === "offered") {
        if (now - offer.offeredAt.getTime() >= seconds(between(options.acceptAfterS, offer.id, 1))) {
          await act("accept", offer.id, () => platform.dispatch.answers.accept(offer.id, actor));
        }
        continue;
      }
      let trip = trips.get(offer.id);
      if (!trip) {
        const acceptedAt = offer.respondedAt?.getTime() ?? now;
        // After a restart an incident already on its way keeps going from the team's last position.
        const alreadyOnTheWay = offer.incident.status === "en_route";
        if (!alreadyOnTheWay && now - acceptedAt < seconds(options.departAfterS)) continue;
        const team = platform.dispatch.teams.view(offer.teamId);
        if (!team) continue;
        if (!alreadyOnTheWay) await act("depart", offer.id, () => platform.dispatch.arrival.depart(offer.id, { actor, lat: team.lat, lng: team.lng }));
        const elapsed = now - offer.offeredAt.getTime();
        trip = { from: { lat: team.lat, lng: team.lng }, departedAt: now, travelMs: Math.max(seconds(60), seconds(offer.estimatedArrivalS) * (0.85 + 0.3 * spread(offer.id, 2)) - elapsed) };
        trips.set(offer.id, trip);
      }
      const progress = Math.min(1, (now - trip.departedAt) / trip.travelMs);
      const lat = trip.from.lat + (site.lat - trip.from.lat) * progress;
      const lng = trip.from.lng + (site.lng - trip.from.lng) * progress;
      await act("position", offer.id, () => platform.dispatch.teams.setPosition(offer.teamId, { lat, lng }));
      if (progress >= 1) {
        await act("arrive", offer.id, () => platform.dispatch.arrival.arrive(offer.id, { actor, lat, lng }));
        trips.delete(offer.id);
      }
    }

    const onScene = await prisma.incident.findMany({
      where: { status: "on_scene", offers: { some: { arrivedAt: { not: null }, team: { members: { none: {} } } } } },
      select: { id: true, onSceneAt: true },
    });
    for (const incident of onScene) {
      if (!incident.onSceneAt || now - incident.onSceneAt.getTime() < seconds(between(options.releaseAfterS, incident.id, 3))) continue;
      await act("release", incident.id, async () => {
        await applyTransition(platform.uow, incident.id, { to: "released", at: new Date(), actor: { type: "system", id: "demo-crews" } });
      });
    }
  };

  const timer = setInterval(() => {
    if (running || stopped) return;
    running = true;
    tick()
      .catch((error: unknown) => log.warn({ err: (error as Error).message }, "demo crews tick failed"))
      .finally(() => {
        running = false;
      });
  }, options.tickMs);

  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      while (running) await new Promise((r) => setTimeout(r, 20));
    },
  };
}
