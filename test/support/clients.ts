import { io, type Socket } from "socket.io-client";
import type { ClientToServerEvents, ServerToClientEvents } from "../../server/contracts/index.ts";
import { SimulatedDevice } from "../../devices/device.ts";
import { demoDeviceId, demoDeviceSecret } from "../../server/devices/secrets.ts";

/** The demo accounts' password (server/seed). */
export const DEMO_PASSWORD = "demo96333";

/** Signs in a demo account and returns its session cookie (`name=value`). */
export async function login(baseUrl: string, username = "dispatcher", password = DEMO_PASSWORD): Promise<string> {
  const res = await fetch(`${baseUrl}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  if (res.status !== 200) throw new Error(`login as ${username} failed: HTTP ${res.status} ${await res.text()}`);
  const cookie = res.headers.get("set-cookie");
  if (!cookie) throw new Error("login set no cookie");
  return cookie.split(";")[0]!;
}

export type ConsoleSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** A dispatcher-side Socket.io client that records every broadcast it receives, with arrival times. */
export async function connectConsole(baseUrl: string, cookie?: string) {
  const session = cookie ?? (await login(baseUrl, "dispatcher"));
  const socket: ConsoleSocket = io(baseUrl, { transports: ["websocket"], reconnection: false, extraHeaders: { cookie: session } });
  const received: { event: keyof ServerToClientEvents; at: number; payload: unknown }[] = [];
  socket.onAny((event: keyof ServerToClientEvents, payload: unknown) => received.push({ event, at: Date.now(), payload }));
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("connect_error", reject);
  });
  return {
    socket,
    received,
    async waitFor<T>(event: keyof ServerToClientEvents, match: (payload: T) => boolean, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = received.find((r) => r.event === event && match(r.payload as T));
        if (hit) return hit as { at: number; payload: T };
        if (Date.now() > deadline) throw new Error(`no ${event} within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    close: () => socket.close(),
  };
}

/** The i-th demo device, with its demo credentials, as a real MQTT client over TCP. */
export async function connectDemoDevice(brokerUrl: string, index: number, options: { secret?: string } = {}) {
  const deviceId = demoDeviceId(index);
  const device = new SimulatedDevice({
    brokerUrl,
    deviceId,
    secret: options.secret ?? demoDeviceSecret(deviceId),
    floors: 18,
    alarmRepeatMs: 1000,
    statusIntervalIdleMs: 60_000,
    motion: { tripsPerHour: 0 },
    reconnectPeriodMs: 0,
    connectTimeoutMs: 3000,
  });
  await device.connect();
  return device;
}

/** The PBX simulator's signed webhook delivery, for tests. */
export { postCallEvent as sendTelephony } from "../../devices/pbx.ts";
