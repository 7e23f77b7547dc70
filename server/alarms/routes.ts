import { z } from "zod";
import type { Alarm } from "../platform/db/generated/client.ts";
import type { ApiRouter } from "../platform/http.ts";
import { CITY_READERS, OPERATORS } from "../auth/roles.ts";
import { errors } from "../platform/errors.ts";
import { alarmView, type AlarmView } from "../contracts/index.ts";
import type { AlarmRepository } from "./repository.ts";

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function presentAlarm(a: Alarm): AlarmView {
  return {
    id: a.id,
    deviceId: a.deviceId,
    alarmId: a.alarmId,
    code: a.code,
    rawCode: a.rawCode,
    severity: a.severity,
    active: a.active,
    acknowledged: a.acknowledged,
    raisedAt: a.raisedAt.toISOString(),
    receivedAt: a.receivedAt.toISOString(),
    clearedAt: iso(a.clearedAt),
    ackAt: iso(a.ackAt),
    ackBy: a.ackBy,
    repeatCount: a.repeatCount,
    flapping: a.flapping,
    flapCount: a.flapCount,
    floor: a.floor,
    passengers: a.passengers,
    elevatorId: a.elevatorId,
    incidentId: a.incidentId,
  };
}

const boolQuery = z.enum(["true", "false"]).transform((v) => v === "true");

export function registerAlarmRoutes(api: ApiRouter, deps: { alarms: AlarmRepository; onAcknowledged?: (alarm: AlarmView) => void }) {
  const { alarms } = deps;
  api.route({
    method: "get",
    path: "/api/alarms",
    summary: "Alarms, newest first (active/cleared x acknowledged/unacknowledged); page on with before = the last id seen",
    tags: ["alarms"],
    access: CITY_READERS,
    query: z.object({
      active: boolQuery.optional(),
      acknowledged: boolQuery.optional(),
      elevatorId: z.coerce.number().int().positive().optional(),
      deviceId: z.string().max(64).optional(),
      before: z.coerce.number().int().positive().optional(),
      limit: z.coerce.number().int().min(1).max(1000).default(200),
    }),
    response: z.array(alarmView),
    handler: async ({ query }) => {
      const rows = await alarms.list(query);
      return rows.map(presentAlarm);
    },
  });

  api.route({
    method: "post",
    path: "/api/alarms/{id}/acknowledge",
    summary: "Acknowledge an alarm (a person has seen it); idempotent, the first acknowledgement is kept",
    tags: ["alarms"],
    access: OPERATORS,
    audit: "alarm.acknowledge",
    params: z.object({ id: z.coerce.number().int().positive() }),
    // The acknowledger is the signed-in user; `by` is accepted from old clients and ignored.
    body: z.object({ by: z.string().trim().min(1).max(100).optional(), note: z.string().max(500).optional() }),
    response: alarmView,
    handler: async ({ params, user }) => {
      const alarm = await alarms.acknowledge(params.id, user.username, new Date());
      if (!alarm) throw errors.notFound(`alarm ${params.id}`);
      const view = presentAlarm(alarm);
      deps.onAcknowledged?.(view);
      return view;
    },
  });
}
