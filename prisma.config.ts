import { defineConfig } from "prisma/config";
import { openDatabase } from "./server/platform/db/adapter.ts";
import { parseDatabaseUrl } from "./server/platform/db/target.ts";

// The JavaScript schema engine works offline (docs/architecture.md); the adapter follows DATABASE_URL like the server.
export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  async adapter() {
    return openDatabase(parseDatabaseUrl(process.env.DATABASE_URL), { poolSize: 1 }).factory;
  },
});
