import net from "node:net";
import tls from "node:tls";
import crypto from "node:crypto";
import { Aedes, type Client } from "aedes";
import type { Logger } from "./logger.ts";
import { PROTOCOL_PREFIX, topics } from "../devices/protocol.ts";
import { coalesceStatus } from "./status-coalescer.ts";
import { listenOn } from "./listen.ts";

export interface DeviceAuthenticator {
  /** True when the device exists, is enabled and the secret matches its stored hash. */
  verify(deviceId: string, secret: string): boolean;
}

/**
 * Device uplinks taken at publish time, before Aedes' emitter (mqemitter): its queue is one unbounded
 * array shared by every message, so status arriving faster than it drains held alarms and acks behind it
 * and grew without limit. Status and alarms the tap takes never enter that queue.
 */
export interface UplinkTap {
  /** A device's status. false: the platform has taken enough for now, hold this connection. */
  status(deviceId: string, payload: Buffer): boolean;
  /** A device's alarm, handled at once (stored, acknowledged over `downlink`). */
  alarm(deviceId: string, payload: Buffer): void;
  /** Status cut at the socket because a newer one of the same device came in the same read. */
  superseded(count: number): void;
  /** Whether held connections may read again. */
  hasRoom(): boolean;
  /** Called whenever room may have been made. */
  onRoom(listener: () => void): void;
}

export interface EmbeddedBroker {
  /** Plain MQTT port, null with MQTT_TLS_ONLY. */
  port: number | null;
  /** MQTT over TLS port, null without a certificate. */
  tlsPort: number | null;
  /** Where the platform's own client connects (loopback, plain when there is a plain listener). */
  localUrl: string;
  /** Credentials of the platform's own connection (never a device's). */
  platformCredentials: { username: string; password: string };
  connectedClients(): number;
  /** Takes device status and alarms at publish time from now on (see UplinkTap). */
  tapUplinks(tap: UplinkTap): void;
  /** Publishes to a device from the platform straight into the broker (no loopback client, no socket). */
  publish(topic: string, payload: string, qos: 0 | 1, done: (error?: Error) => void): void;
  /** Device connections currently held (not read) because the platform had no room for more status. */
  heldConnections(): number;
  /** Closes a device's live session (disabled or secret rotated): its next CONNECT is checked again. */
  disconnect(clientId: string): boolean;
  close(): Promise<void>;
}

const PLATFORM_USERNAME = "platform";
const TAKEN = Symbol("taken by the uplink tap");
/**
 * Added to an Aedes client's count of packets in flight to hold its reads: Aedes reads the next chunk
 * from a socket only when that count is back to 0 (its own `pause()` loses the count when packets finish
 * while paused). A held socket's buffer fills and TCP pushes back to the device.
 */
const HOLD = 1 << 30;
type AedesClient = Client & { _parsingBatch: number; _nextBatch: () => void; conn: { destroyed?: boolean }; [TAKEN]?: boolean };

function authError(message: string, code: 4 | 5) {
  return Object.assign(new Error(message), { returnCode: code });
}

/**
 * The in-process Aedes broker of the embedded default. It enforces docs/protocol.md's rules itself: a device
 * logs in as itself and may publish only under its own prefix and subscribe only to its own `cmd`.
 */
