import { z } from "zod";
import type { ApiRouter, AuditEntry } from "../platform/http.ts";
import { ApiError, errors } from "../platform/errors.ts";
import { hashPassword, verifyPassword } from "./password.ts";
import { ADMINS, ALL, roles } from "./roles.ts";
import { clearedCookie, sessionCookie, type Sessions } from "./sessions.ts";
import type { UserRepository, UserRow } from "./repository.ts";
import type { LoginLimits } from "./login-limits.ts";
import type { SessionsToEnd } from "../platform/realtime.ts";

export const LOCKOUT_FAILURES = 5;
export const LOCKOUT_MS = 15 * 60_000;

const username = z.string().trim().min(1).max(64);
const password = z.string().min(1).max(256);
const newPassword = z.string().min(10, "at least 10 characters").max(256);
const meView = z.object({
  id: z.number().int(),
  username: z.string(),
  displayName: z.string(),
  role: z.enum(roles),
  maintenanceCompanyId: z.number().int().nullable(),
  teamId: z.number().int().nullable(),
});
const userView = meView.extend({ disabled: z.boolean(), lockedUntil: z.string().nullable() });

// Spent on unknown usernames too, so timing does not reveal which accounts exist.
const DUMMY_HASH = await hashPassword("not-a-real-password");

