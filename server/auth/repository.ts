import { Prisma, type PrismaClient } from "../platform/db/generated/client.ts";
import type { Role, SessionUser } from "./roles.ts";
import type { ActorScope } from "./actor-scope.ts";
import { incidentInScope } from "../incidents/repository/reads.ts";

/** The accounts, sessions and access queries of the auth capability: its SQL lives here only. */

export interface UserRow {
  id: number;
  username: string;
  displayName: string;
  passwordHash: string;
  role: Role;
  maintenanceCompanyId: number | null;
  teamId: number | null;
  disabled: boolean;
  failedLogins: number;
  lockedUntil: Date | null;
}

export interface NewUser {
  username: string;
  displayName: string;
  passwordHash: string;
  role: Role;
  maintenanceCompanyId: number | null;
  teamId: number | null;
}

export interface UserChange {
  displayName?: string;
  role?: Role;
  maintenanceCompanyId?: number | null;
  teamId?: number | null;
  disabled?: boolean;
  passwordHash?: string;
  passwordChangedAt?: Date;
  failedLogins?: number;
  lockedUntil?: Date | null;
}

export interface UserRepository {
  byUsername(username: string): Promise<UserRow | null>;
  byId(id: number): Promise<UserRow | null>;
  /** Every account, oldest first. */
  list(): Promise<UserRow[]>;
  /** Whether an enabled platform admin exists. */
  hasAdmin(): Promise<boolean>;
  create(user: NewUser): Promise<UserRow>;
  /** The changed account, or null when there is none with that id. */
  update(id: number, change: UserChange): Promise<UserRow | null>;
  /**
   * Counts a sign-in attempt before its password is checked, in one UPDATE: the row lock orders parallel
   * attempts, so at most `limit` passwords are ever tried before the account locks, however many arrive at
   * once. The attempt that reaches the limit sets the lock (a correct password lifts it again). "locked":
   * the account is locked now and nothing was counted; "unknown": no such account.
   */
  countLoginAttempt(username: string, now: Date, limit: number, lockMs: number): Promise<"counted" | "locked" | "unknown">;
}

export interface SessionRepository {
  create(session: { tokenHash: string; userId: number; expiresAt: Date; address: string | null }): Promise<void>;
  /** The session's user as requests act with, with the session's expiry and the account's disabled flag. */
  byTokenHash(tokenHash: string): Promise<{ user: SessionUser; expiresAt: Date; disabled: boolean } | null>;
  delete(sessionId: number): Promise<void>;
  deleteAllOf(userId: number, except?: number): Promise<void>;
  /** Which of these sessions still stand: not ended, not expired, their account not disabled. */
  live(sessionIds: readonly number[], now: Date): Promise<Set<number>>;
}

/**
 * Which of many ids an actor may reach, answered in one query per kind (Immich's access repository):
 * the scope is part of the WHERE clause, and an id outside the scope and an id that does not exist
 * look the same to the caller.
 */
export interface AccessRepository {
  incidents(scope: ActorScope, ids: readonly number[]): Promise<Set<number>>;
  /** Offers an actor may answer: a team its own, a company those made to its teams. */
  offers(scope: ActorScope, ids: readonly number[]): Promise<Set<number>>;
  /** Teams an actor may act for: a team itself, a company its own teams. */
  teams(scope: ActorScope, ids: readonly number[]): Promise<Set<number>>;
  /** Elevators an actor may see: a company its own, a team those of the jobs it is offered or holds. */
  elevators(scope: ActorScope, ids: readonly number[]): Promise<Set<number>>;
  /** Incidents on which the actor's team holds an accepted offer: the jobs a crew may report on. */
  engaged(teamId: number, incidentIds: readonly number[]): Promise<Set<number>>;
}

/**
 * The elevators an actor may see (alias `e`): the centre all, a company its own, a team those of the
 * incidents it is offered or holds right now (what its phone needs to find the car), nothing else.
 */
export function elevatorInScope(scope: ActorScope): Prisma.Sql {
  switch (scope.kind) {
    case "centre":
      return Prisma.sql`true`;
    case "company":
      return Prisma.sql`e."maintenanceCompanyId" = ${scope.companyId}::int`;
    case "team":
      return Prisma.sql`EXISTS (SELECT 1 FROM incidents ji JOIN dispatch_offers jo ON jo."incidentId" = ji.id
        WHERE ji."elevatorId" = e.id AND jo."teamId" = ${scope.teamId}::int AND jo.status IN ('offered', 'accepted'))`;
    case "nothing":
      return Prisma.sql`false`;
  }
}

const userColumns = {
  id: true,
  username: true,
  displayName: true,
  passwordHash: true,
  role: true,
  maintenanceCompanyId: true,
  teamId: true,
  disabled: true,
  failedLogins: true,
  lockedUntil: true,
} as const;

