import mqtt, { type MqttClient, type IClientOptions } from "mqtt";

export class BrokerUnavailableError extends Error {}

/** Connects the platform's own MQTT client; fails with one clear sentence when the broker does not answer. */
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
  },
): Promise<MqttClient> {
  const clientOptions: IClientOptions = {
    clientId: options.clientId,
    username: options.username,
    password: options.password,
    // 3.1.1: Aedes speaks no MQTT 5; Mosquitto and EMQX honour $share subscriptions for 3.1.1 clients too.
    protocolVersion: 4,
    clean: true,
    keepalive: 30,
    reconnectPeriod: 1000,
    connectTimeout: options.timeoutMs ?? 5000,
    ...(options.ca ? { ca: options.ca } : {}),
    ...(options.rejectUnauthorized === false ? { rejectUnauthorized: false } : {}),
  };
  const client = mqtt.connect(url, clientOptions);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      client.end(true);
      reject(new BrokerUnavailableError(`cannot reach the MQTT broker at ${url} (no answer within ${clientOptions.connectTimeout} ms)`));
    }, clientOptions.connectTimeout);
    client.once("connect", () => {
      clearTimeout(timer);
      resolve();
    });
    client.once("error", (error) => {
      clearTimeout(timer);
      client.end(true);
      reject(new BrokerUnavailableError(`the MQTT broker at ${url} refused the platform: ${error.message}`));
    });
  });
  return client;
}
