/**
 * Named crash points for the fault tests: with `CRASH_AT=<name>` in its environment the process kills
 * itself with SIGKILL the first time it reaches `<name>`, exactly as a power loss or the OOM killer would
 * end it there. Unset (always, in production) a crash point costs one comparison.
 *
 * Points on the path of an alarm and of an offer's answer (see docs/architecture.md, "Faults survived"):
 * - `alarm:received`  an alarm passed validation, nothing stored yet
 * - `alarm:stored`    its transaction committed, no ack sent yet
 * - `alarm:acked`     the broker took the ack, follow-ups (push, offer) not yet run
 * - `offer:declined`  a decline committed, the next team not yet offered
 * - `offer:expired`   an offer timeout committed, the next team not yet offered
 */
export type CrashPoint = "alarm:received" | "alarm:stored" | "alarm:acked" | "offer:declined" | "offer:expired";

const armed = process.env.CRASH_AT;

export function crashPoint(name: CrashPoint): void {
  if (armed === name) process.kill(process.pid, "SIGKILL");
}
