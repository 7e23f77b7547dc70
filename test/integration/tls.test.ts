import fs from "node:fs";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import mqtt from "mqtt";
import { startTestPlatform, type TestPlatform } from "../support/platform.ts";
import { OPENSSL, selfSignedCertificate } from "../support/services.ts";
import { skipReason } from "../support/skip.ts";
import { DEMO_PASSWORD } from "../support/clients.ts";
import { demoDeviceId, demoDeviceSecret } from "../../server/devices/secrets.ts";
import { topics } from "../../server/devices/protocol.ts";

const missing = skipReason(OPENSSL ? null : "openssl is not installed: no self-signed certificate for the TLS tests");

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One HTTPS request that trusts the test's own certificate (fetch has no per-request CA). */
function httpsRequest(url: string, ca: Buffer, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: init.method ?? "GET", headers: init.headers, ca }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.once("error", reject);
    req.end(init.body);
  });
}

/** Signs in through `base` as a browser on that origin would. */
function signIn(base: string, ca: Buffer, username = "dispatcher") {
  return httpsRequest(`${base}/api/auth/login`, ca, {
    method: "POST",
    headers: { "content-type": "application/json", origin: base },
    body: JSON.stringify({ username, password: DEMO_PASSWORD }),
  });
}

/**
 * A TLS-terminating reverse proxy as nginx would be configured in docs/deployment.md: it sets X-Forwarded-Proto,
 * -Host and -For and passes everything else on to the platform's plain HTTP port.
 */
async function startTlsProxy(target: string, tls: { cert: Buffer; key: Buffer }, clientAddress: string) {
  const upstream = new URL(target);
  const proxy = https.createServer(tls, (req, res) => {
    const forwarded = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: {
          ...req.headers,
          "x-forwarded-proto": "https",
          "x-forwarded-host": req.headers.host!,
          // What the proxy saw as the peer; the test's own loopback address stands in for a client on the Internet.
          "x-forwarded-for": clientAddress,
        },
      },
      (answer) => {
        res.writeHead(answer.statusCode!, answer.headers);
        answer.pipe(res);
      },
    );
    forwarded.once("error", () => res.writeHead(502).end());
    req.pipe(forwarded);
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  return { url: `https://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`, close: () => new Promise((r) => proxy.close(r)) };
}

