/** A port from the environment the server reads too (PORT, MQTT_PORT); a bad value stops with a sentence. */
export function envPort(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    process.stderr.write(`${name}=${JSON.stringify(raw)} is not a port number\n`);
    process.exit(2);
  }
  return port;
}