/** Login, logout, me, password change and user administration. */
export function registerAuthRoutes(
  api: ApiRouter,
  deps: {
    users: UserRepository;
    sessions: Sessions;
    audit: (entry: AuditEntry) => Promise<void>;
    /** Failed sign-ins per client address, shared by every process. */
    limits: LoginLimits;
    /** Disconnects the sockets of ended sessions (server/platform/realtime.ts). */
    endSockets: (which: SessionsToEnd) => void;
    cookieSecure?: "auto" | boolean;
  },
): void {
  const { users, sessions, limits } = deps;

  api.route({
    method: "post",
    path: "/api/auth/login",
    summary: "Sign in: sets an httpOnly SameSite=Strict session cookie; 5 wrong passwords lock the account for 15 min",
    tags: ["auth"],
    access: "public",
    body: z.object({ username, password }),
    response: meView,
    handler: async ({ body, req, res }) => {
      // req.ip: the client's address as Express's trust-proxy setting resolves it.
      const address = req.ip ?? "unknown";
      const wait = await limits.retryAfterS(address);
      if (wait > 0) {
        res.setHeader("Retry-After", String(wait));
        throw new ApiError(429, "rate_limited", `too many failed sign-in attempts from this address; try again in ${wait} s`);
      }
      const refuse = async (status: 401 | 423) => {
        await limits.failed(address);
        await deps.audit({ actor: body.username, action: status === 423 ? "auth.login_locked" : "auth.login_failed", target: null, address });
        return status === 423
          ? new ApiError(423, "account_locked", "the account is locked after repeated failures; try again later")
          : new ApiError(401, "bad_credentials", "wrong username or password");
      };
      const attempt = await users.countLoginAttempt(body.username, new Date(), LOCKOUT_FAILURES, LOCKOUT_MS);
      if (attempt === "locked") throw await refuse(423);
      const user = attempt === "counted" ? await users.byUsername(body.username) : null;
      const ok = await verifyPassword(body.password, user?.passwordHash ?? DUMMY_HASH);
      if (!user || !ok || user.disabled) throw await refuse(401);
      await users.update(user.id, { failedLogins: 0, lockedUntil: null });
      const { token, expiresAt } = await sessions.create(user.id, address);
      res.setHeader("Set-Cookie", sessionCookie(token, expiresAt, (deps.cookieSecure ?? "auto") === "auto" ? req.secure : deps.cookieSecure === true));
      await deps.audit({ actor: user.username, action: "auth.login", target: null, address });
      return { id: user.id, username: user.username, displayName: user.displayName, role: user.role, maintenanceCompanyId: user.maintenanceCompanyId, teamId: user.teamId };
    },
  });

  api.route({
    method: "post",
    path: "/api/auth/logout",
    summary: "Sign out: ends this session",
    tags: ["auth"],
    access: ALL,
    audit: "auth.logout",
    response: z.object({ ok: z.literal(true) }),
    handler: async ({ user, res }) => {
      await sessions.end(user.sessionId);
      deps.endSockets({ sessionId: user.sessionId });
      res.setHeader("Set-Cookie", clearedCookie);
      return { ok: true as const };
    },
  });

  api.route({
    method: "get",
    path: "/api/auth/me",
    summary: "The signed-in user (401 when not signed in)",
    tags: ["auth"],
    access: ALL,
    response: meView,
    handler: async ({ user }) => ({
      id: user.id,
      username: user.username,
      displayName: user.displayName,
      role: user.role,
      maintenanceCompanyId: user.maintenanceCompanyId,
      teamId: user.teamId,
    }),
  });

  api.route({
    method: "post",
    path: "/api/auth/password",
    summary: "Change one's own password; other sessions of the user end",
    tags: ["auth"],
    access: ALL,
    audit: "auth.password_change",
    body: z.object({ currentPassword: password, newPassword }),
    response: z.object({ ok: z.literal(true) }),
    handler: async ({ body, user }) => {
      const row = await users.byId(user.id);
      if (!row) throw errors.notFound(`user ${user.id}`);
      if (!(await verifyPassword(body.currentPassword, row.passwordHash))) throw new ApiError(400, "bad_credentials", "the current password is wrong");
      await users.update(user.id, { passwordHash: await hashPassword(body.newPassword), passwordChangedAt: new Date() });
      await sessions.endAllOf(user.id, user.sessionId);
      deps.endSockets({ userId: user.id, exceptSessionId: user.sessionId });
      return { ok: true as const };
    },
  });

  const presentUser = (u: UserRow) => ({
    id: u.id,
    username: u.username,
    displayName: u.displayName,
    role: u.role,
    maintenanceCompanyId: u.maintenanceCompanyId,
    teamId: u.teamId,
    disabled: u.disabled,
    lockedUntil: u.lockedUntil?.toISOString() ?? null,
  });

  api.route({
    method: "get",
    path: "/api/users",
    summary: "Every account (platform admin)",
    tags: ["auth"],
    access: ADMINS,
    response: z.array(userView),
    handler: async () => (await users.list()).map(presentUser),
  });

  api.route({
    method: "post",
    path: "/api/users",
    summary: "Create an account (platform admin)",
    tags: ["auth"],
    access: ADMINS,
    audit: "user.create",
    status: 201,
    body: z.object({
      username: z.string().trim().regex(/^[a-z0-9_.-]{3,64}$/, "3-64 of a-z 0-9 _ . -"),
      displayName: z.string().trim().min(1).max(100),
      password: newPassword,
      role: z.enum(roles),
      maintenanceCompanyId: z.number().int().positive().nullable().default(null),
      teamId: z.number().int().positive().nullable().default(null),
    }),
    response: userView,
    handler: async ({ body }) => {
      if (await users.byUsername(body.username)) throw errors.conflict(`user ${body.username} exists`, undefined, "already_exists");
      const { password: plain, ...account } = body;
      return presentUser(await users.create({ ...account, passwordHash: await hashPassword(plain) }));
    },
  });

  api.route({
    method: "patch",
    path: "/api/users/{id}",
    summary: "Change an account's role, scope, or disable/unlock it (platform admin); disabling it or changing its role, company or team ends its sessions",
    tags: ["auth"],
    access: ADMINS,
    audit: "user.update",
    params: z.object({ id: z.coerce.number().int().positive() }),
    body: z.object({
      displayName: z.string().trim().min(1).max(100).optional(),
      role: z.enum(roles).optional(),
      maintenanceCompanyId: z.number().int().positive().nullable().optional(),
      teamId: z.number().int().positive().nullable().optional(),
      disabled: z.boolean().optional(),
      unlock: z.literal(true).optional(),
    }),
    response: userView,
    handler: async ({ params, body }) => {
      const { unlock, ...data } = body;
      const row = await users.update(params.id, { ...data, ...(unlock ? { failedLogins: 0, lockedUntil: null } : {}) });
      if (!row) throw errors.notFound(`user ${params.id}`);
      // What a session may see was decided when it began: a changed role or scope needs a new sign-in.
      const rescoped = body.disabled === true || body.role !== undefined || body.maintenanceCompanyId !== undefined || body.teamId !== undefined;
      if (rescoped) {
        await sessions.endAllOf(params.id);
        deps.endSockets({ userId: params.id });
      }
      return presentUser(row);
    },
  });
}
