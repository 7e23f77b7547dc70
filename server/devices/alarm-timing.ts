import { Histogram } from "prom-client";

/** Seconds from an alarm's arrival to its ack leaving the platform, and to its incident on the consoles. */
const buckets = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class AlarmTiming {
  readonly ack = new Histogram({
    name: "lift96333_alarm_to_ack_seconds",
    help: "Alarm received -> ack published to the device (stored first)",
    buckets,
    registers: [],
  });
  readonly push = new Histogram({
    name: "lift96333_alarm_to_push_seconds",
    help: "Alarm received -> incident:created pushed to the consoles",
    buckets,
    registers: [],
  });
}
