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
    // Volatile: Socket.io's connection-state recovery keeps every non-volatile broadcast for two minutes
    // to replay it after a short disconnect. Live status is replaced every period, so replaying it is
    // useless, and keeping it was measured at ~5 MB of heap a second with 2,400 devices reporting.
    if (batch.length > 0) io.volatile.emit("elevator:status", batch);
  }, periodMs);
  return () => clearInterval(timer);
}