export function createUserRepository(prisma: PrismaClient): UserRepository {
  return {
    byUsername: (username) => prisma.user.findUnique({ where: { username }, select: userColumns }),
    byId: (id) => prisma.user.findUnique({ where: { id }, select: userColumns }),
    list: () => prisma.user.findMany({ orderBy: { id: "asc" }, select: userColumns }),
    hasAdmin: async () => (await prisma.user.count({ where: { role: "admin", disabled: false } })) > 0,
    create: (user) => prisma.user.create({ data: user, select: userColumns }),
    async countLoginAttempt(username, now, limit, lockMs) {
      const until = new Date(now.getTime() + lockMs);
      const counted = await prisma.$queryRaw<{ id: number }[]>`
        UPDATE users SET
          "failedLogins" = CASE WHEN "failedLogins" + 1 >= ${limit}::int THEN 0 ELSE "failedLogins" + 1 END,
          "lockedUntil" = CASE WHEN "failedLogins" + 1 >= ${limit}::int THEN ${until.toISOString()}::timestamp(3) ELSE NULL END
        WHERE username = ${username} AND ("lockedUntil" IS NULL OR "lockedUntil" <= ${now.toISOString()}::timestamp(3))
        RETURNING id`;
      if (counted.length) return "counted";
      return (await prisma.user.count({ where: { username } })) ? "locked" : "unknown";
    },
    async update(id, change) {
      if (Object.values(change).every((v) => v === undefined)) return prisma.user.findUnique({ where: { id }, select: userColumns });
      // updateMany: a missing id is an answer (null), not an exception to translate.
      const { count } = await prisma.user.updateMany({ where: { id }, data: change });
      return count ? prisma.user.findUnique({ where: { id }, select: userColumns }) : null;
    },
  };
}

export function createSessionRepository(prisma: PrismaClient): SessionRepository {
  return {
    async create(session) {
      await prisma.session.create({ data: session });
    },
    async byTokenHash(tokenHash) {
      const row = await prisma.session.findUnique({ where: { tokenHash }, include: { user: { select: userColumns } } });
      if (!row) return null;
      const u = row.user;
      return {
        user: { id: u.id, username: u.username, displayName: u.displayName, role: u.role, maintenanceCompanyId: u.maintenanceCompanyId, teamId: u.teamId, sessionId: row.id },
        expiresAt: row.expiresAt,
        disabled: u.disabled,
      };
    },
    async delete(sessionId) {
      await prisma.session.deleteMany({ where: { id: sessionId } });
    },
    async deleteAllOf(userId, except) {
      await prisma.session.deleteMany({ where: { userId, ...(except ? { id: { not: except } } : {}) } });
    },
    async live(sessionIds, now) {
      if (!sessionIds.length) return new Set();
      const rows = await prisma.session.findMany({
        where: { id: { in: [...sessionIds] }, expiresAt: { gt: now }, user: { disabled: false } },
        select: { id: true },
      });
      return new Set(rows.map((r) => r.id));
    },
  };
}

const ids = (rows: { id: number }[]) => new Set(rows.map((r) => r.id));

export function createAccessRepository(prisma: PrismaClient): AccessRepository {
  const teamInScope = (scope: ActorScope): Prisma.Sql => {
    switch (scope.kind) {
      case "centre":
        return Prisma.sql`true`;
      case "company":
        return Prisma.sql`t."maintenanceCompanyId" = ${scope.companyId}::int`;
      case "team":
        return Prisma.sql`t.id = ${scope.teamId}::int`;
      case "nothing":
        return Prisma.sql`false`;
    }
  };
  return {
    async incidents(scope, wanted) {
      if (!wanted.length) return new Set();
      return ids(
        await prisma.$queryRaw<{ id: number }[]>`
          SELECT i.id FROM incidents i JOIN elevators e ON e.id = i."elevatorId"
          WHERE i.id = ANY(${[...wanted]}::int[]) AND ${incidentInScope(scope)}`,
      );
    },
    async offers(scope, wanted) {
      if (!wanted.length) return new Set();
      return ids(
        await prisma.$queryRaw<{ id: number }[]>`
          SELECT o.id FROM dispatch_offers o JOIN teams t ON t.id = o."teamId"
          WHERE o.id = ANY(${[...wanted]}::int[]) AND ${teamInScope(scope)}`,
      );
    },
    async elevators(scope, wanted) {
      if (!wanted.length) return new Set();
      return ids(
        await prisma.$queryRaw<{ id: number }[]>`
          SELECT e.id FROM elevators e WHERE e.id = ANY(${[...wanted]}::int[]) AND ${elevatorInScope(scope)}`,
      );
    },
    async engaged(teamId, wanted) {
      if (!wanted.length) return new Set();
      const rows = await prisma.$queryRaw<{ id: number }[]>`
        SELECT DISTINCT o."incidentId" AS id FROM dispatch_offers o
        WHERE o."incidentId" = ANY(${[...wanted]}::int[]) AND o."teamId" = ${teamId}::int AND o.status = 'accepted'`;
      return ids(rows);
    },
    async teams(scope, wanted) {
      if (!wanted.length) return new Set();
      return ids(
        await prisma.$queryRaw<{ id: number }[]>`
          SELECT t.id FROM teams t WHERE t.id = ANY(${[...wanted]}::int[]) AND ${teamInScope(scope)}`,
      );
    },
  };
}

export interface AuthRepository {
  users: UserRepository;
  sessions: SessionRepository;
  access: AccessRepository;
}

/** The auth capability's repositories, built once by the composition root. */
export function createAuthRepository(prisma: PrismaClient): AuthRepository {
  return { users: createUserRepository(prisma), sessions: createSessionRepository(prisma), access: createAccessRepository(prisma) };
}
