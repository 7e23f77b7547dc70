/**
 * `npm run mosquitto:config -- --out DIR [--platform-user U] [--platform-password P] [--port 1883]
 *    [--tls-cert FILE --tls-key FILE [--tls-port 8883] [--tls-only]]`
 * Writes DIR/passwd, DIR/acl and DIR/mosquitto.conf from the device registry in DATABASE_URL.
 * The platform's credentials default to MQTT_USERNAME / MQTT_PASSWORD, the ones the server will use.
 * Run as root, the files are handed to the `mosquitto` user, which Mosquitto drops to when started as root.
 */
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import { refuseOpenPGlite } from "../platform/db/in-use.ts";
import { connectDatabase } from "../platform/db/index.ts";
import { parseDatabaseUrl } from "../platform/db/target.ts";
import { mosquittoConf, mosquittoFiles } from "./mosquitto.ts";
import { createDeviceRepository } from "./repository.ts";

const { values } = parseArgs({
  options: {
    out: { type: "string" },
    "platform-user": { type: "string" },
    "platform-password": { type: "string" },
    port: { type: "string", default: "1883" },
    "tls-cert": { type: "string" },
    "tls-key": { type: "string" },
    "tls-port": { type: "string", default: "8883" },
    "tls-only": { type: "boolean", default: false },
  },
});
const args = z
  .object({
    out: z.string({ error: "--out DIR is required" }).min(1, "--out DIR is required"),
    user: z.string({ error: "--platform-user or MQTT_USERNAME is required" }).min(1),
    password: z
      .string({ error: "--platform-password or MQTT_PASSWORD (8+ characters) is required" })
      .min(8, "--platform-password or MQTT_PASSWORD (8+ characters) is required"),
    port: z.coerce.number().int().min(1).max(65535),
    tlsPort: z.coerce.number().int().min(1).max(65535),
    tlsCert: z.string().optional(),
    tlsKey: z.string().optional(),
    tlsOnly: z.boolean(),
  })
  .refine((a) => Boolean(a.tlsCert) === Boolean(a.tlsKey), "--tls-cert and --tls-key go together")
  .refine((a) => !a.tlsOnly || a.tlsCert, "--tls-only needs --tls-cert and --tls-key")
  .safeParse({
    out: values.out,
    user: values["platform-user"] ?? process.env.MQTT_USERNAME,
    password: values["platform-password"] ?? process.env.MQTT_PASSWORD,
    port: values.port,
    tlsPort: values["tls-port"],
    tlsCert: values["tls-cert"],
    tlsKey: values["tls-key"],
    tlsOnly: values["tls-only"],
  });
if (!args.success) {
  console.error(args.error.issues.map((i) => i.message).join("; "));
  process.exit(2);
}
const { out, user, password, port, tlsPort, tlsCert, tlsKey, tlsOnly } = args.data;
const target = parseDatabaseUrl(process.env.DATABASE_URL || undefined);
refuseOpenPGlite(target);
const db = await connectDatabase(target);
try {
  const files = await mosquittoFiles(createDeviceRepository(db.prisma), { username: user, password });
  fs.mkdirSync(out, { recursive: true });
  const passwordFile = path.resolve(out, "passwd");
  const aclFile = path.resolve(out, "acl");
  fs.writeFileSync(passwordFile, files.passwd, { mode: 0o640 });
  fs.chmodSync(passwordFile, 0o640);
  fs.writeFileSync(aclFile, files.acl, { mode: 0o644 });
  const tls = tlsCert && tlsKey ? { port: tlsPort, certFile: path.resolve(tlsCert), keyFile: path.resolve(tlsKey), only: tlsOnly } : undefined;
  const confFile = path.resolve(out, "mosquitto.conf");
  fs.writeFileSync(confFile, mosquittoConf({ port, host: "0.0.0.0", passwordFile, aclFile, tls }), { mode: 0o644 });
  const owner = process.getuid?.() === 0 ? mosquittoUser() : null;
  if (owner) {
    // Mosquitto started as root reads its files after dropping to this user (`Unable to open pwfile` otherwise).
    for (const file of [passwordFile, aclFile, confFile]) fs.chownSync(file, 0, owner.gid);
    fs.chmodSync(out, 0o755);
    console.log(`files readable by group ${owner.gid} (the mosquitto user's); the TLS key must be readable by that user too`);
  }
  console.log(`wrote ${passwordFile} (${files.devices} devices + ${user}), ${aclFile}, mosquitto.conf`);
  if (files.skippedWithoutHash.length) {
    console.warn(`${files.skippedWithoutHash.length} devices have no mosquitto hash yet; rotate their secrets to include them`);
  }
} finally {
  await db.close();
}

/** The `mosquitto` account from /etc/passwd, if this machine has one. */
function mosquittoUser(): { uid: number; gid: number } | null {
  try {
    const line = fs
      .readFileSync("/etc/passwd", "utf8")
      .split("\n")
      .find((l) => l.startsWith("mosquitto:"));
    if (!line) return null;
    const [, , uid, gid] = line.split(":");
    return { uid: Number(uid), gid: Number(gid) };
  } catch {
    return null;
  }
}
