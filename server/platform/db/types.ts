import type { Prisma, PrismaClient } from "./generated/client.ts";

/** A Prisma client or the transaction client inside `$transaction`: repositories accept either. */
export type DbClient = PrismaClient | Prisma.TransactionClient;
