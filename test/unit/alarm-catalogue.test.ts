import { describe, expect, it } from "vitest";
import { alarmCatalogue, classifyAlarm, decideAlarm, incidentForAlarm } from "../../server/alarms/catalogue.ts";
import { alarmCodes } from "../../server/devices/protocol.ts";

describe("alarm catalogue", () => {
  it("covers every protocol code", () => {
    expect(Object.keys(alarmCatalogue).sort()).toEqual([...alarmCodes].sort());
  });

  it("keeps unknown codes as unknown instead of dropping them", () => {
    expect(classifyAlarm("smoke_in_shaft")).toMatchObject({ code: "unknown", entry: { handling: "record" } });
    expect(classifyAlarm("trapped")).toMatchObject({ code: "trapped", entry: { severity: "critical" } });
  });

  it("applies the catalogue's default handling", () => {
    expect(incidentForAlarm("entrapment", undefined)).toEqual({ kind: "entrapment", autoDispatch: true });
    expect(incidentForAlarm(alarmCatalogue.power_failure.handling, true)).toEqual({ kind: "entrapment", autoDispatch: true });
    expect(incidentForAlarm(alarmCatalogue.power_failure.handling, false)).toEqual({ kind: "fault", autoDispatch: false });
    expect(incidentForAlarm(alarmCatalogue.stopped_outside_door_zone.handling, false)?.kind).toBe("fault");
    expect(incidentForAlarm(alarmCatalogue.overspeed.handling, false)).toEqual({ kind: "fault", autoDispatch: true });
    expect(incidentForAlarm(alarmCatalogue.alarm_button.handling, true)).toEqual({ kind: "entrapment", autoDispatch: false });
    expect(incidentForAlarm(alarmCatalogue.door_fault.handling, true)).toEqual({ kind: "fault", autoDispatch: false });
    expect(incidentForAlarm(alarmCatalogue.ebike_in_car.handling, true)).toBeNull();
  });

  it("treats a repeat of a raised alarm id as a duplicate and a clear as its end", () => {
    expect(decideAlarm(null, "raised")).toEqual({ action: "create" });
    expect(decideAlarm({ active: true }, "raised")).toEqual({ action: "repeat" });
    expect(decideAlarm({ active: true }, "cleared")).toEqual({ action: "clear" });
    expect(decideAlarm({ active: false }, "cleared")).toEqual({ action: "clear_after_clear" });
    expect(decideAlarm({ active: false }, "raised")).toEqual({ action: "raise_after_clear" });
    expect(decideAlarm(null, "cleared")).toEqual({ action: "clear_unknown" });
  });
});
