import type { PrismaClient } from "../platform/db/generated/client.ts";
import type { Broadcast } from "../platform/realtime.ts";
import { presentCall } from "../incidents/presenter.ts";

/** call:ringing pops the call on the centre's consoles; answered / ended / updated keep it current. */
export function callPushes(prisma: PrismaClient, broadcast: Broadcast) {
  return async ({ callId, event }: { callId: number; event: "ringing" | "answered" | "ended" | "updated" }): Promise<void> => {
    const call = await prisma.call.findUnique({ where: { id: callId } });
    if (!call) return;
    const view = presentCall(call);
    // Calls are the centre's business (GET /api/calls is for CITY_READERS).
    if (event === "ringing") broadcast("centre", "call:ringing", view);
    else if (event === "answered") broadcast("centre", "call:answered", view);
    else if (event === "ended") broadcast("centre", "call:ended", view);
    else broadcast("centre", "call:updated", view);
  };
}
