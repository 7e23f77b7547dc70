import type { PrismaClient } from "../platform/db/generated/client.ts";
import type { DomainEvents } from "../platform/events.ts";
import type { ServerToClientEvents } from "../contracts/index.ts";
import { presentCall } from "../incidents/commands.ts";

/** call:ringing pops the call on every console; answered / ended / updated keep it current. */
export function startCallFanout(
  events: DomainEvents,
  prisma: PrismaClient,
  emit: <E extends keyof ServerToClientEvents>(event: E, ...args: Parameters<ServerToClientEvents[E]>) => void,
): void {
  events.on("call.changed", async ({ callId, event }) => {
    const call = await prisma.call.findUnique({ where: { id: callId } });
    if (!call) return;
    const view = presentCall(call);
    if (event === "ringing") emit("call:ringing", view);
    else if (event === "answered") emit("call:answered", view);
    else if (event === "ended") emit("call:ended", view);
    else emit("call:updated", view);
  });
}
