import type { TFunction } from "i18next";
import type { TeamView, TimelineEventView } from "../../../server/contracts/index.ts";
import { systemActors } from "../../../server/contracts/index.ts";
import { serverReason, timelineLabelKey } from "./nextActions.ts";

type Entry = Pick<TimelineEventView, "type" | "toStatus" | "fromStatus" | "actorType" | "actorId" | "actorName" | "reason">;

/** What a timeline entry is, in the dispatcher's language. */
export function timelineLabel(entry: Entry, t: TFunction): string {
  return t(`detail.event.${timelineLabelKey(entry)}`, { defaultValue: t("detail.event.unknown") });
}

/**
 * Who acted, by name: the server resolves dispatchers and teams; where it could not (an entry pushed
 * before the team was known), the team board's name; system parts by what they are.
 */
export function actorLabel(entry: Entry, t: TFunction, teams: ReadonlyMap<number, Pick<TeamView, "name">>): string {
  if (entry.actorName) return entry.actorName;
  const id = entry.actorId ?? "";
  switch (entry.actorType) {
    case "system":
      return (systemActors as readonly string[]).includes(id) ? t(`detail.actor.systemPart.${id}`) : t("detail.actor.system");
    case "team": {
      const team = /^\d+$/.test(id) ? teams.get(Number(id)) : undefined;
      return team?.name ?? t("detail.actor.team", { id });
    }
    case "device":
      return t("detail.actor.device", { id });
    default:
      return id || t("detail.actor.system");
  }
}

/** The reason written with an entry: the server's own reasons translated, a person's words as written. */
export function reasonText(reason: string, t: TFunction): string {
  const known = serverReason(reason);
  if (!known) return reason;
  const values: Record<string, string> = { ...known.values };
  if (values.why) values.why = t(`sla.reason.${values.why}`, { defaultValue: t("detail.serverReason.slaUnknown") });
  if (values.alarm) values.alarm = t(`alarm.${values.alarm}`, { defaultValue: values.alarm });
  return t(`detail.serverReason.${known.key}`, values);
}
