import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { io } from "socket.io-client";
import { startTestPlatform, type TestPlatform } from "../support/platform.ts";
import { DEMO_PASSWORD, connectConsole, login } from "../support/clients.ts";
import { roles, type Role } from "../../server/auth/roles.ts";

/** One demo account per role (server/seed). */
const ACCOUNTS: Record<Role, string> = {
  dispatcher: "dispatcher",
  rescuer: "rescuer1",
  supervisor: "supervisor",
  company_admin: "company1",
  admin: "admin",
};

type Operation = { "x-access"?: "public" | "machine" | Role[] };

describe("accounts, roles and the allow/deny matrix", () => {
  let platform: TestPlatform;
  const cookies = new Map<Role, string>();
  const call = (method: string, path: string, cookie: string | null, body?: unknown) =>
    fetch(`${platform.baseUrl}${path}`, {
      method: method.toUpperCase(),
      headers: { "content-type": "application/json", ...(cookie ? { cookie } : {}) },
      body: method === "get" ? undefined : JSON.stringify(body ?? {}),
    });

  beforeAll(async () => {
    platform = await startTestPlatform({ TELEPHONY_SECRET: "matrix-test-telephony-secret-0123456789" });
    for (const role of roles) cookies.set(role, await login(platform.baseUrl, ACCOUNTS[role]));
  });
  afterAll(async () => {
    await platform?.close();
  });

  /**
   * The exact answer of every route to every caller, with ids that are in scope for the scoped roles
   * (rescuer1's team, company1's elevator), so a 404 means what the row says and never stands in for
   * "allowed". Columns: anonymous dispatcher rescuer supervisor company_admin admin. Mutating routes get an
   * empty JSON body: 400 is "let in, then refused as invalid". The walk runs in document order, so a row
   * may see what an earlier row did (the dispatcher accepts the offer first; the rescuer then finds it taken).
   */
  const EXPECTED: Record<string, string> = {
    "POST /api/auth/login": "400 400 400 400 400 400",
    "GET /api/auth/me": "401 200 200 200 200 200",
    "POST /api/auth/password": "401 400 400 400 400 400",
    "GET /api/users": "401 403 403 403 403 200",
    "POST /api/users": "401 403 403 403 403 400",
    "PATCH /api/users/{id}": "401 403 403 403 403 200",
    "GET /api/audit": "401 403 403 200 403 200",
    "GET /api/audit/verify": "401 403 403 200 403 200",
    "GET /api/incidents": "401 200 200 200 200 200",
    "GET /api/incidents/{id}": "401 200 200 200 200 200",
    "GET /api/incidents/{id}/events": "401 200 200 200 200 200",
    "GET /api/teams/{id}/offers": "401 200 200 200 200 200",
    "POST /api/incidents/{id}/transitions": "401 400 400 403 403 400",
    "POST /api/incidents/{id}/steps": "401 400 400 403 403 400",
    "GET /api/incidents/{id}/timeline": "401 200 200 200 200 200",
    "GET /api/mass-events": "401 200 403 200 403 200",
    "GET /api/mass-events/{id}": "401 404 403 404 403 404",
    "POST /api/mass-events/{id}/transitions": "401 400 403 403 403 400",
    "POST /api/telephony/events": "401 401 401 401 401 401",
    "POST /api/calls": "401 400 403 403 403 400",
    "GET /api/calls": "401 200 403 200 403 200",
    "POST /api/calls/{id}/incident": "401 400 403 403 403 400",
    "GET /api/calls/{id}": "401 200 403 200 403 200",
    "GET /api/elevators/lookup": "401 400 403 400 403 400",
    "GET /api/alarms": "401 200 403 200 403 200",
    "POST /api/alarms/{id}/acknowledge": "401 404 403 403 403 404",
    "POST /api/devices": "401 403 403 403 403 400",
    "GET /api/devices/{id}": "401 200 403 200 403 200",
    "POST /api/devices/{id}/bind": "401 403 403 403 403 400",
    "POST /api/devices/{id}/unbind": "401 403 403 403 403 200",
    "POST /api/devices/{id}/rotate-secret": "401 403 403 403 403 200",
    "POST /api/devices/{id}/disable": "401 403 403 403 403 200",
    "POST /api/devices/{id}/enable": "401 403 403 403 403 200",
    "GET /api/elevators/{id}/live": "401 404 404 404 404 404",
    "GET /api/client-config": "200 200 200 200 200 200",
    "GET /api/districts": "401 200 200 200 200 200",
    "GET /api/elevators/points": "401 200 200 200 200 200",
    "GET /api/elevators/by-rescue-code/{rescueCode}": "401 200 200 200 200 200",
    "GET /api/teams": "401 200 200 200 200 200",
    "POST /api/teams/{id}/position": "401 400 400 403 400 400",
    "POST /api/teams/{id}/status": "401 400 400 403 400 400",
    "GET /api/incidents/{id}/candidates": "401 200 403 200 403 200",
    "POST /api/incidents/{id}/offers": "401 400 403 403 403 400",
    "POST /api/offers/{id}/accept": "401 200 409 403 403 409",
    "POST /api/offers/{id}/decline": "401 400 400 403 403 400",
    "POST /api/offers/{id}/withdraw": "401 400 403 403 403 400",
    "POST /api/offers/{id}/depart": "401 200 200 403 403 200",
    "POST /api/offers/{id}/arrive": "401 400 400 403 403 400",
    "GET /api/health": "200 200 200 200 200 200",
    "POST /api/auth/logout": "401 200 200 200 200 200",
    "GET /api/analytics/bulletin/{month}": "401 400 403 400 403 400",
    "GET /api/analytics/call-centre": "401 200 403 200 403 200",
    "GET /api/analytics/companies": "401 200 403 200 200 200",
    "GET /api/analytics/figures": "401 200 403 200 200 200",
    "GET /api/analytics/incidents": "401 200 403 200 200 200",
    "GET /api/analytics/iot": "401 200 403 200 403 200",
    "GET /api/analytics/most-trapping": "401 200 403 200 200 200",
    "GET /api/analytics/red-list": "401 200 403 200 200 200",
    "GET /api/analytics/repeats": "401 200 403 200 200 200",
    "GET /api/analytics/trends": "401 200 403 200 200 200",
    "GET /api/field/me": "401 403 200 403 403 403",
    "GET /api/incidents/{id}/photos": "401 200 200 200 200 200",
    "GET /api/photos/{id}": "401 404 404 404 404 404",
    "POST /api/field/actions": "401 403 400 403 403 403",
    "POST /api/field/photos": "401 403 400 403 403 403",
    "POST /api/field/position": "401 403 400 403 403 403",
  };

  it("walks every route of the OpenAPI document with every role and with none, asserting each status", { timeout: 240_000 }, async () => {
    const prisma = platform.db.prisma;
    const rescuer = await prisma.user.findUniqueOrThrow({ where: { username: ACCOUNTS.rescuer }, include: { team: true } });
    const companyAdmin = await prisma.user.findUniqueOrThrow({ where: { username: ACCOUNTS.company_admin } });
    const lift = await prisma.elevator.findFirstOrThrow({
      where: { maintenanceCompanyId: companyAdmin.maintenanceCompanyId!, incidents: { none: {} }, device: { isNot: null } },
      include: { device: true },
      orderBy: { id: "asc" },
    });
    const opened = await call("post", "/api/calls", cookies.get("dispatcher")!, { callerNumber: "13700009999", elevatorId: lift.id, openIncident: true, autoDispatch: false });
    expect(opened.status).toBe(201);
    const { call: madeCall, incident } = (await opened.json()) as { call: { id: number }; incident: { id: number } };
    expect((await call("post", `/api/incidents/${incident.id}/offers`, cookies.get("dispatcher")!, { teamId: rescuer.teamId, reason: "调度员派单" })).status).toBe(201);
    const offer = await prisma.dispatchOffer.findFirstOrThrow({ where: { incidentId: incident.id, teamId: rescuer.teamId! } });
    const ids: [RegExp, string][] = [
      [/^\/api\/incidents\//, String(incident.id)],
      [/^\/api\/offers\//, String(offer.id)],
      [/^\/api\/teams\//, String(rescuer.teamId)],
      [/^\/api\/calls\//, String(madeCall.id)],
      [/^\/api\/elevators\//, String(lift.id)],
      [/^\/api\/devices\//, lift.device!.id],
    ];
    const urlOf = (path: string) =>
      path.replace("{rescueCode}", lift.rescueCode).replace("{id}", ids.find(([re]) => re.test(path))?.[1] ?? "1");

    const doc = (await (await fetch(`${platform.baseUrl}/api/openapi.json`)).json()) as { paths: Record<string, Record<string, Operation>> };
    const operations = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method, op })));
    expect(operations.length).toBeGreaterThan(40);
    // Logout ends the session it is called with: walk it last.
    operations.sort((a, b) => Number(a.path === "/api/auth/logout") - Number(b.path === "/api/auth/logout"));
    const actual: Record<string, string> = {};
    for (const { path, method, op } of operations) {
      const access = op["x-access"];
      expect(access, `${method.toUpperCase()} ${path} declares no access rule`).toBeDefined();
      const row: number[] = [];
      for (const caller of [null, ...roles] as (Role | null)[]) {
        const res = await call(method, urlOf(path), caller ? cookies.get(caller)! : null);
        row.push(res.status);
        // The declared rule and the answer agree: no session 401, a role not listed 403, a listed role never.
        const where = `${method.toUpperCase()} ${path} as ${caller ?? "anonymous"} -> ${res.status}`;
        expect(res.status, where).toBeLessThan(500);
        if (Array.isArray(access) && caller === null) expect(res.status, where).toBe(401);
        if (Array.isArray(access) && caller !== null && !access.includes(caller)) expect(res.status, where).toBe(403);
      }
      actual[`${method.toUpperCase()} ${path}`] = row.join(" ");
    }
    // The walk signed everyone out (logout is a route too): sign in again for the tests below, and free the
    // rescuer's team of the job it accepted during the walk.
    for (const role of roles) cookies.set(role, await login(platform.baseUrl, ACCOUNTS[role]));
    expect((await call("post", `/api/offers/${offer.id}/withdraw`, cookies.get("dispatcher")!, { reason: "测试结束" })).status).toBe(200);
    console.log(`status matrix (anonymous ${roles.join(" ")}):\n${Object.entries(actual).map(([k, v]) => `    "${k}": "${v}",`).join("\n")}`);
    expect(actual).toEqual(EXPECTED);
  });

  it("signs in and out, refuses a wrong password, and locks an account after five failures", async () => {
    const me = await fetch(`${platform.baseUrl}/api/auth/me`);
    expect(me.status).toBe(401);
    const cookie = await login(platform.baseUrl, "rescuer2");
    const res = await call("get", "/api/auth/me", cookie);
    expect(await res.json()).toMatchObject({ username: "rescuer2", role: "rescuer" });

    const login1 = await fetch(`${platform.baseUrl}/api/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "rescuer2", password: DEMO_PASSWORD }) });
    expect(login1.headers.get("set-cookie")).toMatch(/HttpOnly; SameSite=Strict/);

    expect((await call("post", "/api/auth/logout", cookie)).status).toBe(200);
    expect((await call("get", "/api/auth/me", cookie)).status).toBe(401);

    for (let i = 0; i < 5; i++) {
      const bad = await call("post", "/api/auth/login", null, { username: "rescuer3", password: "wrong" });
      expect(bad.status).toBe(401);
    }
    const locked = await call("post", "/api/auth/login", null, { username: "rescuer3", password: DEMO_PASSWORD });
    expect(locked.status).toBe(423);
    expect((await call("patch", "/api/users/1", cookies.get("admin")!, {})).status).toBe(200);
  });

  it("changes a password and ends the user's other sessions", async () => {
    const a = await login(platform.baseUrl, "rescuer2");
    const b = await login(platform.baseUrl, "rescuer2");
    expect((await call("post", "/api/auth/password", a, { currentPassword: "nope", newPassword: "a-new-secret-1" })).status).toBe(400);
    expect((await call("post", "/api/auth/password", a, { currentPassword: DEMO_PASSWORD, newPassword: "a-new-secret-1" })).status).toBe(200);
    expect((await call("get", "/api/auth/me", a)).status).toBe(200);
    expect((await call("get", "/api/auth/me", b)).status).toBe(401);
    await login(platform.baseUrl, "rescuer2", "a-new-secret-1");
  });

  it("refuses mutating requests that are not JSON (CSRF) and cross-origin API requests", async () => {
    const form = await fetch(`${platform.baseUrl}/api/calls`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie: cookies.get("dispatcher")! },
      body: "callerNumber=13800000000",
    });
    expect(form.status).toBe(415);
    const cross = await fetch(`${platform.baseUrl}/api/incidents`, { headers: { origin: "https://evil.example", cookie: cookies.get("dispatcher")! } });
    expect(cross.status).toBe(403);
    expect(cross.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("scopes company admins and rescuers to their own teams", async () => {
    const teams = (await (await call("get", "/api/teams", cookies.get("company_admin")!)).json()) as { id: number; maintenanceCompanyId: number | null }[];
    expect(teams.length).toBeGreaterThan(0);
    expect(teams.every((t) => t.maintenanceCompanyId === 1)).toBe(true);
    const other = await platform.db.prisma.team.findFirstOrThrow({ where: { NOT: { maintenanceCompanyId: 1 } } });
    expect((await call("post", `/api/teams/${other.id}/status`, cookies.get("company_admin")!, { status: "off_duty" })).status).toBe(404);
    expect((await call("post", `/api/teams/${teams[0]!.id}/status`, cookies.get("company_admin")!, { status: "available" })).status).toBe(200);
    const rescuer = await platform.db.prisma.user.findUniqueOrThrow({ where: { username: "rescuer1" } });
    expect((await call("post", `/api/teams/${other.id === rescuer.teamId ? other.id + 1 : other.id}/status`, cookies.get("rescuer")!, { status: "available" })).status).toBe(404);
  });

  it("shows a team's offers to the centre, its company admin and its own rescuers only", async () => {
    const rescuer = await platform.db.prisma.user.findUniqueOrThrow({ where: { username: ACCOUNTS.rescuer }, include: { team: true } });
    const admin = await platform.db.prisma.user.findUniqueOrThrow({ where: { username: ACCOUNTS.company_admin } });
    const own = rescuer.team!;
    const foreign = await platform.db.prisma.team.findFirstOrThrow({
      where: { id: { not: own.id }, OR: [{ maintenanceCompanyId: null }, { maintenanceCompanyId: { not: admin.maintenanceCompanyId! } }] },
    });
    const lift = await platform.db.prisma.elevator.findFirstOrThrow({ where: { incidents: { none: {} } }, orderBy: { id: "desc" } });
    const opened = await call("post", "/api/calls", cookies.get("dispatcher")!, { callerNumber: "13700004321", elevatorId: lift.id, openIncident: true, autoDispatch: false });
    expect(opened.status).toBe(201);
    const incidentId = ((await opened.json()) as { incident: { id: number } }).incident.id;
    expect((await call("post", `/api/incidents/${incidentId}/offers`, cookies.get("dispatcher")!, { teamId: own.id, reason: "调度员派单" })).status).toBe(201);

    const statuses = async (teamId: number) => {
      const out: Record<string, number> = { anonymous: (await call("get", `/api/teams/${teamId}/offers`, null)).status };
      for (const role of roles) out[role] = (await call("get", `/api/teams/${teamId}/offers`, cookies.get(role)!)).status;
      return out;
    };
    const ownCompany = own.maintenanceCompanyId === admin.maintenanceCompanyId;
    expect(await statuses(own.id)).toEqual({
      anonymous: 401, dispatcher: 200, rescuer: 200, supervisor: 200, company_admin: ownCompany ? 200 : 404, admin: 200,
    });
    // Another company's (or a station's) team: "not found" for whoever may not see it, existence not revealed.
    expect(await statuses(foreign.id)).toEqual({ anonymous: 401, dispatcher: 200, rescuer: 404, supervisor: 200, company_admin: 404, admin: 200 });
    expect((await call("get", "/api/teams/999999/offers", cookies.get("dispatcher")!)).status).toBe(404);

    const offers = (await (await call("get", `/api/teams/${own.id}/offers`, cookies.get("rescuer")!)).json()) as {
      id: number; teamId: number; status: string; respondedAt: string | null; arrivedAt: string | null; incident: { id: number };
    }[];
    const offer = offers.find((o) => o.incident.id === incidentId);
    expect(offer).toMatchObject({ teamId: own.id, status: "offered", respondedAt: null, arrivedAt: null });
    expect(offers.every((o) => o.teamId === own.id && ["offered", "accepted"].includes(o.status))).toBe(true);
    // Free the team again for the tests below; a withdrawn offer is no longer the team's to answer.
    expect((await call("post", `/api/offers/${offer!.id}/withdraw`, cookies.get("dispatcher")!, { reason: "测试结束" })).status).toBe(200);
    const after = (await (await call("get", `/api/teams/${own.id}/offers`, cookies.get("rescuer")!)).json()) as { id: number }[];
    expect(after.some((o) => o.id === offer!.id)).toBe(false);
  });

  it("masks caller numbers for roles that do not need them, in REST and in socket pushes", async () => {
    const dispatcherSocket = await connectConsole(platform.baseUrl, cookies.get("dispatcher")!);
    const supervisorSocket = await connectConsole(platform.baseUrl, cookies.get("supervisor")!);
    const created = await call("post", "/api/calls", cookies.get("dispatcher")!, { callerNumber: "13912345678" });
    expect(created.status).toBe(201);
    const { call: c } = (await created.json()) as { call: { id: number; callerNumber: string } };
    expect(c.callerNumber).toBe("13912345678");
    const asSupervisor = (await (await call("get", `/api/calls/${c.id}`, cookies.get("supervisor")!)).json()) as { callerNumber: string };
    expect(asSupervisor.callerNumber).toBe("139****5678");
    type Pushed = { id: number; callerNumber: string };
    const pushes = (client: typeof dispatcherSocket) =>
      client.received.filter((r) => r.event.startsWith("call:") && (r.payload as Pushed).id === c.id).map((r) => (r.payload as Pushed).callerNumber);
    await expect.poll(() => pushes(dispatcherSocket).length).toBeGreaterThan(0);
    await expect.poll(() => pushes(supervisorSocket).length).toBe(pushes(dispatcherSocket).length);
    // Each socket gets every push once, in the form its role may see.
    expect(new Set(pushes(dispatcherSocket))).toEqual(new Set(["13912345678"]));
    expect(new Set(pushes(supervisorSocket))).toEqual(new Set(["139****5678"]));
    dispatcherSocket.close();
    supervisorSocket.close();
  });

  it("pushes reach a company admin or a rescuer only for what they may read over REST", async () => {
    const companySocket = await connectConsole(platform.baseUrl, cookies.get("company_admin")!);
    const rescuerSocket = await connectConsole(platform.baseUrl, cookies.get("rescuer")!);
    const supervisorSocket = await connectConsole(platform.baseUrl, cookies.get("supervisor")!);
    try {
      const admin = await platform.db.prisma.user.findUniqueOrThrow({ where: { username: ACCOUNTS.company_admin } });
      const rescuer = await platform.db.prisma.user.findUniqueOrThrow({ where: { username: ACCOUNTS.rescuer }, include: { team: true } });
      const rescuerCompany = rescuer.team!.maintenanceCompanyId!;
      const own = await platform.db.prisma.elevator.findFirstOrThrow({ where: { maintenanceCompanyId: admin.maintenanceCompanyId!, incidents: { none: {} } } });
      const foreign = await platform.db.prisma.elevator.findFirstOrThrow({
        where: { maintenanceCompanyId: { notIn: [admin.maintenanceCompanyId!, rescuerCompany] }, incidents: { none: {} } },
      });
      const teamsJob = await platform.db.prisma.elevator.findFirstOrThrow({
        where: { maintenanceCompanyId: rescuerCompany, incidents: { none: {} }, id: { not: own.id } },
      });
      const open = async (elevatorId: number) => {
        const res = await call("post", "/api/calls", cookies.get("dispatcher")!, { callerNumber: "13700001234", elevatorId, openIncident: true, autoDispatch: false });
        expect(res.status).toBe(201);
        return ((await res.json()) as { incident: { id: number } }).incident.id;
      };
      const [ownId, foreignId, teamsJobId] = [await open(own.id), await open(foreign.id), await open(teamsJob.id)];
      const offered = await call("post", `/api/incidents/${teamsJobId}/offers`, cookies.get("dispatcher")!, { teamId: rescuer.teamId, reason: "调度员派单" });
      expect(offered.status).toBe(201);

      type Pushed = { id?: number; incidentId?: number };
      const incidentsSeen = (client: typeof companySocket) =>
        new Set(
          client.received
            .filter((r) => r.event.startsWith("incident:"))
            .map((r) => (r.payload as Pushed).incidentId ?? (r.payload as Pushed).id),
        );
      // The centre sees all three, and the offer to the rescuer's team; then the others have had their chance.
      await expect.poll(() => [...incidentsSeen(supervisorSocket)].filter((id) => [ownId, foreignId, teamsJobId].includes(id!)).length).toBe(3);
      await rescuerSocket.waitFor<Pushed>("incident:updated", (p) => p.id === teamsJobId);
      await new Promise((r) => setTimeout(r, 300));

      const company = incidentsSeen(companySocket);
      expect(company.has(ownId)).toBe(true);
      expect(company.has(foreignId)).toBe(false);
      expect(company.has(teamsJobId)).toBe(rescuerCompany === admin.maintenanceCompanyId);
      const team = incidentsSeen(rescuerSocket);
      expect(team.has(teamsJobId)).toBe(true);
      expect(team.has(ownId)).toBe(false);
      expect(team.has(foreignId)).toBe(false);
      expect(rescuerSocket.received.some((r) => r.event === "incident:timeline" && (r.payload as Pushed).incidentId === teamsJobId)).toBe(true);
      // Calls are the centre's: only the supervisor of these three heard them.
      const calls = (client: typeof companySocket) => client.received.filter((r) => r.event.startsWith("call:")).length;
      expect(calls(supervisorSocket)).toBeGreaterThan(0);
      expect(calls(companySocket)).toBe(0);
      expect(calls(rescuerSocket)).toBe(0);
    } finally {
      for (const socket of [companySocket, rescuerSocket, supervisorSocket]) socket.close();
    }
  });

  it("refuses a Socket.io connection without a session", async () => {
    const socket = io(platform.baseUrl, { transports: ["websocket"], reconnection: false });
    const error = await new Promise<Error>((resolve) => socket.once("connect_error", resolve));
    socket.close();
    expect(error.message).toBe("unauthenticated");
  });

  it("writes audit entries readable by supervisors only", async () => {
    const res = await call("get", "/api/audit?limit=1000", cookies.get("supervisor")!);
    expect(res.status).toBe(200);
    const rows = (await res.json()) as { actor: string; action: string }[];
    expect(rows.some((r) => r.action === "auth.login" && r.actor === "dispatcher")).toBe(true);
    expect(rows.some((r) => r.action === "auth.login_failed" && r.actor === "rescuer3")).toBe(true);
    expect(rows.some((r) => r.action === "POST /api/calls")).toBe(true);
    expect((await call("get", "/api/audit", cookies.get("dispatcher")!)).status).toBe(403);
    expect(await (await call("get", "/api/audit/verify", cookies.get("admin")!)).json()).toMatchObject({ ok: true });
  });
});
