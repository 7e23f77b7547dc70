import type http from "node:http";
import { Server } from "socket.io";
import { createAdapter } from "@socket.io/redis-streams-adapter";
import { Redis } from "ioredis";
import type { ClientToServerEvents, ServerToClientEvents } from "../contracts/index.ts";
import type { Logger } from "./logger.ts";
import type { Sessions } from "../auth/sessions.ts";
import { CITY_READERS, personalViewOf, presentPersonal, roles, type PersonalView, type Role, type SessionUser } from "../auth/roles.ts";
import { scopeOf } from "../auth/actor-scope.ts";

export type RealtimeServer = Server<ClientToServerEvents, ServerToClientEvents>;

export class RedisUnavailableError extends Error {}

type AdapterFactory = ReturnType<typeof createAdapter>;
type Publishing = { doPublish(message: unknown): Promise<string>; doPublishResponse(uid: string, response: unknown): Promise<void> };

/**
 * The streams adapter leaves a failed XADD / PUBLISH as an unhandled rejection, which ended the process when
 * Redis went away. Caught here: this process's own clients still get every broadcast, the other processes
 * miss what is sent while Redis is down, and ioredis reconnects by itself.
 */
function survivingRedisLoss(factory: AdapterFactory, log: Logger): AdapterFactory {
  let warned = 0;
  const lost = (error: Error) => {
    if (Date.now() - warned > 10_000) {
      warned = Date.now();
      log.warn({ err: error.message }, "redis unavailable: broadcasts reach this process's clients only");
    }
  };
  // Socket.io calls the factory with `new`: a function (not an arrow) whose returned object is the adapter.
  return function redisAdapter(nsp: Parameters<AdapterFactory>[0]) {
    const adapter = factory(nsp) as unknown as Publishing;
    const publish = adapter.doPublish.bind(adapter);
    const respond = adapter.doPublishResponse.bind(adapter);
    adapter.doPublish = (message) => publish(message).catch((error: Error) => (lost(error), ""));
    adapter.doPublishResponse = (uid, response) => respond(uid, response).catch(lost);
    return adapter;
  } as unknown as AdapterFactory;
}

/**
 * Who may receive a push, mirroring who may read the same thing over REST: the centre (dispatchers,
 * supervisors, admins) always; a company admin what concerns the company's elevators or teams; a rescuer
 * what concerns the team (and, with `rescuers`, what every rescuer may read).
 */
export type Audience = "everyone" | "centre" | { companyId: number | null; teamIds: readonly number[]; rescuers?: boolean };

export type Broadcast = <E extends keyof ServerToClientEvents>(audience: Audience, event: E, ...args: Parameters<ServerToClientEvents[E]>) => void;

/** The rooms a socket joins: what it may hear follows from them. */
export const rooms = {
  role: (role: Role) => `role:${role}`,
  company: (id: number) => `company:${id}`,
  team: (id: number) => `team:${id}`,
  user: (id: number) => `user:${id}`,
  session: (id: number) => `session:${id}`,
  /** Dispatchers, supervisors and admins: the city-wide picture. */
  centre: CITY_READERS.map((role) => `role:${role}`),
};

/** Which sessions to end: one, or all of a user's (but one, the caller's own, on a password change). */
export type SessionsToEnd = { sessionId: number } | { userId: number; exceptSessionId?: number };

export interface Realtime {
  io: RealtimeServer;
  /**
   * Every server -> console broadcast goes through here: to its audience only, with the payload as it is
   * for roles that may see callers' numbers, a copy with the numbers masked for the rest of the centre, and
   * a copy without callers' numbers, call notes and recording references for the field (the REST
   * presenters do the same).
   */
  broadcast: Broadcast;
  /**
   * Disconnects the sockets of ended sessions at once, in every process (the Redis adapter carries the
   * request to the others). A sweep of this process's sockets against the database twice a second catches
   * whatever this misses (another process without Redis, an expired session).
   */
  endSessions(which: SessionsToEnd): void;
  adapter: "memory" | "redis";
  close(): Promise<void>;
}

/** How often each process re-checks the sessions of its sockets against the database. */
export const SESSION_RECHECK_MS = 500;

/**
 * Socket.io with connection-state recovery (a short disconnect replays what was missed, and the session is
 * checked again before it does); with REDIS_URL the Redis streams adapter lets several server processes
 * broadcast to each other's clients.
 */