export async function startEmbeddedBroker(options: {
  port: number;
  host?: string;
  /** The port was not chosen by the user: take the next free one when it is taken. */
  portMayMove?: boolean;
  /** MQTT over TLS beside (or, with `only`, instead of) plain MQTT. */
  tls?: { port: number; cert: Buffer; key: Buffer; only: boolean; portMayMove?: boolean };
  devices: DeviceAuthenticator;
  log: Logger;
}): Promise<EmbeddedBroker> {
  const { devices, log } = options;
  const platformPassword = crypto.randomBytes(24).toString("base64url");
  const isPlatform = (client: Client | null) =>
    client === null || (client as Client & { platform?: boolean }).platform === true;

  let tap: UplinkTap | null = null;
  const held: AedesClient[] = [];
  const hold = (client: AedesClient) => {
    if (client[TAKEN]) return;
    client[TAKEN] = true;
    client._parsingBatch += HOLD;
    held.push(client);
  };
  const releaseHeld = () => {
    while (held.length > 0 && tap!.hasRoom()) {
      const client = held.shift()!;
      client[TAKEN] = false;
      client._parsingBatch -= HOLD;
      if (client.conn.destroyed) continue;
      // Nothing in flight: read again now (Aedes' nextBatch decrements, then reads at 0).
      if (client._parsingBatch <= 0) {
        client._parsingBatch = 1;
        client._nextBatch();
      }
    }
  };
  const prefixLength = PROTOCOL_PREFIX.length + 1;

  const aedes = await Aedes.createBroker({
    authenticate(client, username, password, done) {
      const secret = password?.toString("utf8") ?? "";
      if (username === PLATFORM_USERNAME) {
        const ok =
          secret.length === platformPassword.length &&
          crypto.timingSafeEqual(Buffer.from(secret), Buffer.from(platformPassword));
        if (ok) (client as Client & { platform?: boolean }).platform = true;
        return ok ? done(null, true) : done(authError("bad platform credentials", 4), false);
      }
      if (!username || username !== client.id) {
        return done(authError("username must equal the client id (the device id)", 4), false);
      }
      if (!devices.verify(username, secret)) {
        log.warn({ deviceId: username }, "mqtt login refused");
        return done(authError("unknown device or wrong secret", 4), false);
      }
      done(null, true);
    },
    authorizePublish(client, packet, callback) {
      if (isPlatform(client)) return callback(null);
      if (!client || !packet.topic.startsWith(`${PROTOCOL_PREFIX}/${client.id}/`) || packet.topic === topics.cmd(client.id)) {
        // Aedes then closes the connection: a device writing into foreign topics is misbehaving.
        log.warn({ deviceId: client?.id, topic: packet.topic }, "mqtt publish refused");
        return callback(new Error(`device ${client?.id} may not publish to ${packet.topic}`));
      }
      if (tap) {
        const kind = packet.topic.slice(prefixLength + client.id.length + 1);
        if (kind === "status") {
          (packet as typeof packet & { [TAKEN]?: boolean })[TAKEN] = true;
          if (!tap.status(client.id, packet.payload as Buffer)) hold(client as AedesClient);
        } else if (kind === "alarm") {
          (packet as typeof packet & { [TAKEN]?: boolean })[TAKEN] = true;
          tap.alarm(client.id, packet.payload as Buffer);
        }
      }
      callback(null);
    },
    authorizeSubscribe(client, subscription, callback) {
      if (isPlatform(client)) return callback(null, subscription);
      if (subscription.topic !== topics.cmd(client.id)) {
        log.warn({ deviceId: client.id, topic: subscription.topic }, "mqtt subscription refused");
        return callback(null, null); // SUBACK 0x80: refused, the connection stays up
      }
      callback(null, subscription);
    },
  });

  // A taken packet is finished once authorized: Aedes still answers PUBACK for QoS 1, but the packet
  // skips the emitter, retained storage and every subscriber.
  const publish = aedes.publish.bind(aedes);
  aedes.publish = ((packet: Parameters<Aedes["publish"]>[0], client: unknown, done?: (error?: Error) => void) => {
    if ((packet as typeof packet & { [TAKEN]?: boolean })[TAKEN]) {
      const finish = typeof client === "function" ? (client as (error?: Error) => void) : done;
      return finish?.();
    }
    return (publish as (...args: unknown[]) => void)(packet, client, done);
  }) as Aedes["publish"];

  const handle = (socket: net.Socket) => {
    // Once the platform takes status at publish time, stale status in one read is cut before parsing.
    coalesceStatus(socket, (n) => tap?.superseded(n));
    aedes.handle(socket);
  };
  const host = options.host ?? "0.0.0.0";
  const servers: net.Server[] = [];
  const closeServers = () => Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  let port: number | null = null;
  let tlsPort: number | null = null;
  try {
    if (!options.tls?.only) {
      const server = net.createServer(handle);
      servers.push(server);
      port = await listenOn(server, {
        port: options.port,
        host,
        mayMove: options.portMayMove ?? false,
        name: "MQTT",
        setting: "set MQTT_PORT, or MQTT_URL for an external broker",
      });
    }
    if (options.tls) {
      // The TLS socket is decrypted before Aedes and the status coalescer see it, as with plain TCP.
      const server = tls.createServer({ cert: options.tls.cert, key: options.tls.key }, handle);
      servers.push(server);
      tlsPort = await listenOn(server, {
        port: options.tls.port,
        host,
        mayMove: options.tls.portMayMove ?? false,
        name: "MQTT over TLS",
        setting: "set MQTT_TLS_PORT",
      });
    }
  } catch (error) {
    await closeServers();
    aedes.close();
    throw error;
  }
  aedes.on("clientError", (client, error) => log.debug({ clientId: client.id, err: error.message }, "mqtt client error"));

  return {
    port,
    tlsPort,
    localUrl: port !== null ? `mqtt://127.0.0.1:${port}` : `mqtts://127.0.0.1:${tlsPort}`,
    platformCredentials: { username: PLATFORM_USERNAME, password: platformPassword },
    connectedClients: () => aedes.connectedClients,
    tapUplinks(next) {
      tap = next;
      next.onRoom(releaseHeld);
    },
    publish(topic, payload, qos, done) {
      aedes.publish({ cmd: "publish", topic, payload: Buffer.from(payload), qos, retain: false, dup: false }, (error) => done(error ?? undefined));
    },
    heldConnections: () => held.length,
    disconnect: (clientId) => {
      const client = (aedes as unknown as { clients: Record<string, Client> }).clients[clientId];
      if (!client) return false;
      client.close();
      return true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        void closeServers().then(() => resolve());
        aedes.close();
        // Sockets of connected devices would keep server.close waiting; end them.
        for (const client of Object.values((aedes as unknown as { clients: Record<string, Client> }).clients)) {
          client.close();
        }
      }),
  };
}
