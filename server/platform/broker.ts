import net from "node:net";
import crypto from "node:crypto";
import { Aedes, type Client } from "aedes";
import type { Logger } from "./logger.ts";
import { PROTOCOL_PREFIX, topics } from "../devices/protocol.ts";

export interface DeviceAuthenticator {
  /** True when the device exists, is enabled and the secret matches its stored hash. */
  verify(deviceId: string, secret: string): boolean;
}

export interface EmbeddedBroker {
  port: number;
  /** Credentials of the platform's own connection (never a device's). */
  platformCredentials: { username: string; password: string };
  connectedClients(): number;
  /** Closes a device's live session (disabled or secret rotated): its next CONNECT is checked again. */
  disconnect(clientId: string): boolean;
  close(): Promise<void>;
}

export class PortInUseError extends Error {}

const PLATFORM_USERNAME = "platform";

function authError(message: string, code: 4 | 5) {
  return Object.assign(new Error(message), { returnCode: code });
}

/**
 * The in-process Aedes broker of the embedded default. It enforces PROTOCOL.md's rules itself: a device
 * logs in as itself and may publish only under its own prefix and subscribe only to its own `cmd`.
 */
export async function startEmbeddedBroker(options: {
  port: number;
  host?: string;
  devices: DeviceAuthenticator;
  log: Logger;
}): Promise<EmbeddedBroker> {
  const { devices, log } = options;
  const platformPassword = crypto.randomBytes(24).toString("base64url");
  const isPlatform = (client: Client | null) =>
    client === null || (client as Client & { platform?: boolean }).platform === true;

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

  const server = net.createServer(aedes.handle);
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        error.code === "EADDRINUSE"
          ? new PortInUseError(`MQTT port ${options.port} is already in use (set MQTT_PORT, or MQTT_URL for an external broker)`)
          : error,
      ),
    );
    server.listen(options.port, options.host ?? "0.0.0.0", () => resolve());
  });
  const address = server.address() as net.AddressInfo;
  aedes.on("clientError", (client, error) => log.debug({ clientId: client.id, err: error.message }, "mqtt client error"));

  return {
    port: address.port,
    platformCredentials: { username: PLATFORM_USERNAME, password: platformPassword },
    connectedClients: () => aedes.connectedClients,
    disconnect: (clientId) => {
      const client = (aedes as unknown as { clients: Record<string, Client> }).clients[clientId];
      if (!client) return false;
      client.close();
      return true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        aedes.close();
        // Sockets of connected devices would keep server.close waiting; end them.
        for (const client of Object.values((aedes as unknown as { clients: Record<string, Client> }).clients)) {
          client.close();
        }
      }),
  };
}
