import type net from "node:net";

export class PortInUseError extends Error {}

/** How many ports past a taken default are tried before giving up. */
const FALLBACK_TRIES = 20;

/**
 * Binds `server` to `port`. A port the user chose that is taken ends with one sentence naming the setting;
 * a default that is taken (another broker on 1883, another app on 3000) moves to the next free port.
 * Returns the port actually bound (port 0 picks any free one).
 */
export async function listenOn(
  server: net.Server,
  options: { port: number; host: string; mayMove: boolean; name: string; setting: string },
): Promise<number> {
  const tries = options.mayMove && options.port !== 0 ? FALLBACK_TRIES : 1;
  for (let i = 0; i < tries; i++) {
    const port = options.port + i;
    const bound = await new Promise<boolean>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) => {
        server.off("listening", onListening);
        if (error.code === "EADDRINUSE" && port <= 65535) resolve(false);
        else reject(error);
      };
      const onListening = () => {
        server.off("error", onError);
        resolve(true);
      };
      server.once("error", onError);
      server.once("listening", onListening);
      server.listen(port, options.host);
    });
    if (bound) return (server.address() as net.AddressInfo).port;
  }
  throw new PortInUseError(
    tries === 1
      ? `${options.name} port ${options.port} is already in use (${options.setting})`
      : `${options.name} ports ${options.port}-${options.port + tries - 1} are all in use (${options.setting})`,
  );
}
