import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPlatform, type TestPlatform } from "../support/platform.ts";
import type { IncidentView } from "../../server/contracts/index.ts";
import { scopeOf } from "../../server/auth/actor-scope.ts";
import { createIncidentReads } from "../../server/incidents/repository/reads.ts";

/**
 * The actor's scope is part of the list query: a company admin pages through every incident of its own
 * company even when the newest incidents city-wide belong to others, and never sees theirs.
 */
describe("scoped, paged incident lists on the real database", () => {
  let platform: TestPlatform;
  let companyId: number;
  let rescuerTeamId: number;
  const own: number[] = [];
  const foreign: number[] = [];
  const offeredToRescuer: number[] = [];

  /** Every page of GET /api/incidents, following X-Next-Cursor to the end. */
  async function allPages(as: string, query: string): Promise<{ pages: IncidentView[][]; statuses: number[] }> {
    const pages: IncidentView[][] = [];
    const statuses: number[] = [];
    let cursor: string | null = null;
    for (let guard = 0; guard < 100; guard++) {
      const res = await platform.fetch(`/api/incidents?${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, {}, as);
      statuses.push(res.status);
      if (res.status !== 200) break;
      pages.push((await res.json()) as IncidentView[]);
      cursor = res.headers.get("x-next-cursor");
      if (!cursor) break;
    }
    return { pages, statuses };
  }

  const openIdsWhere = async (condition: "all" | "company") => {
    const rows =
      condition === "all"
        ? await platform.db.prisma.$queryRaw<{ id: number }[]>`
            SELECT i.id FROM incidents i WHERE i.status NOT IN ('released', 'closed', 'cancelled', 'false_alarm')`
        : await platform.db.prisma.$queryRaw<{ id: number }[]>`
            SELECT i.id FROM incidents i JOIN elevators e ON e.id = i."elevatorId"
            WHERE i.status NOT IN ('released', 'closed', 'cancelled', 'false_alarm') AND e."maintenanceCompanyId" = ${companyId}::int`;
    return new Set(rows.map((r) => r.id));
  };

  beforeAll(async () => {
    platform = await startTestPlatform();
    const prisma = platform.db.prisma;
    const admin = await prisma.user.findUniqueOrThrow({ where: { username: "company1" } });
    const rescuer = await prisma.user.findUniqueOrThrow({ where: { username: "rescuer1" } });
    companyId = admin.maintenanceCompanyId!;
    rescuerTeamId = rescuer.teamId!;
    const ownElevators = (await prisma.elevator.findMany({ where: { maintenanceCompanyId: companyId }, select: { id: true } })).map((e) => e.id);
    const otherElevators = (await prisma.elevator.findMany({ where: { NOT: { maintenanceCompanyId: companyId } }, select: { id: true } })).map((e) => e.id);
    expect(ownElevators.length).toBeGreaterThan(0);
    expect(otherElevators.length).toBeGreaterThan(0);

    // One statement per batch: the company's 300 open incidents, in pairs reported in the same
    // millisecond (the cursor must break ties by id), all older than the 250 of other companies.
    const base = new Date(Date.now() - 3 * 3600_000);
    const insert = (prefix: string, elevators: number[], count: number, startAt: Date, stepMs: number) => prisma.$queryRaw<{ id: number }[]>`
      WITH picks AS (
        SELECT g, (${elevators}::int[])[1 + g % ${elevators.length}::int] AS "elevatorId" FROM generate_series(0, ${count - 1}::int) g)
      INSERT INTO incidents (code, kind, source, "elevatorId", "districtId", "reportedAt", "arrivalDeadlineAt", "updatedAt")
      SELECT ${prefix} || p.g, 'entrapment', 'call', p."elevatorId", s."districtId",
             ${startAt.toISOString()}::timestamp(3) + (p.g / 2) * ${stepMs}::int * interval '1 millisecond',
             ${startAt.toISOString()}::timestamp(3) + interval '30 minutes', now()
      FROM picks p JOIN elevators e ON e.id = p."elevatorId" JOIN sites s ON s.id = e."siteId"
      RETURNING id`;
    own.push(...(await insert("SCOPE-OWN-", ownElevators, 300, base, 1000)).map((r) => r.id));
    foreign.push(...(await insert("SCOPE-OTHER-", otherElevators, 250, new Date(base.getTime() + 3600_000), 1000)).map((r) => r.id));
    // The rescuer's team was offered a few incidents of each kind (declined ones included: a crew keeps
    // the history of jobs it turned down); another team was offered others.
    const otherTeam = await prisma.team.findFirstOrThrow({ where: { id: { not: rescuerTeamId } }, select: { id: true } });
    offeredToRescuer.push(...own.slice(0, 5), ...foreign.slice(0, 7));
    const offer = (incidentIds: number[], teamId: number, status: string) => prisma.$executeRaw`
      INSERT INTO dispatch_offers ("incidentId", "teamId", tier, status, "estimatedArrivalS", "distanceM", "offeredAt", "expiresAt")
      SELECT id, ${teamId}::int, 2, ${status}::"OfferStatus", 600, 3000, now(), now() + interval '1 minute'
      FROM unnest(${incidentIds}::int[]) AS id`;
    await offer(offeredToRescuer.slice(0, 6), rescuerTeamId, "declined");
    await offer(offeredToRescuer.slice(6), rescuerTeamId, "withdrawn");
    await offer([...own.slice(10, 20), ...foreign.slice(10, 20)], otherTeam.id, "declined");
  });

  afterAll(async () => {
    await platform?.close();
  });

  it("gives a company admin all 300 of its open incidents across pages, and none of the newer ones of others", async () => {
    const first = await platform.fetch("/api/incidents?open=true", {}, "company1");
    expect(first.status).toBe(200);
    const firstPage = (await first.json()) as IncidentView[];
    // Filtering after the LIMIT gave this page nothing: the 200 newest incidents city-wide are others'.
    expect(firstPage).toHaveLength(200);
    expect(first.headers.get("x-next-cursor")).toBeTruthy();

    const { pages, statuses } = await allPages("company1", "open=true&limit=70");
    expect(statuses.every((s) => s === 200)).toBe(true);
    const seen = pages.flat();
    const ids = seen.map((v) => v.id);
    expect(new Set(ids).size).toBe(ids.length); // no incident on two pages
    expect(pages.slice(0, -1).every((p) => p.length === 70)).toBe(true);
    expect(seen.every((v) => v.elevator.maintenanceCompanyId === companyId)).toBe(true);
    expect(ids.filter((id) => own.includes(id)).sort((a, b) => a - b)).toEqual([...own].sort((a, b) => a - b));
    expect(ids.some((id) => foreign.includes(id))).toBe(false);
    expect(new Set(ids)).toEqual(await openIdsWhere("company"));
    // Newest first throughout, ties broken by id.
    for (let i = 1; i < seen.length; i++) {
      const [a, b] = [seen[i - 1]!, seen[i]!];
      expect(a.reportedAt > b.reportedAt || (a.reportedAt === b.reportedAt && a.id > b.id)).toBe(true);
    }
  });

  it("gives the dispatcher every open incident exactly once across pages", async () => {
    const { pages } = await allPages("dispatcher", "open=true&limit=150");
    const ids = pages.flat().map((v) => v.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(ids)).toEqual(await openIdsWhere("all"));
    for (const id of [...own, ...foreign]) expect(ids).toContain(id);
    // Newest first: every one of the other companies' (newer) incidents comes before the company's.
    const lastForeign = Math.max(...foreign.map((id) => ids.indexOf(id)));
    const firstOwn = Math.min(...own.map((id) => ids.indexOf(id)));
    expect(lastForeign).toBeLessThan(firstOwn);
  });

  it("shows a rescuer only the incidents its team was offered", async () => {
    const rescuer = await platform.db.prisma.user.findUniqueOrThrow({ where: { username: "rescuer1" } });
    const reads = createIncidentReads(platform.db.prisma);
    const listed: number[] = [];
    let after = null;
    for (;;) {
      const page = await reads.list(scopeOf(rescuer), { open: false, limit: 5, after });
      listed.push(...page.items.map((v) => v.id));
      if (!page.next) break;
      after = page.next;
    }
    const offeredBefore = await platform.db.prisma.dispatchOffer.findMany({ where: { teamId: rescuerTeamId }, select: { incidentId: true } });
    expect(new Set(listed)).toEqual(new Set(offeredBefore.map((o) => o.incidentId)));
    for (const id of offeredToRescuer) expect(listed).toContain(id);
    expect(listed.some((id) => [...own.slice(10, 20), ...foreign.slice(10, 20)].includes(id))).toBe(false);
    // The list route gives the rescuer the same set, page by page.
    const routed: number[] = [];
    for (let cursor: string | null = null, pages = 0; pages < 50; pages++) {
      const res = await platform.fetch(`/api/incidents?open=false&limit=5${cursor ? `&cursor=${cursor}` : ""}`, {}, "rescuer1");
      expect(res.status).toBe(200);
      routed.push(...((await res.json()) as { id: number }[]).map((v) => v.id));
      cursor = res.headers.get("x-next-cursor");
      if (!cursor) break;
    }
    expect(routed).toEqual(listed);

    // Reads by id answer from the same condition: offered -> 200, not offered -> 404 (not 403).
    expect((await platform.fetch(`/api/incidents/${offeredToRescuer[0]}`, {}, "rescuer1")).status).toBe(200);
    expect((await platform.fetch(`/api/incidents/${foreign[5]}/timeline`, {}, "rescuer1")).status).toBe(200);
    expect((await platform.fetch(`/api/incidents/${own[10]}`, {}, "rescuer1")).status).toBe(404);
    expect((await platform.fetch(`/api/incidents/${foreign[100]}/events`, {}, "rescuer1")).status).toBe(404);
  });

  it("answers a company admin's read by id from its scope, and refuses a forged cursor", async () => {
    expect((await platform.fetch(`/api/incidents/${own[42]}`, {}, "company1")).status).toBe(200);
    expect((await platform.fetch(`/api/incidents/${foreign[42]}`, {}, "company1")).status).toBe(404);
    expect((await platform.fetch(`/api/incidents/${foreign[42]}`, {}, "supervisor")).status).toBe(200);
    const forged = await platform.fetch("/api/incidents?cursor=not-a-cursor", {}, "dispatcher");
    expect(forged.status).toBe(400);
  });
});
