/**
 * docs/protocol.md (device protocol v1): topics and payload schemas shared by the server, the simulator and the tests.
 * A change here is a new protocol version, never a silent edit.
 */
import { z } from "zod";

export const PROTOCOL_PREFIX = "lift/v1";
export const MAX_PAYLOAD_BYTES = 4096;
export const DEVICE_ID_PATTERN = /^[A-Za-z0-9_-]{4,64}$/;

export const deviceIdSchema = z.string().regex(DEVICE_ID_PATTERN);

export const uplinkKinds = ["status", "alarm", "conn"] as const;
export type UplinkKind = (typeof uplinkKinds)[number];

export const topics = {
  status: (deviceId: string) => `${PROTOCOL_PREFIX}/${deviceId}/status`,
  alarm: (deviceId: string) => `${PROTOCOL_PREFIX}/${deviceId}/alarm`,
  conn: (deviceId: string) => `${PROTOCOL_PREFIX}/${deviceId}/conn`,
  cmd: (deviceId: string) => `${PROTOCOL_PREFIX}/${deviceId}/cmd`,
};

/** Splits `lift/v1/{deviceId}/{kind}`; anything else is not an uplink topic. */
export function parseUplinkTopic(topic: string): { deviceId: string; kind: UplinkKind } | null {
  const parts = topic.split("/");
  if (parts.length !== 4 || `${parts[0]}/${parts[1]}` !== PROTOCOL_PREFIX) return null;
  const [, , deviceId, kind] = parts as [string, string, string, string];
  if (!DEVICE_ID_PATTERN.test(deviceId)) return null;
  if (!(uplinkKinds as readonly string[]).includes(kind)) return null;
  return { deviceId, kind: kind as UplinkKind };
}

const isoTimestamp = z.iso.datetime({ offset: true });

export const directions = ["up", "down", "stop"] as const;
export const doorStates = ["open", "closed", "opening", "closing"] as const;
export const liftModes = ["normal", "inspection", "maintenance", "fire", "out_of_service", "power_backup"] as const;

export const statusPayloadSchema = z.object({
  ts: isoTimestamp,
  seq: z.number().int().nonnegative(),
  floor: z.number().int().min(-10).max(200),
  dir: z.enum(directions),
  door: z.enum(doorStates),
  moving: z.boolean(),
  inDoorZone: z.boolean(),
  passengers: z.boolean(),
  mode: z.enum(liftModes),
  speed: z.number().min(0).max(20).optional(),
  load: z.number().min(0).max(200).optional(),
});
export type StatusPayload = z.infer<typeof statusPayloadSchema>;

export const alarmCodes = [
  "trapped",
  "alarm_button",
  "stopped_outside_door_zone",
  "door_open_while_moving",
  "unintended_movement",
  "overrun_top",
  "overrun_bottom",
  "overspeed",
  "safety_circuit_open",
  "power_failure",
  "door_fault",
  "ebike_in_car",
] as const;
export type AlarmCode = (typeof alarmCodes)[number];

export const alarmPayloadSchema = z.object({
  ts: isoTimestamp,
  alarmId: z.string().min(1).max(64),
  // Unknown codes are kept (stored and shown as `unknown`), never dropped: validated as a string here.
  code: z.string().min(1).max(64),
  state: z.enum(["raised", "cleared"]),
  floor: z.number().int().min(-10).max(200).optional(),
  passengers: z.boolean().optional(),
  inDoorZone: z.boolean().optional(),
  detail: z.string().max(500).optional(),
});
export type AlarmPayload = z.infer<typeof alarmPayloadSchema>;

export const connPayloadSchema = z.object({
  online: z.boolean(),
  fw: z.string().max(64).optional(),
});
export type ConnPayload = z.infer<typeof connPayloadSchema>;

export const commandSchema = z.discriminatedUnion("cmd", [
  z.object({ cmd: z.literal("ack"), alarmId: z.string() }),
  z.object({ cmd: z.literal("snapshot") }),
  z.object({ cmd: z.literal("voice"), text: z.string().max(200) }),
]);
export type DeviceCommand = z.infer<typeof commandSchema>;
