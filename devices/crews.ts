import { io, type Socket } from "socket.io-client";
import type { ClientToServerEvents, IncidentView, ServerToClientEvents, TeamOfferView, TeamView } from "../server/contracts/index.ts";

/**
 * Demo rescue crews for `npm start`: what the teams' phones would do, through the public REST API with a
 * rescuer session each, like any phone. An offered team accepts after a short while, sets off from where
 * it is, drives towards the elevator so that it arrives about when the engine estimated, reports its
 * position every tick (the console's map shows it moving), arrives by position, and frees the passengers
 * a few minutes later. Closing stays with the dispatcher (callback, cause).
 *
 * The crews play the demo accounts they are given (the seed's `crew-<team id>`, one per team without a
 * human account); teams with an account of their own (rescuer1, ...) are left to that user.
 *
 * Like a phone app, a crew keeps a Socket.io connection open and asks for its offers when a push says its
 * team has news, every tick while it has work, and otherwise only every `idlePollMs` (a safety net for a
 * missed push): a few hundred idle crews polling every few seconds would cost the server a good part of
 * a core on PGlite.
 */
export interface CrewOptions {
  tickMs: number;
  /** How often a crew with nothing to do asks for offers unprompted (a push or work makes it ask every tick). */
  idlePollMs: number;
  /** Seconds an offered team takes to accept, uniformly in [min, max]. */
  acceptAfterS: [number, number];
  departAfterS: number;
  releaseAfterS: [number, number];
  /** Drives and waits this many times faster than real time (1 in the demo: learned travel ratios stay honest). */
  timeScale: number;
}

export const demoCrewOptions: CrewOptions = {
  tickMs: 2000,
  idlePollMs: 60_000,
  acceptAfterS: [15, 40],
  departAfterS: 10,
  releaseAfterS: [120, 300],
  timeScale: 1,
};

/** Where the crews sign in, and as whom. */
export interface CrewAccounts {
  /** The platform as a phone reaches it, e.g. http://127.0.0.1:3000. */
  baseUrl: string;
  usernames: readonly string[];
  password: string;
}

