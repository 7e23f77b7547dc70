/**
 * Just enough MQTT 3.1.1 to play many devices cheaply: CONNECT with a device's credentials and QoS 0
 * PUBLISH as prebuilt bytes on a plain TCP socket. Floods in tests and benches use it so that the load
 * generator costs a fraction of what the server spends on the same messages.
 */
import net from "node:net";
import { demoDeviceId, demoDeviceSecret } from "../../server/devices/secrets.ts";
import { topics } from "../../server/contracts/protocol.ts";

function remainingLength(n: number): number[] {
  const bytes: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    bytes.push(b);
  } while (n > 0);
  return bytes;
}

export const mqttString = (s: string) => {
  const b = Buffer.from(s, "utf8");
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
};

export function connectPacket(clientId: string, username: string, password: string, keepaliveS = 60): Buffer {
  const variable = Buffer.concat([mqttString("MQTT"), Buffer.from([4, 0xc2, keepaliveS >> 8, keepaliveS & 0xff])]);
  const body = Buffer.concat([variable, mqttString(clientId), mqttString(username), mqttString(password)]);
  return Buffer.concat([Buffer.from([0x10, ...remainingLength(body.length)]), body]);
}

/** QoS 0 PUBLISH; `topic` already encoded with mqttString. */
export function publishPacket(topic: Buffer, payload: string): Buffer {
  const p = Buffer.from(payload, "utf8");
  return Buffer.concat([Buffer.from([0x30, ...remainingLength(topic.length + p.length)]), topic, p]);
}

export function statusJson(seq: number, ts = new Date().toISOString()): string {
  return `{"ts":"${ts}","seq":${seq},"floor":${1 + (seq % 20)},"dir":"up","door":"closed","moving":true,"inDoorZone":false,"passengers":true,"mode":"normal","speed":1.6,"load":40}`;
}

/** Connects the i-th demo device over a raw socket and resolves once the broker accepted it. */
export function connectRawDevice(url: string, index: number): Promise<{ deviceId: string; socket: net.Socket; statusTopic: Buffer }> {
  const { hostname, port } = new URL(url);
  const deviceId = demoDeviceId(index);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port || 1883), noDelay: true });
    const timeout = setTimeout(() => (socket.destroy(), reject(new Error(`no CONNACK for ${deviceId}`))), 20_000);
    socket.once("error", (error) => (clearTimeout(timeout), reject(error)));
    socket.once("connect", () => socket.write(connectPacket(deviceId, deviceId, demoDeviceSecret(deviceId))));
    socket.once("data", (data) => {
      clearTimeout(timeout);
      if (data[0] !== 0x20 || data[3] !== 0) {
        socket.destroy();
        return reject(new Error(`CONNACK refused for ${deviceId}: ${data.toString("hex")}`));
      }
      socket.removeAllListeners("error");
      socket.on("error", () => undefined);
      socket.on("data", () => undefined);
      resolve({ deviceId, socket, statusTopic: mqttString(topics.status(deviceId)) });
    });
  });
}
