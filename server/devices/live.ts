import type { RealtimeServer } from "../platform/realtime.ts";
import type { ElevatorLiveView } from "../contracts/index.ts";
import type { DeviceIngest } from "./ingest.ts";

/**
 * Live elevator status to Socket.io, coalesced: one `elevator:status` batch per period with only the
 * elevators that changed, so a car reporting every 2 s (or a burst of 20,000 msg/s) costs the console at
 * most one update per elevator per period.
 */
export function startLiveFanout(ingest: DeviceIngest, io: RealtimeServer, periodMs: number): () => void {
  const timer = setInterval(() => {
    const changed = ingest.takeDirty();
    if (changed.size === 0) return;
    const batch: ElevatorLiveView[] = [];
    for (const deviceId of changed) {
      const view = ingest.liveView(deviceId);
      if (view) batch.push(view);
    }
    if (batch.length > 0) io.emit("elevator:status", batch);
  }, periodMs);
  return () => clearInterval(timer);
}
