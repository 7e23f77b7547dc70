import type { PrismaClient } from "../platform/db/generated/client.ts";
import type { Config } from "../platform/config.ts";
import { verifyPassword } from "../auth/password.ts";
import { DEFAULT_DEMO_DEVICE_KEY, demoDeviceSecret, hashDeviceSecret } from "../devices/secrets.ts";
import { demoTelephonySecret } from "../calls/signature.ts";
import { DEMO_CREW_PREFIX, DEMO_PASSWORD } from "./tianjin.ts";

/** The seed's named accounts (server/seed/tianjin.ts); the crews are `crew-<team id>`. */
const DEMO_USERNAMES = ["dispatcher", "supervisor", "admin", "company1", "rescuer1", "rescuer2", "rescuer3"];

export class DemoSecretsInProductionError extends Error {}

/**
 * Every published demo secret this installation still uses, each as a sentence saying which and what to
 * do: enabled accounts with the demo password, devices whose MQTT secret derives from the demo key, and
 * the telephony webhook's demo secret. Production refuses to start while any is left.
 *
 * Checking a password costs a scrypt run, so only the candidates are tried: the seed's account names and
 * any hash shared by several accounts (the seed hashes the demo password once for all of them; a password
 * set by a person gets its own salt).
 */
export async function findDemoSecrets(prisma: PrismaClient, config: Config): Promise<string[]> {
  const found: string[] = [];

  const candidates = await prisma.$queryRaw<{ username: string; passwordHash: string }[]>`
    SELECT username, "passwordHash" FROM users u
    WHERE NOT u.disabled AND (
      u.username = ANY(${DEMO_USERNAMES}::text[]) OR u.username LIKE ${`${DEMO_CREW_PREFIX}%`}
      OR EXISTS (SELECT 1 FROM users o WHERE o."passwordHash" = u."passwordHash" AND o.id <> u.id))`;
  const verdicts = new Map<string, Promise<boolean>>();
  const isDemo = (hash: string) => verdicts.get(hash) ?? verdicts.set(hash, verifyPassword(DEMO_PASSWORD, hash)).get(hash)!;
  const demoAccounts: string[] = [];
  for (const row of candidates) if (await isDemo(row.passwordHash)) demoAccounts.push(row.username);
  if (demoAccounts.length) {
    const shown = demoAccounts.slice(0, 5).join(", ") + (demoAccounts.length > 5 ? ` and ${demoAccounts.length - 5} more` : "");
    found.push(`${demoAccounts.length} account(s) use the public demo password (${shown}): disable them or change their passwords`);
  }

  const keys = [...new Set([DEFAULT_DEMO_DEVICE_KEY, config.demo.deviceKey])];
  const devices = await prisma.device.findMany({ where: { disabledAt: null }, select: { id: true, secretHash: true } });
  const demoDevices = devices.filter((d) => keys.some((key) => d.secretHash === hashDeviceSecret(demoDeviceSecret(d.id, key))));
  if (demoDevices.length) {
    found.push(`${demoDevices.length} device(s) have a secret derived from the public demo key (e.g. ${demoDevices[0]!.id}): rotate their secrets`);
  }

  const demoTelephony = keys.map((key) => demoTelephonySecret(key));
  if (config.telephonySecret === null ? config.demo.load : demoTelephony.includes(config.telephonySecret)) {
    found.push("the telephony webhook would accept the public demo secret: set TELEPHONY_SECRET to a secret of your own");
  }
  if (config.demo.load) found.push("DEMO_DATA is on: unset it (demo data is for trying the platform out)");
  return found;
}
