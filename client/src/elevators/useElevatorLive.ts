import { useEffect, useState } from "react";
import type { ElevatorLiveView } from "../../../server/contracts/index.ts";
import { api, ApiError, shortError } from "../api.ts";
import { elevatorStatus, useConsole } from "../realtime.ts";

export type LiveState = { kind: "loading" } | { kind: "no_device" } | { kind: "error"; message: string } | { kind: "live"; view: ElevatorLiveView };

/**
 * An elevator's live IoT status: fetched once (and again after a reconnect's full re-fetch), then kept
 * current from the coalesced `elevator:status` batches.
 */
export function useElevatorLive(elevatorId: number): LiveState {
  const [live, setLive] = useState<LiveState>({ kind: "loading" });
  const syncGeneration = useConsole((s) => s.syncGeneration);

  useEffect(() => {
    const abort = new AbortController();
    api.elevatorLive(elevatorId, abort.signal).then(
      (view) => setLive({ kind: "live", view }),
      (err: unknown) => {
        if (abort.signal.aborted) return;
        if (err instanceof ApiError && err.status === 404) setLive({ kind: "no_device" });
        else setLive({ kind: "error", message: shortError(err) });
      },
    );
    return () => abort.abort();
  }, [elevatorId, syncGeneration]);

  useEffect(
    () =>
      elevatorStatus.subscribe((batch) => {
        const view = batch.find((v) => v.elevatorId === elevatorId);
        if (view) setLive({ kind: "live", view });
      }),
    [elevatorId],
  );

  return live;
}