describe.skipIf(missing)("TLS", () => {
  let certificate: ReturnType<typeof selfSignedCertificate>;
  let tls: { cert: Buffer; key: Buffer };
  beforeAll(() => {
    certificate = selfSignedCertificate();
    tls = { cert: certificate.cert, key: fs.readFileSync(certificate.keyFile) };
  });
  afterAll(() => {
    if (certificate) fs.rmSync(certificate.dir, { recursive: true, force: true });
  });

  describe("behind a TLS reverse proxy", () => {
    let trusting: TestPlatform;
    let untrusting: TestPlatform;
    beforeAll(async () => {
      [trusting, untrusting] = await Promise.all([startTestPlatform({ TRUST_PROXY: "loopback" }), startTestPlatform()]);
    }, 120_000);
    afterAll(async () => {
      await trusting?.close();
      await untrusting?.close();
    });

    it("signs in with TRUST_PROXY: origin, Secure cookie and client address follow the forwarded headers", async () => {
      const proxy = await startTlsProxy(trusting.baseUrl, tls, "203.0.113.7");
      try {
        const res = await signIn(proxy.url, certificate.cert);
        expect(res.status, res.body).toBe(200);
        const cookie = String(res.headers["set-cookie"]);
        expect(cookie).toMatch(/; Secure/);
        const me = await httpsRequest(`${proxy.url}/api/auth/me`, certificate.cert, { headers: { cookie: cookie.split(";")[0]! } });
        expect(me.status).toBe(200);
        expect(JSON.parse(me.body)).toMatchObject({ username: "dispatcher" });
        const session = await trusting.db.prisma.session.findFirst({ orderBy: { id: "desc" } });
        expect(session?.address).toBe("203.0.113.7");
      } finally {
        await proxy.close();
      }
    });

    it("without TRUST_PROXY the forwarded scheme is not believed: the HTTPS origin is cross-origin", async () => {
      const proxy = await startTlsProxy(untrusting.baseUrl, tls, "203.0.113.7");
      try {
        const res = await signIn(proxy.url, certificate.cert);
        expect(res.status).toBe(403);
        expect(JSON.parse(res.body).error.id).toBe("cross_origin");
      } finally {
        await proxy.close();
      }
    });

    it("COOKIE_SECURE=1 marks the cookie Secure even over plain HTTP; the default does not", async () => {
      const forced = await startTestPlatform({ COOKIE_SECURE: "1" });
      try {
        const body = JSON.stringify({ username: "dispatcher", password: DEMO_PASSWORD });
        const init = { method: "POST", headers: { "content-type": "application/json" }, body };
        const secure = await fetch(`${forced.baseUrl}/api/auth/login`, init);
        expect(secure.headers.get("set-cookie")).toMatch(/; Secure/);
        const plain = await fetch(`${untrusting.baseUrl}/api/auth/login`, init);
        expect(plain.status).toBe(200);
        expect(plain.headers.get("set-cookie")).not.toMatch(/Secure/);
      } finally {
        await forced.close();
      }
    });
  });

  describe("served directly (TLS_CERT / TLS_KEY)", () => {
    let platform: TestPlatform;
    let httpsBase: string;
    beforeAll(async () => {
      platform = await startTestPlatform(
        { TLS_CERT: certificate.certFile, TLS_KEY: certificate.keyFile, MQTT_TLS_PORT: "0", MQTT_TLS_ONLY: "1" },
        { embeddedBroker: true },
      );
      httpsBase = `https://localhost:${platform.httpPort}`;
    }, 120_000);
    afterAll(async () => platform?.close());

    it("serves the API over HTTPS with a Secure session cookie", async () => {
      expect(platform.scheme).toBe("https");
      const res = await signIn(httpsBase, certificate.cert);
      expect(res.status, res.body).toBe(200);
      expect(String(res.headers["set-cookie"])).toMatch(/; Secure/);
    });

    it("the embedded broker speaks MQTT over TLS only (MQTT_TLS_ONLY)", () => {
      expect(platform.broker?.port).toBeNull();
      expect(platform.mqttUrl).toMatch(/^mqtts:\/\/127\.0\.0\.1:\d+$/);
    });

    // The device conformance rules of docs/protocol.md, over mqtts://.
    const device = (index: number, secret = demoDeviceSecret(demoDeviceId(index)), clientId = demoDeviceId(index)) =>
      mqtt.connectAsync(platform.mqttUrl.replace("127.0.0.1", "localhost"), {
        clientId,
        username: demoDeviceId(index),
        password: secret,
        ca: certificate.cert,
        protocolVersion: 4,
        reconnectPeriod: 0,
        connectTimeout: 5000,
      });

    it("mqtts: refuses a wrong secret and a username that is not the client id, and a client that does not trust the certificate", async () => {
      await expect(device(1, "wrong-secret-123")).rejects.toThrow(/not authorized|bad user ?name or password/i);
      await expect(device(1, undefined, "someone-else")).rejects.toThrow();
      await expect(
        mqtt.connectAsync(platform.mqttUrl, { clientId: demoDeviceId(1), username: demoDeviceId(1), password: demoDeviceSecret(demoDeviceId(1)), reconnectPeriod: 0, connectTimeout: 5000 }),
      ).rejects.toThrow(/self[- ]signed|certificate/i);
    });

    it("mqtts: an alarm is stored and acknowledged on the device's cmd topic", async () => {
      const id = demoDeviceId(5);
      const client = await device(5);
      try {
        const acks: unknown[] = [];
        client.on("message", (_topic, payload) => acks.push(JSON.parse(payload.toString())));
        await client.subscribeAsync(topics.cmd(id), { qos: 1 });
        const alarmId = `tls-${Date.now()}`;
        await client.publishAsync(topics.alarm(id), JSON.stringify({ ts: new Date().toISOString(), alarmId, code: "trapped", state: "raised", passengers: true }), { qos: 1 });
        await expect.poll(() => acks, { timeout: 10_000 }).toContainEqual(expect.objectContaining({ cmd: "ack", alarmId }));
        expect(await platform.db.prisma.alarm.count({ where: { alarmId } })).toBe(1);
      } finally {
        await client.endAsync(true);
      }
    });

    it("mqtts: a subscription to another device's cmd is refused", async () => {
      const client = await device(6);
      try {
        // SUBACK 0x80, which mqtt.js reports as a failed subscribe.
        await expect(client.subscribeAsync(topics.cmd(demoDeviceId(7)), { qos: 1 })).rejects.toThrow(/subscribe error/i);
        expect(client.connected).toBe(true);
      } finally {
        await client.endAsync(true);
      }
    });
  });
});
