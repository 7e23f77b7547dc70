import { rooms, type RealtimeServer } from "../platform/realtime.ts";
import type { ElevatorLiveView } from "../contracts/index.ts";
import type { DeviceIngest } from "./ingest.ts";

/**
 * Live elevator status to Socket.io, coalesced: one `elevator:status` batch per period with only the
 * elevators that changed, so a car reporting every 2 s (or a burst of 20,000 msg/s) costs the console at
 * most one update per elevator per period. Each socket hears only elevators it may read over REST: the
 * centre all of them, a company admin its company's; crews read their job's elevator over REST. Which
 * company maintains an elevator is looked up once and kept (a lift changes its maintenance contract
 * rarely; a restart picks the change up), so a busy period costs no query.
 */
export function startLiveFanout(
  ingest: DeviceIngest,
  io: RealtimeServer,
  periodMs: number,
  companiesOf: (elevatorIds: readonly number[]) => Promise<Map<number, number>>,
): () => void {
  let sending = false;
  const companyOf = new Map<number, number>();
  const timer = setInterval(() => {
    const changed = ingest.takeDirty();
    if (changed.size === 0) return;
    const batch: ElevatorLiveView[] = [];
    for (const deviceId of changed) {
      const view = ingest.liveView(deviceId);
      if (view) batch.push(view);
    }
    if (batch.length === 0) return;
    // Volatile: Socket.io's connection-state recovery keeps every non-volatile broadcast for two minutes
    // to replay it after a short disconnect. Live status is replaced every period, so replaying it is
    // useless, and keeping it was measured at ~5 MB of heap a second with 2,400 devices reporting.
    io.volatile.to(rooms.centre).emit("elevator:status", batch);
    if (sending) return; // a slow lookup skips a company period rather than piling up
    sending = true;
    const unknown = batch.map((view) => view.elevatorId).filter((id) => !companyOf.has(id));
    (unknown.length ? companiesOf(unknown) : Promise.resolve(new Map<number, number>()))
      .then((found) => {
        for (const [elevatorId, company] of found) companyOf.set(elevatorId, company);
        const byCompany = new Map<number, ElevatorLiveView[]>();
        for (const view of batch) {
          const company = companyOf.get(view.elevatorId);
          if (company === undefined) continue;
          const list = byCompany.get(company) ?? byCompany.set(company, []).get(company)!;
          list.push(view);
        }
        for (const [company, views] of byCompany) io.volatile.to(rooms.company(company)).except(rooms.centre).emit("elevator:status", views);
      })
      .catch(() => {}) // the next period carries fresh status anyway
      .finally(() => (sending = false));
  }, periodMs);
  return () => clearInterval(timer);
}
