import mqtt, { type MqttClient, type IClientOptions } from "mqtt";
import type { Logger } from "./logger.ts";

export class BrokerUnavailableError extends Error {}

/** First pause before reconnecting; doubled after each failed attempt up to RECONNECT_MAX_MS. */
export const RECONNECT_MIN_MS = 500;
export const RECONNECT_MAX_MS = 30_000;

export type BrokerLinkState = "connected" | "reconnecting";

/** One platform connection to the broker, as health and /metrics show it. */
export interface BrokerLinkView {
  name: string;
  state: BrokerLinkState;
  /** When the link last changed state (ISO). */
  since: string;
  /** Successful reconnections since start (the first connection not counted). */
  reconnects: number;
  /** Failed connection attempts since the link was last up. */
  failedAttempts: number;
  /** Wait before the next attempt while reconnecting (ms). */
  nextAttemptMs: number | null;
  lastError: string | null;
}

/**
 * Keeps one platform connection up for the life of the process: after the first connection, a lost broker
 * is retried forever with a doubling pause (0.5 s up to 30 s, reset once connected), and subscriptions are
 * renewed by the client when the broker has no session for it. Errors are logged and counted, never fatal:
 * devices repeat their alarms until acknowledged, so a platform that comes back loses nothing.
 */
export class BrokerLink {
  private view: Omit<BrokerLinkView, "name">;

  constructor(
    readonly name: string,
    readonly client: MqttClient,
    private readonly log?: Logger,
  ) {
    this.view = { state: "connected", since: new Date().toISOString(), reconnects: 0, failedAttempts: 0, nextAttemptMs: null, lastError: null };
    client.on("connect", () => {
      if (this.view.state !== "connected") {
        this.view = { ...this.view, state: "connected", since: new Date().toISOString(), reconnects: this.view.reconnects + 1, failedAttempts: 0, nextAttemptMs: null };
        this.log?.info({ link: name, reconnects: this.view.reconnects }, "mqtt link back");
      }
      client.options.reconnectPeriod = RECONNECT_MIN_MS;
    });
    // Before the client's own close handler, which arms the next attempt with the period set here.
    client.prependListener("close", () => {
      if (this.view.state === "connected") {
        this.view = { ...this.view, state: "reconnecting", since: new Date().toISOString() };
        this.log?.warn({ link: name }, "mqtt link lost; reconnecting");
      } else {
        this.view.failedAttempts++;
        // The next attempt waits longer: a broker down for minutes is not hammered every half second.
        client.options.reconnectPeriod = Math.min(RECONNECT_MAX_MS, (client.options.reconnectPeriod ?? RECONNECT_MIN_MS) * 2);
      }
      this.view.nextAttemptMs = client.options.reconnectPeriod ?? null;
    });
    client.on("error", (error) => {
      this.view.lastError = error.message;
      this.log?.warn({ link: name, err: error.message }, "mqtt link error");
    });
  }

  get connected(): boolean {
    return this.client.connected;
  }

  status(): BrokerLinkView {
    return { name: this.name, ...this.view, state: this.client.connected ? "connected" : "reconnecting" };
  }
}

/**
 * Connects the platform's own MQTT client; fails with one clear sentence when the broker does not answer
 * at start. Once connected, the returned link reconnects by itself for good.
 */
export async function connectPlatformClient(
  url: string,
  options: {
    username?: string;
    password?: string;
    clientId: string;
    timeoutMs?: number;
    /** For mqtts:// with a private CA (MQTT_CA). */
    ca?: Buffer;
    /** false only for the loopback connection to the embedded broker, whose certificate names the public host. */
    rejectUnauthorized?: boolean;
    name?: string;
    log?: Logger;
    persistentSession?: boolean;
  },
): Promise<BrokerLink> {
  const clientOptions: IClientOptions = {
    clientId: options.clientId,
    username: options.username,
    password: options.password,
    // 3.1.1: Aedes speaks no MQTT 5; Mosquitto and EMQX honour $share subscriptions for 3.1.1 clients too.
    protocolVersion: 4,
    // A persistent session keeps the subscriptions and QoS 1 messages queued for this client while its link
    // is down (the broker's own restart keeps them only with broker persistence); the client resubscribes
    // whenever the broker says it has no session.
    clean: !options.persistentSession,
    keepalive: 30,
    reconnectPeriod: RECONNECT_MIN_MS,
    connectTimeout: options.timeoutMs ?? 5000,
    ...(options.ca ? { ca: options.ca } : {}),
    ...(options.rejectUnauthorized === false ? { rejectUnauthorized: false } : {}),
  };
  const client = mqtt.connect(url, clientOptions);
  await new Promise<void>((resolve, reject) => {
    const settle = () => {
      clearTimeout(timer);
      client.off("connect", onConnect);
      client.off("error", onError);
    };
    const timer = setTimeout(() => {
      settle();
      client.end(true);
      reject(new BrokerUnavailableError(`cannot reach the MQTT broker at ${url} (no answer within ${clientOptions.connectTimeout} ms)`));
    }, clientOptions.connectTimeout);
    const onConnect = () => {
      settle();
      resolve();
    };
    const onError = (error: Error) => {
      settle();
      client.end(true);
      reject(new BrokerUnavailableError(`the MQTT broker at ${url} refused the platform: ${error.message}`));
    };
    client.on("connect", onConnect);
    client.on("error", onError);
  });
  return new BrokerLink(options.name ?? "platform", client, options.log);
}
