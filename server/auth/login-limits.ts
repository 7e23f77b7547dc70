import pg from "pg";
import { Redis } from "ioredis";
import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import crypto from "node:crypto";
import { describeTarget, type DatabaseTarget } from "../platform/db/target.ts";

/**
 * Failed sign-ins per client address, counted where every server process sees the same figure: Redis
 * when REDIS_URL is set, else the PostgreSQL table `login_limits` (several processes may share the
 * database), else memory (embedded PGlite admits one process only). If the shared store fails, a
 * per-process memory limiter stands in (rate-limiter-flexible's insurance) rather than letting sign-ins
 * through unlimited or refusing them all.
 */
export interface LoginLimits {
  /** The store in use, for health and the docs. */
  store: "redis" | "postgres" | "memory";
  /** Seconds until the address may try again, or 0 when it may now. */
  retryAfterS(address: string): Promise<number>;
  /** Counts one failed attempt from the address. */
  failed(address: string): Promise<void>;
  close(): Promise<void>;
}

export interface LoginLimitOptions {
  /** Failed attempts one address may make per window. */
  failures: number;
  windowS: number;
  redisUrl: string | null;
  database: DatabaseTarget;
}

const KEY_PREFIX = "login_fail_ip";

export function createLoginLimits(options: LoginLimitOptions): LoginLimits {
  const base = { keyPrefix: KEY_PREFIX, points: options.failures, duration: options.windowS };
  const insurance = new RateLimiterMemory(base);
  let limiter: RateLimiterAbstract;
  let close = async () => {};
  let store: LoginLimits["store"];
  if (options.redisUrl) {
    const redis = new Redis(options.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 3000 });
    redis.on("error", () => {}); // the insurance limiter answers while Redis is away
    // One deployment's processes share a database; several deployments (or test servers) may share one
    // Redis. Counting per database keeps their limits apart.
    const deployment = crypto.createHash("sha256").update(describeTarget(options.database)).digest("hex").slice(0, 12);
    limiter = new RateLimiterRedis({ ...base, keyPrefix: `${KEY_PREFIX}:${deployment}`, storeClient: redis, insuranceLimiter: insurance });
    close = async () => void redis.disconnect();
    store = "redis";
  } else if (options.database.kind === "postgres") {
    const pool = new pg.Pool({ connectionString: options.database.url, max: 2 });
    pool.on("error", () => {});
    // The table comes from the migrations (prisma/schema.prisma, LoginLimit), not from the library.
    limiter = new RateLimiterPostgres({ ...base, storeClient: pool, storeType: "pool", tableName: "login_limits", tableCreated: true, insuranceLimiter: insurance });
    close = () => pool.end();
    store = "postgres";
  } else {
    limiter = insurance;
    store = "memory";
  }
  return {
    store,
    async retryAfterS(address) {
      const res = await limiter.get(address).catch(() => null);
      if (!res || res.consumedPoints < options.failures) return 0;
      return Math.max(1, Math.ceil(res.msBeforeNext / 1000));
    },
    async failed(address) {
      try {
        await limiter.consume(address);
      } catch (error) {
        // Over the limit is an answer, not a failure; a store error has already gone to the insurance.
        if (!(error instanceof RateLimiterRes)) throw error;
      }
    },
    close,
  };
}
