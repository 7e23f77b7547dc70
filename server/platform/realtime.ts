import type http from "node:http";
import { Server } from "socket.io";
import { createAdapter } from "@socket.io/redis-streams-adapter";
import { Redis } from "ioredis";
import type { ClientToServerEvents, ServerToClientEvents } from "../contracts/index.ts";
import type { Logger } from "./logger.ts";
import type { Sessions } from "../auth/sessions.ts";
import { SEES_PHONE_NUMBERS, maskPersonal } from "../auth/roles.ts";

export type RealtimeServer = Server<ClientToServerEvents, ServerToClientEvents>;

export class RedisUnavailableError extends Error {}

export interface Realtime {
  io: RealtimeServer;
  /**
   * Every server -> console broadcast goes through here: roles that may see callers' numbers get the payload
   * as it is, every other signed-in socket a copy with the numbers masked (the REST presenters do the same).
   */
  broadcast<E extends keyof ServerToClientEvents>(event: E, ...args: Parameters<ServerToClientEvents[E]>): void;
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
  }
  const io: RealtimeServer = new Server(server, {
    connectionStateRecovery: { maxDisconnectionDuration: 2 * 60_000, skipMiddlewares: true },
    ...(redis ? { adapter: createAdapter(redis) } : {}),
  });
  // Issue 6: a socket needs a session cookie; it joins rooms by role, company and team. Broadcasts are
  // still global (io.emit) to every signed-in socket; the rooms are ready for scoped fan-out.
  io.use((socket, next) => {
    options.sessions.fromRequest(socket.request).then(
      (user) => {
        if (!user) return next(new Error("unauthenticated"));
        socket.data.user = user;
        void socket.join([`role:${user.role}`, ...(user.maintenanceCompanyId ? [`company:${user.maintenanceCompanyId}`] : []), ...(user.teamId ? [`team:${user.teamId}`] : [])]);
        next();
      },
      () => next(new Error("session check failed")),
    );
  });
  const fullView = SEES_PHONE_NUMBERS.map((role) => `role:${role}`);
  return {
    io,
    broadcast(event, ...args) {
      io.to(fullView).emit(event, ...args);
      io.except(fullView).emit(event, ...(maskPersonal(args) as typeof args));
    },
    adapter: redis ? "redis" : "memory",
    async close() {
      await io.close();
      redis?.disconnect();
    },
  };
}