export async function startRealtime(server: http.Server, options: { redisUrl: string | null; log: Logger; sessions: Sessions }): Promise<Realtime> {
  let redis: Redis | null = null;
  const adapterClients: Redis[] = [];
  if (options.redisUrl) {
    redis = new Redis(options.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 3, connectTimeout: 3000 });
    redis.on("error", (error) => options.log.warn({ err: error.message }, "redis connection problem"));
    try {
      await redis.connect();
      await redis.ping();
    } catch (error) {
      redis.disconnect();
      throw new RedisUnavailableError(`cannot reach Redis at ${new URL(options.redisUrl).host}: ${(error as Error).message}`);
    }
    // The adapter's own connections are duplicates of this one: a lazy duplicate is connected with a
    // connect() whose failure (Redis gone in that moment) nobody catches; an eager one reconnects by itself.
    redis.options.lazyConnect = false;
    // The adapter's own connections, to let them finish connecting and subscribing before a close: one
    // closed mid-handshake fails a command the adapter never handles (seen when the start fails early).
    const duplicate = redis.duplicate.bind(redis);
    redis.duplicate = (...args: Parameters<Redis["duplicate"]>) => {
      const client = duplicate(...args);
      adapterClients.push(client);
      return client;
    };
  }
  const io: RealtimeServer = new Server(server, {
    // skipMiddlewares false: a recovering socket passes the session check below like a new one, so a
    // session ended while the socket was away does not come back through recovery.
    connectionStateRecovery: { maxDisconnectionDuration: 2 * 60_000, skipMiddlewares: false },
    ...(redis ? { adapter: survivingRedisLoss(createAdapter(redis), options.log) } : {}),
  });
  // A socket needs a live session; it joins its user's and session's rooms (to be ended with them), and,
  // when its scope reaches anything, its role's room and the room its scope comes from: a company admin the
  // company's, a rescuer the team's (the same scopes as the REST routes). An account without the company
  // or team its role needs hears nothing.
  io.use((socket, next) => {
    options.sessions.fromRequest(socket.request).then(
      (user) => {
        if (!user) return next(new Error("unauthenticated"));
        socket.data.user = user;
        const scope = scopeOf(user);
        const scoped =
          scope.kind === "company" ? [rooms.company(scope.companyId)] : scope.kind === "team" ? [rooms.team(scope.teamId)] : [];
        void socket.join([rooms.user(user.id), rooms.session(user.sessionId), ...(scope.kind === "nothing" ? [] : [rooms.role(user.role), ...scoped])]);
        next();
      },
      () => next(new Error("session check failed")),
    );
  });
  const byView = (view: PersonalView) => roles.filter((role) => personalViewOf(role) === view).map(rooms.role);
  const [fullView, centreMasked, fieldRoles] = [byView("full"), byView("masked"), byView("none")];
  const fieldRooms = (audience: Exclude<Audience, "everyone" | "centre">): string[] => [
    ...(audience.companyId !== null ? [rooms.company(audience.companyId)] : []),
    ...audience.teamIds.map(rooms.team),
    ...(audience.rescuers ? [rooms.role("rescuer")] : []),
  ];

  const endSessions = (which: SessionsToEnd) => {
    if ("sessionId" in which) io.in(rooms.session(which.sessionId)).disconnectSockets(true);
    else if (which.exceptSessionId !== undefined) io.in(rooms.user(which.userId)).except(rooms.session(which.exceptSessionId)).disconnectSockets(true);
    else io.in(rooms.user(which.userId)).disconnectSockets(true);
  };
  let checking = false;
  const recheck = setInterval(() => {
    if (checking) return;
    const local = [...io.of("/").sockets.values()];
    const ids = [...new Set(local.map((socket) => (socket.data.user as SessionUser | undefined)?.sessionId).filter((id): id is number => id !== undefined))];
    if (!ids.length) return;
    checking = true;
    options.sessions
      .live(ids)
      .then((live) => {
        for (const socket of local) {
          const user = socket.data.user as SessionUser | undefined;
          if (user && !live.has(user.sessionId)) socket.disconnect(true);
        }
      })
      .catch((error: unknown) => options.log.warn({ err: (error as Error).message }, "socket session re-check failed"))
      .finally(() => (checking = false));
  }, SESSION_RECHECK_MS);
  recheck.unref();

  return {
    io,
    broadcast(audience, event, ...args) {
      io.to(fullView).emit(event, ...args);
      const masked = presentPersonal(args, "masked") as typeof args;
      const field = presentPersonal(args, "none") as typeof args;
      if (audience === "everyone") {
        io.to(centreMasked).emit(event, ...masked);
        io.to(fieldRoles).emit(event, ...field);
        return;
      }
      io.to(centreMasked).except(fullView).emit(event, ...masked);
      if (audience !== "centre") {
        const targets = fieldRooms(audience);
        if (targets.length) io.to(targets).except([...fullView, ...centreMasked]).emit(event, ...field);
      }
    },
    endSessions,
    adapter: redis ? "redis" : "memory",
    async close() {
      clearInterval(recheck);
      await Promise.all(
        adapterClients.map((client) =>
          client.status === "ready" || client.status === "end"
            ? client.ping().catch(() => undefined)
            : new Promise<void>((resolve) => {
                client.once("ready", () => void client.ping().catch(() => undefined).finally(resolve)).once("end", resolve);
                setTimeout(resolve, 2000).unref();
              }),
        ),
      );
      await io.close();
      // quit lets the adapter's last commands (its close notice) finish instead of failing them unhandled.
      await redis?.quit().catch(() => redis?.disconnect());
    },
  };
}
