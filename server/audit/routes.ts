import { z } from "zod";
import type { ApiRouter } from "../platform/http.ts";
import { AUDITORS } from "../auth/roles.ts";
import { verifyAuditChain } from "./log.ts";
import type { AuditRepository } from "./repository.ts";

const auditEntry = z.object({
  id: z.number().int(),
  at: z.string(),
  actor: z.string(),
  action: z.string(),
  target: z.string().nullable(),
  address: z.string().nullable(),
  data: z.unknown(),
  hash: z.string(),
});

export function registerAuditRoutes(api: ApiRouter, deps: { audit: AuditRepository }): void {
  const { audit } = deps;
  api.route({
    method: "get",
    path: "/api/audit",
    summary: "The audit log, newest first (supervisors and admins); page on with before = the last id seen",
    tags: ["audit"],
    access: AUDITORS,
    query: z.object({
      limit: z.coerce.number().int().min(1).max(1000).default(200),
      before: z.coerce.number().int().positive().optional(),
      actor: z.string().max(64).optional(),
    }),
    response: z.array(auditEntry),
    handler: async ({ query }) => {
      const rows = await audit.page(query);
      return rows.map((r) => ({ ...r, at: r.at.toISOString(), data: r.data }));
    },
  });

  api.route({
    method: "get",
    path: "/api/audit/verify",
    summary: "Recompute the audit log's hash chain",
    tags: ["audit"],
    access: AUDITORS,
    response: z.object({ ok: z.boolean(), rows: z.number().int(), brokenAt: z.number().int().nullable(), message: z.string() }),
    handler: () => verifyAuditChain(audit),
  });
}
