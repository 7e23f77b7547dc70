import type { Logger } from "../platform/logger.ts";
import { hashPassword } from "./password.ts";
import type { UserRepository } from "./repository.ts";

export type FirstAdminOutcome = "created" | "exists" | "ignored" | "missing";

/**
 * The first platform admin of an installation without demo data: from ADMIN_PASSWORD when no enabled admin
 * exists yet (once: later starts find the admin and leave it alone), else `npm run admin:create`.
 */
export async function ensureFirstAdmin(
  users: UserRepository,
  wanted: { username: string; password: string } | null,
  log: Logger,
): Promise<FirstAdminOutcome> {
  if (await users.hasAdmin()) {
    if (wanted) log.warn("ADMIN_PASSWORD is set but an admin account exists: it was not used; remove it from the environment");
    return wanted ? "ignored" : "exists";
  }
  if (!wanted) {
    log.warn("no admin account yet: create one with `npm run admin:create` (or start once with ADMIN_PASSWORD)");
    return "missing";
  }
  if ((await createAdmin(users, wanted)) === "created") {
    log.info({ username: wanted.username }, "first admin account created from ADMIN_PASSWORD; remove it from the environment");
    return "created";
  }
  log.warn({ username: wanted.username }, "ADMIN_PASSWORD: the username belongs to an account that is not an admin; set ADMIN_USERNAME");
  return "ignored";
}

/** Creates an admin account; "taken" when the username belongs to an account already. */
export async function createAdmin(users: UserRepository, account: { username: string; password: string; displayName?: string }): Promise<"created" | "taken"> {
  if (await users.byUsername(account.username)) return "taken";
  await users.create({
    username: account.username,
    displayName: account.displayName ?? "平台管理员",
    passwordHash: await hashPassword(account.password),
    role: "admin",
    maintenanceCompanyId: null,
    teamId: null,
  });
  return "created";
}
