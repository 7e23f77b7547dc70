/**
 * `npm run mosquitto:config -- --out DIR [--platform-user U] [--platform-password P] [--port 1883]`
 * Writes DIR/passwd, DIR/acl and DIR/mosquitto.conf from the device registry in DATABASE_URL.
 * The platform's credentials default to MQTT_USERNAME / MQTT_PASSWORD, the ones the server will use.
 */
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
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
  })
  .safeParse({
    out: values.out,
    user: values["platform-user"] ?? process.env.MQTT_USERNAME,
    password: values["platform-password"] ?? process.env.MQTT_PASSWORD,
    port: values.port,
  });
if (!args.success) {
  console.error(args.error.issues.map((i) => i.message).join("; "));
  process.exit(2);
}
const { out, user, password, port } = args.data;
const db = await connectDatabase(parseDatabaseUrl(process.env.DATABASE_URL || undefined));
try {
  const files = await mosquittoFiles(createDeviceRepository(db.prisma), { username: user, password });
  fs.mkdirSync(out, { recursive: true });
  const passwordFile = path.resolve(out, "passwd");
  const aclFile = path.resolve(out, "acl");
  fs.writeFileSync(passwordFile, files.passwd, { mode: 0o600 });
  fs.writeFileSync(aclFile, files.acl);
  fs.writeFileSync(path.resolve(out, "mosquitto.conf"), mosquittoConf({ port, host: "0.0.0.0", passwordFile, aclFile }));
  console.log(`wrote ${passwordFile} (${files.devices} devices + ${user}), ${aclFile}, mosquitto.conf`);
  if (files.skippedWithoutHash.length) {
    console.warn(`${files.skippedWithoutHash.length} devices have no mosquitto hash yet; rotate their secrets to include them`);
  }
} finally {
  await db.close();
}