export interface CrewLog {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

interface Trip {
  from: { lat: number; lng: number };
  departedAt: number;
  travelMs: number;
}

interface Crew {
  username: string;
  cookie: string | null;
  teamId: number | null;
  nextPollAt: number;
  /** A push arrived since the crew last asked for its offers. */
  poked: boolean;
  socket: Socket<ServerToClientEvents, ClientToServerEvents> | null;
  trips: Map<number, Trip>;
  acceptedAt: Map<number, number>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** A fixed fraction in [0, 1) per id, so each offer's delays are random-looking but stable across ticks. */
const spread = (id: number, salt: number) => ((Math.imul(id * 31 + salt, 2654435761) >>> 0) % 1000) / 1000;
const between = ([min, max]: [number, number], id: number, salt: number) => min + (max - min) * spread(id, salt);
const SIGN_INS_PER_TICK = 20;

export function runDemoCrews(accounts: CrewAccounts, log: CrewLog, options: CrewOptions = demoCrewOptions) {
  const seconds = (s: number) => (s * 1000) / options.timeScale;
  const started = Date.now();
  const crews: Crew[] = accounts.usernames.map((username, i) => ({
    username,
    cookie: null,
    teamId: null,
    // Sign-ins (a scrypt check each on the server) are spread over a few ticks, not all at once.
    nextPollAt: started + options.tickMs * Math.floor(i / SIGN_INS_PER_TICK),
    poked: false,
    socket: null,
    trips: new Map(),
    acceptedAt: new Map(),
  }));
  let running = false;
  let stopped = false;

  async function request<T>(crew: Crew, method: "GET" | "POST", path: string, body?: object): Promise<T> {
    const res = await fetch(new URL(path, accounts.baseUrl), {
      method,
      headers: { "content-type": "application/json", ...(crew.cookie ? { cookie: crew.cookie } : {}) },
      body: method === "GET" ? undefined : JSON.stringify(body ?? {}),
    });
    if (res.status === 401) crew.cookie = null; // the session ended: sign in again next time
    if (!res.ok) {
      const text = await res.text();
      let message = text;
      try {
        message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? text;
      } catch {
        // not JSON: keep the text
      }
      throw new HttpError(res.status, `${method} ${path}: HTTP ${res.status} ${message}`);
    }
    if (path === "/api/auth/login") crew.cookie = res.headers.get("set-cookie")?.split(";")[0] ?? null;
    return (await res.json()) as T;
  }

  async function signIn(crew: Crew): Promise<boolean> {
    try {
      const me = await request<{ role: string; teamId: number | null }>(crew, "POST", "/api/auth/login", {
        username: crew.username,
        password: accounts.password,
      });
      if (me.role !== "rescuer" || me.teamId === null) {
        log.warn({ username: crew.username }, "demo crew account is not a team's rescuer: left out");
        crew.nextPollAt = Number.POSITIVE_INFINITY;
        return false;
      }
      crew.teamId = me.teamId;
      if (crew.cookie) listen(crew, crew.cookie);
      return crew.cookie !== null;
    } catch (error) {
      log.warn({ username: crew.username, err: (error as Error).message }, "demo crew cannot sign in; trying again in a minute");
      crew.nextPollAt = Date.now() + 60_000;
      return false;
    }
  }

  /** Pushes about the team's incidents (a new offer, a withdrawal) make the crew look at once. */
  function listen(crew: Crew, cookie: string): void {
    crew.socket?.close();
    const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(accounts.baseUrl, { transports: ["websocket"], extraHeaders: { cookie } });
    socket.on("incident:updated", (incident) => {
      if (!incident.offers.some((o) => o.teamId === crew.teamId)) return;
      crew.poked = true;
      crew.nextPollAt = Math.min(crew.nextPollAt, Date.now());
    });
    // A push sent before this socket was connected (or while it was away) is lost: look once it is there.
    socket.on("connect", () => {
      crew.poked = true;
      crew.nextPollAt = Math.min(crew.nextPollAt, Date.now());
    });
    socket.on("connect_error", () => socket.close()); // polling carries on; the next sign-in tries again
    crew.socket = socket;
  }

  const act = async (crew: Crew, what: string, id: number, action: () => Promise<unknown>): Promise<boolean> => {
    try {
      await action();
      return true;
    } catch (error) {
      // The dispatcher may have done it first (recorded the acceptance, withdrawn the offer): not an error.
      log.debug({ username: crew.username, id, what, err: (error as Error).message }, "crew step skipped");
      return false;
    }
  };

  /** Where the team is now: its live position when it reported one, else its base. */
  async function whereAmI(crew: Crew): Promise<{ lat: number; lng: number } | null> {
    const teams = await request<TeamView[]>(crew, "GET", "/api/teams");
    const team = teams.find((t) => t.id === crew.teamId);
    return team ? { lat: team.lat, lng: team.lng } : null;
  }

  async function drive(crew: Crew, offer: TeamOfferView, now: number): Promise<void> {
    const teamId = crew.teamId!;
    const incident: IncidentView = offer.incident;
    let trip = crew.trips.get(offer.id);
    if (!trip) {
      const acceptedAt = crew.acceptedAt.get(offer.id) ?? (offer.respondedAt ? Date.parse(offer.respondedAt) : now);
      // After a restart an incident already on its way keeps going from the team's last position.
      const alreadyOnTheWay = incident.status === "en_route";
      if (!alreadyOnTheWay && now - acceptedAt < seconds(options.departAfterS)) return;
      const from = await whereAmI(crew);
      if (!from) return;
      if (!alreadyOnTheWay) {
        const departed = await act(crew, "depart", offer.id, () => request(crew, "POST", `/api/offers/${offer.id}/depart`, from));
        if (!departed) return;
      }
      // The clock is read again after the requests above: they take a while when the server is busy.
      const departedAt = Date.now();
      const elapsed = departedAt - Date.parse(offer.offeredAt);
      const travelMs = Math.max(seconds(60), seconds(offer.estimatedArrivalS) * (0.85 + 0.3 * spread(offer.id, 2)) - elapsed);
      trip = { from, departedAt, travelMs };
      crew.trips.set(offer.id, trip);
    }
    const site = incident.elevator;
    const progress = Math.min(1, (Date.now() - trip.departedAt) / trip.travelMs);
    const lat = trip.from.lat + (site.lat - trip.from.lat) * progress;
    const lng = trip.from.lng + (site.lng - trip.from.lng) * progress;
    await act(crew, "position", teamId, () => request(crew, "POST", `/api/teams/${teamId}/position`, { lat, lng }));
    if (progress >= 1) {
      await act(crew, "arrive", offer.id, () => request(crew, "POST", `/api/offers/${offer.id}/arrive`, { lat, lng }));
      crew.trips.delete(offer.id);
    }
  }

  async function step(crew: Crew): Promise<void> {
    if (!crew.cookie && !(await signIn(crew))) return;
    crew.poked = false;
    const offers = await request<TeamOfferView[]>(crew, "GET", `/api/teams/${crew.teamId}/offers`);
    const now = Date.now();
    for (const offer of offers) {
      if (offer.status === "offered") {
        if (now - Date.parse(offer.offeredAt) >= seconds(between(options.acceptAfterS, offer.id, 1))) {
          if (await act(crew, "accept", offer.id, () => request(crew, "POST", `/api/offers/${offer.id}/accept`))) crew.acceptedAt.set(offer.id, now);
        }
      } else if (offer.arrivedAt === null) {
        await drive(crew, offer, now);
      } else if (offer.incident.status === "on_scene" && offer.incident.onSceneAt) {
        const incidentId = offer.incident.id;
        if (now - Date.parse(offer.incident.onSceneAt) >= seconds(between(options.releaseAfterS, incidentId, 3))) {
          await act(crew, "release", incidentId, () => request(crew, "POST", `/api/incidents/${incidentId}/transitions`, { to: "released" }));
        }
      }
    }
    const live = new Set(offers.map((o) => o.id));
    for (const id of crew.trips.keys()) if (!live.has(id)) crew.trips.delete(id);
    for (const id of crew.acceptedAt.keys()) if (!live.has(id)) crew.acceptedAt.delete(id);
    // A crew with work, or pushed meanwhile, asks again next tick; an idle one every idlePollMs.
    crew.nextPollAt = offers.length > 0 || crew.poked ? now : now + options.idlePollMs;
  }

  const tick = async () => {
    for (const crew of crews) {
      if (stopped) return;
      if (Date.now() < crew.nextPollAt) continue;
      await step(crew).catch((error: unknown) => {
        // A session that ended (expired, or the user was signed out) just signs in again next tick.
        if (error instanceof HttpError && error.status === 401) return;
        log.warn({ username: crew.username, err: (error as Error).message }, "demo crew step failed");
        crew.nextPollAt = Date.now() + options.idlePollMs;
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
    crews: crews.length,
    async stop() {
      stopped = true;
      clearInterval(timer);
      while (running) await new Promise((r) => setTimeout(r, 20));
      for (const crew of crews) crew.socket?.close();
      // Sign out like a phone switched off, so restarts leave no sessions behind (best effort, briefly).
      const signedIn = crews.filter((c) => c.cookie);
      await Promise.race([
        Promise.allSettled(signedIn.map((crew) => request(crew, "POST", "/api/auth/logout"))),
        new Promise((r) => setTimeout(r, 2000)),
      ]);
    },
  };
}
