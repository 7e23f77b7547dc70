import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { io } from "socket.io-client";
import { startTestPlatform, type TestPlatform } from "../support/platform.ts";
import { DEMO_PASSWORD, connectConsole, login } from "../support/clients.ts";

/**
 * What a rescuer and a company admin may do and see, and sessions that end everywhere at once. The
 * role-matrix walk (auth-roles.test.ts) gives every route's status for in-scope ids; this file drives the
 * field's own steps on a real job and the edges around them.
 */
describe("field roles, scopes and sessions", () => {
  let platform: TestPlatform;
  const cookies = new Map<string, string>();
  const as = async (username: string) => cookies.get(username) ?? cookies.set(username, await login(platform.baseUrl, username)).get(username)!;
  const call = async (method: string, path: string, username: string | null, body?: unknown) =>
    fetch(`${platform.baseUrl}${path}`, {
      method: method.toUpperCase(),
      headers: { "content-type": "application/json", ...(username ? { cookie: await as(username) } : {}) },
      body: method === "get" ? undefined : JSON.stringify(body ?? {}),
    });
  /** An incident on a company-1 elevator, offered to rescuer1's team, with a call that has notes and a recording. */
  const openJob = async () => {
    const prisma = platform.db.prisma;
    const rescuer = await prisma.user.findUniqueOrThrow({ where: { username: "rescuer1" }, include: { team: true } });
    // The team takes one job at a time: an earlier test's offer is withdrawn first.
    for (const live of await prisma.dispatchOffer.findMany({ where: { teamId: rescuer.teamId!, status: { in: ["offered", "accepted"] } } })) {
      expect((await call("post", `/api/offers/${live.id}/withdraw`, "dispatcher", { reason: "测试换单" })).status).toBe(200);
    }
    const lift = await prisma.elevator.findFirstOrThrow({ where: { maintenanceCompanyId: 1, incidents: { none: {} } }, orderBy: { id: "desc" }, include: { site: true } });
    const opened = await call("post", "/api/calls", "dispatcher", {
      callerNumber: "13911112222",
      elevatorId: lift.id,
      openIncident: true,
      autoDispatch: false,
      notes: "乘客说有老人被困",
    });
    expect(opened.status).toBe(201);
    const { call: madeCall, incident } = (await opened.json()) as { call: { id: number }; incident: { id: number } };
    await prisma.call.update({ where: { id: madeCall.id }, data: { recordingRef: "rec/2026/12/02/0001.wav" } });
    expect((await call("post", `/api/incidents/${incident.id}/offers`, "dispatcher", { teamId: rescuer.teamId, reason: "调度员派单" })).status).toBe(201);
    const offer = await prisma.dispatchOffer.findFirstOrThrow({ where: { incidentId: incident.id, teamId: rescuer.teamId! } });
    return { incidentId: incident.id, offerId: offer.id, teamId: rescuer.teamId!, lift, callId: madeCall.id };
  };

  beforeAll(async () => {
    platform = await startTestPlatform({ LOGIN_FAILURES_PER_IP: "10000" });
  });
  afterAll(async () => {
    await platform?.close();
  });

  it("lets a rescuer accept, depart, arrive by position and report passengers freed, and nothing the centre decides", async () => {
    const job = await openJob();
    // Before accepting, the job is not the team's to report on.
    expect((await call("post", `/api/incidents/${job.incidentId}/transitions`, "rescuer1", { to: "released" })).status).toBe(403);
    // Another team's rescuer does not see the offer at all.
    expect((await call("post", `/api/offers/${job.offerId}/accept`, "rescuer2", {})).status).toBe(404);
    expect((await call("post", `/api/offers/${job.offerId}/accept`, "rescuer1", {})).status).toBe(200);
    expect((await call("post", `/api/offers/${job.offerId}/depart`, "rescuer1", {})).status).toBe(200);
    for (const to of ["cancelled", "false_alarm", "closed", "dispatched", "reported", "on_scene"]) {
      const res = await call("post", `/api/incidents/${job.incidentId}/transitions`, "rescuer1", { to, reason: "现场" });
      expect(res.status, to).toBe(403);
      expect(((await res.json()) as { error: { id: string } }).error.id).toBe("forbidden");
    }
    expect((await call("post", `/api/offers/${job.offerId}/withdraw`, "rescuer1", { reason: "不去了" })).status).toBe(403);
    const confirm = await call("post", `/api/offers/${job.offerId}/arrive`, "rescuer1", { confirm: true, reason: "已到达" });
    expect(confirm.status).toBe(403);
    expect((await call("post", `/api/incidents/${job.incidentId}/steps`, "rescuer1", { type: "passenger_callback", outcome: "reached" })).status).toBe(403);
    expect((await call("post", `/api/incidents/${job.incidentId}/steps`, "rescuer1", { type: "counts", trappedCount: 2 })).status).toBe(201);
    const site = job.lift.site;
    expect((await call("post", `/api/offers/${job.offerId}/arrive`, "rescuer1", { lat: site.lat, lng: site.lng })).status).toBe(200);
    const freed = await call("post", `/api/incidents/${job.incidentId}/transitions`, "rescuer1", { to: "released" });
    expect(freed.status).toBe(200);
    expect(((await freed.json()) as { incident: { status: string } }).incident.status).toBe("released");
    // Closing stays with the centre.
    expect((await call("post", `/api/incidents/${job.incidentId}/transitions`, "rescuer1", { to: "closed" })).status).toBe(403);
    const closed = await call("post", `/api/incidents/${job.incidentId}/transitions`, "dispatcher", { to: "closed", causeClass: "equipment", reason: "门机故障" });
    expect(closed.status, await closed.clone().text()).toBe(200);
  });

  it("shows the field no caller number, call note or recording; the centre sees them by role", async () => {
    const job = await openJob();
    type Timeline = { calls: { callerNumber: string; notes: string | null; recordingRef: string | null }[] };
    const timeline = async (username: string) => ((await (await call("get", `/api/incidents/${job.incidentId}/timeline`, username)).json()) as Timeline).calls[0]!;
    expect(await timeline("dispatcher")).toMatchObject({ callerNumber: "13911112222", notes: "乘客说有老人被困", recordingRef: "rec/2026/12/02/0001.wav" });
    expect(await timeline("supervisor")).toMatchObject({ callerNumber: "139****2222", notes: "乘客说有老人被困" });
    for (const field of ["rescuer1", "company1"]) {
      const seen = await timeline(field);
      expect(seen, field).toMatchObject({ callerNumber: "****", notes: null, recordingRef: null });
      expect(JSON.stringify(await (await call("get", `/api/incidents/${job.incidentId}/timeline`, field)).json())).not.toContain("13911112222");
    }
  });

  it("lists a rescuer its team's incidents and elevators, a company admin its company's, an account without either nothing", async () => {
    const job = await openJob();
    const prisma = platform.db.prisma;
    const incidents = async (username: string) => ((await (await call("get", "/api/incidents?limit=1000", username)).json()) as { id: number; elevator: { id: number } }[]);
    const mine = await incidents("rescuer1");
    expect(mine.some((i) => i.id === job.incidentId)).toBe(true);
    const offered = await prisma.dispatchOffer.findMany({ where: { teamId: job.teamId }, select: { incidentId: true } });
    expect(mine.every((i) => offered.some((o) => o.incidentId === i.id))).toBe(true);
    expect((await incidents("rescuer2")).some((i) => i.id === job.incidentId)).toBe(false);

    type Points = { count: number; id: number[] };
    const points = async (username: string) => (await (await call("get", "/api/elevators/points", username)).json()) as Points;
    const all = await points("dispatcher");
    const company = await points("company1");
    const ownLifts = await prisma.elevator.count({ where: { maintenanceCompanyId: 1 } });
    expect(company.count).toBe(ownLifts);
    expect(company.count).toBeLessThan(all.count);
    expect((await points("rescuer1")).id).toContain(job.lift.id);
    expect((await points("rescuer2")).id).not.toContain(job.lift.id);
    expect((await call("get", `/api/elevators/by-rescue-code/${job.lift.rescueCode}`, "rescuer2")).status).toBe(404);
    const foreign = await prisma.elevator.findFirstOrThrow({ where: { NOT: { maintenanceCompanyId: 1 } } });
    expect((await call("get", `/api/elevators/by-rescue-code/${foreign.rescueCode}`, "company1")).status).toBe(404);
    expect((await call("get", `/api/elevators/by-rescue-code/${foreign.rescueCode}`, "dispatcher")).status).toBe(200);

    // An account whose role needs a company (or a team) it lacks sees nothing rather than everything.
    for (const [username, role] of [["orphan-company", "company_admin"], ["orphan-rescuer", "rescuer"]] as const) {
      const made = await call("post", "/api/users", "admin", { username, displayName: username, password: "orphan-password-1", role });
      expect(made.status).toBe(201);
      cookies.set(username, await login(platform.baseUrl, username, "orphan-password-1"));
      expect(await incidents(username)).toEqual([]);
      expect((await points(username)).count).toBe(0);
      expect(await (await call("get", "/api/teams", username)).json()).toEqual([]);
      expect((await call("get", `/api/incidents/${job.incidentId}`, username)).status).toBe(404);
      expect((await call("get", `/api/elevators/by-rescue-code/${job.lift.rescueCode}`, username)).status).toBe(404);
    }
  });

  it("ends sessions and disconnects their sockets within a second: logout, password change, role change, disable", async () => {
    const prisma = platform.db.prisma;
    const made = await call("post", "/api/users", "admin", { username: "shift-b", displayName: "乙班调度", password: "shift-b-password", role: "dispatcher" });
    expect(made.status).toBe(201);
    const userId = ((await made.json()) as { id: number }).id;
    const signIn = (password = "shift-b-password") => login(platform.baseUrl, "shift-b", password);
    const disconnectedWithin = async (cookie: string, act: () => Promise<unknown>) => {
      const client = await connectConsole(platform.baseUrl, cookie);
      const gone = new Promise<number>((resolve) => client.socket.once("disconnect", () => resolve(Date.now())));
      await act();
      // From the moment the revoking request has been answered (a password change spends a scrypt run first).
      const answered = Date.now();
      const at = await Promise.race([gone, new Promise<number>((r) => setTimeout(() => r(Number.POSITIVE_INFINITY), 3000))]);
      client.close();
      return Math.max(0, at - answered);
    };
    const me = (cookie: string) => fetch(`${platform.baseUrl}/api/auth/me`, { headers: { cookie } }).then((r) => r.status);

    const a = await signIn();
    const post = (cookie: string, path: string, body: unknown) =>
      fetch(`${platform.baseUrl}${path}`, { method: "POST", headers: { "content-type": "application/json", cookie }, body: JSON.stringify(body) });
    expect(await disconnectedWithin(a, () => post(a, "/api/auth/logout", {}))).toBeLessThan(1000);

    // A password change keeps the session that made it and ends the others.
    const keep = await signIn();
    const other = await signIn();
    const kept = await connectConsole(platform.baseUrl, keep);
    expect(await disconnectedWithin(other, () => post(keep, "/api/auth/password", { currentPassword: "shift-b-password", newPassword: "shift-b-password-2" }))).toBeLessThan(1000);
    expect(kept.socket.connected).toBe(true);
    expect(await me(keep)).toBe(200);
    expect(await me(other)).toBe(401);
    kept.close();

    const b = await signIn("shift-b-password-2");
    expect(await disconnectedWithin(b, () => call("patch", `/api/users/${userId}`, "admin", { role: "supervisor" }))).toBeLessThan(1000);
    expect(await me(b)).toBe(401);
    const c = await signIn("shift-b-password-2");
    expect(await disconnectedWithin(c, () => call("patch", `/api/users/${userId}`, "admin", { maintenanceCompanyId: 1, role: "company_admin" }))).toBeLessThan(1000);
    const d = await signIn("shift-b-password-2");
    expect(await disconnectedWithin(d, () => call("patch", `/api/users/${userId}`, "admin", { disabled: true }))).toBeLessThan(1000);
    expect(await me(d)).toBe(401);

    // Another process (without Redis) ending a session only changes the database: the re-check finds it.
    await call("patch", `/api/users/${userId}`, "admin", { disabled: false });
    const e = await signIn("shift-b-password-2");
    const elsewhere = await disconnectedWithin(e, () => prisma.session.deleteMany({ where: { userId } }));
    expect(elsewhere).toBeLessThan(1000);
  });

  it("checks the session again when a socket recovers its connection state", async () => {
    const cookie = await login(platform.baseUrl, "supervisor");
    const socket = io(platform.baseUrl, { transports: ["websocket"], reconnectionDelay: 50, reconnectionDelayMax: 100, extraHeaders: { cookie } });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once("connect", () => resolve());
        socket.once("connect_error", reject);
      });
      // Recovery resumes after the last broadcast received: let one arrive (a call reaches the centre).
      const heard = new Promise<void>((resolve) => socket.onAny(() => resolve()));
      expect((await call("post", "/api/calls", "dispatcher", { callerNumber: "13900001111" })).status).toBe(201);
      await heard;
      // A first drop and recovery with the session standing: recovered.
      const recovered = new Promise<boolean>((resolve) => socket.io.once("reconnect", () => setTimeout(() => resolve(socket.recovered), 50)));
      socket.io.engine.close();
      expect(await recovered).toBe(true);
      // The session ends while the socket is away: the recovery attempt is refused.
      const refused = new Promise<string>((resolve) => socket.once("connect_error", (error) => resolve(error.message)));
      const { id } = await platform.db.prisma.session.findFirstOrThrow({ where: { user: { username: "supervisor" } }, orderBy: { id: "desc" } });
      socket.io.engine.close();
      await platform.db.prisma.session.delete({ where: { id } });
      expect(await refused).toBe("unauthenticated");
      expect(socket.connected).toBe(false);
    } finally {
      socket.close();
    }
  });

  it("counts failed sign-ins atomically: parallel wrong passwords try at most the limit before the lock", async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        fetch(`${platform.baseUrl}/api/auth/login`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ username: "rescuer3", password: "wrong-guess" }),
        }).then((r) => r.status),
      ),
    );
    const counts = results.reduce<Record<number, number>>((acc, s) => ((acc[s] = (acc[s] ?? 0) + 1), acc), {});
    expect(counts).toEqual({ 401: 5, 423: 15 });
    const locked = await fetch(`${platform.baseUrl}/api/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "rescuer3", password: DEMO_PASSWORD }) });
    expect(locked.status).toBe(423);
  });
});
