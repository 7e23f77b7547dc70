import type http from "node:http";
import { Server } from "socket.io";
import { createAdapter } from "@socket.io/redis-streams-adapter";
import { Redis } from "ioredis";
import type { ClientToServerEvents, ServerToClientEvents } from "../contracts/index.ts";
import type { Logger } from "./logger.ts";
import type { Sessions } from "../auth/sessions.ts";
import { CITY_READERS, SEES_PHONE_NUMBERS, maskPersonal } from "../auth/roles.ts";

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

export interface Realtime {
  io: RealtimeServer;
  /**
   * Every server -> console broadcast goes through here: to its audience only, with the payload as it is
   * for roles that may see callers' numbers and a copy with the numbers masked for everyone else (the REST
   * presenters do the same).
   */
  broadcast: Broadcast;
  adapter: "memory" | "redis";
  close(): Promise<void>;
}

/**
 * Socket.io with connection-state recovery (a short disconnect replays what was missed); with REDIS_URL
 * the Redis streams adapter lets several server processes broadcast to each other's clients.
 */
export async function startRealtime(server: http.Server, options: { redisUrl: string | null; log: Logger; sessions: Sessions }): Promise<Realtime> {
  let redis: Redis | null = null;
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
  }
  const io: RealtimeServer = new Server(server, {
    connectionStateRecovery: { maxDisconnectionDuration: 2 * 60_000, skipMiddlewares: true },
    ...(redis ? { adapter: survivingRedisLoss(createAdapter(redis), options.log) } : {}),
  });
  // A socket needs a session cookie; it joins its role's room, and the room its scope comes from: a
  // company admin the company's, a rescuer the team's (the same scopes as the REST routes).
  io.use((socket, next) => {
    options.sessions.fromRequest(socket.request).then(
      (user) => {
        if (!user) return next(new Error("unauthenticated"));
        socket.data.user = user;
        const scope =
          user.role === "company_admin" && user.maintenanceCompanyId !== null
            ? [`company:${user.maintenanceCompanyId}`]
            : user.role === "rescuer" && user.teamId !== null
              ? [`team:${user.teamId}`]
              : [];
        void socket.join([`role:${user.role}`, ...scope]);
        next();
      },
      () => next(new Error("session check failed")),
    );
  });
  const fullView = SEES_PHONE_NUMBERS.map((role) => `role:${role}`);
  const centreMasked = CITY_READERS.filter((role) => !SEES_PHONE_NUMBERS.includes(role)).map((role) => `role:${role}`);
  const maskedRooms = (audience: Exclude<Audience, "everyone">): string[] =>
    audience === "centre"
      ? centreMasked
      : [
          ...centreMasked,
          ...(audience.companyId !== null ? [`company:${audience.companyId}`] : []),
          ...audience.teamIds.map((id) => `team:${id}`),
          ...(audience.rescuers ? ["role:rescuer"] : []),
        ];
  return {
    io,
    broadcast(audience, event, ...args) {
      io.to(fullView).emit(event, ...args);
      const masked = maskPersonal(args) as typeof args;
      if (audience === "everyone") io.except(fullView).emit(event, ...masked);
      else io.to(maskedRooms(audience)).except(fullView).emit(event, ...masked);
    },
    adapter: redis ? "redis" : "memory",
    async close() {
      await io.close();
      redis?.disconnect();
    },
  };
}
