import { useSyncExternalStore } from "react";

export const TIME_ZONE = "Asia/Shanghai";

// One format in every language, the way Chinese dispatch records write it: 2026-12-02 15:04 (Beijing
// time). Built from parts so no locale can reorder it into 12/02/2026.
const beijing = new Intl.DateTimeFormat("en-CA", {
  timeZone: TIME_ZONE,
  hourCycle: "h23",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});

function parts(iso: string | number): Record<"year" | "month" | "day" | "hour" | "minute" | "second", string> {
  const out = { year: "", month: "", day: "", hour: "", minute: "", second: "" };
  for (const p of beijing.formatToParts(new Date(iso))) if (p.type in out) out[p.type as keyof typeof out] = p.value;
  return out;
}

/** The calendar day in Beijing time: 2026-12-02. */
export function formatDate(iso: string | number, _locale?: string): string {
  const p = parts(iso);
  return `${p.year}-${p.month}-${p.day}`;
}

/** Time of day with seconds, for steps minutes apart: 15:04:09. */
export function formatTime(iso: string | number, _locale?: string): string {
  const p = parts(iso);
  return `${p.hour}:${p.minute}:${p.second}`;
}

/** 2026-12-02 15:04 */
export function formatDateTime(iso: string | number, _locale?: string): string {
  const p = parts(iso);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
}

/** mm:ss; minutes keep counting past 59 so a long incident reads 75:03, not 15:03. */
export function formatElapsed(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const m = Math.floor(total / 60);
  const s = total % 60;
  return `${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}`;
}

export type SlaLevel = "ok" | "warning" | "overdue";

/**
 * Amber at 2/3 and red at 5/6 of the arrival limit (20 and 25 min of 30).
 * Once on scene the colour freezes at the arrival interval: late arrival stays red.
 */
export function slaLevel(reportedAt: string, arrivalDeadlineAt: string, onSceneAt: string | null, now: number): SlaLevel {
  const start = Date.parse(reportedAt);
  const limit = Date.parse(arrivalDeadlineAt) - start;
  if (!(limit > 0)) return "ok";
  const end = onSceneAt ? Date.parse(onSceneAt) : now;
  const elapsed = end - start;
  if (elapsed >= (limit * 5) / 6) return "overdue";
  if (elapsed >= (limit * 2) / 3) return "warning";
  return "ok";
}

// One shared 1 s ticker: every clock on the page re-renders from the same timestamp.
let now = Date.now();
const listeners = new Set<() => void>();
let timer: ReturnType<typeof setInterval> | undefined;

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  if (!timer) {
    now = Date.now();
    timer = setInterval(() => {
      now = Date.now();
      for (const l of listeners) l();
    }, 1000);
  }
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0 && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  };
}

export function useNow(): number {
  return useSyncExternalStore(subscribe, () => now);
}
