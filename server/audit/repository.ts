import type { PrismaClient } from "../platform/db/generated/client.ts";

/** The audit log's storage: the only place its SQL lives. The chain's hashing stays in log.ts. */

export interface AuditRow {
  id: number;
  at: Date;
  actor: string;
  action: string;
  target: string | null;
  address: string | null;
  data: unknown;
}

export interface StoredAuditRow extends AuditRow {
  hash: string;
}

export interface AuditRepository {
  /**
   * Appends one row while no other writer can: `compose` gets the last row's hash (null on an empty log)
   * and the new row's id, and returns the row with its hash. Serialising writers keeps the chain unforked.
   */
  append(compose: (previousHash: string | null, id: number) => StoredAuditRow): Promise<void>;
  /** Newest first, before an id (keyset paging), optionally of one actor. */
  page(filter: { before?: number; actor?: string; limit: number }): Promise<StoredAuditRow[]>;
  /** Oldest first, the rows after an id: the chain check walks the log with it. */
  after(id: number, limit: number): Promise<StoredAuditRow[]>;
}

export function createAuditRepository(prisma: PrismaClient): AuditRepository {
  return {
    async append(compose) {
      await prisma.$transaction(async (tx) => {
        await tx.$executeRawUnsafe(`LOCK TABLE "audit_log" IN SHARE ROW EXCLUSIVE MODE`);
        const last = await tx.auditLog.findFirst({ orderBy: { id: "desc" }, select: { hash: true } });
        const [{ id }] = (await tx.$queryRawUnsafe(`SELECT nextval(pg_get_serial_sequence('audit_log', 'id'))::int AS id`)) as [{ id: number }];
        const row = compose(last?.hash ?? null, id);
        await tx.auditLog.create({ data: { ...row, data: (row.data ?? undefined) as never } });
      });
    },
    page: (filter) =>
      prisma.auditLog.findMany({
        where: { ...(filter.before ? { id: { lt: filter.before } } : {}), ...(filter.actor ? { actor: filter.actor } : {}) },
        orderBy: { id: "desc" },
        take: filter.limit,
      }),
    after: (id, limit) => prisma.auditLog.findMany({ where: { id: { gt: id } }, orderBy: { id: "asc" }, take: limit }),
  };
}
