import { describe, expect, it } from "vitest";
import i18next, { type TFunction } from "i18next";
import zhCN from "../../client/src/i18n/zh-CN.ts";
import en from "../../client/src/i18n/en.ts";
import { errorIds, incidentStatuses, systemActors, timelineEventTypes, type TimelineEventView } from "../../server/contracts/index.ts";
import { serverReasonPatterns, serverReasons } from "../../client/src/incidents/nextActions.ts";
import { actorLabel, reasonText, timelineLabel } from "../../client/src/incidents/timelineText.ts";
import { ApiError, shortError } from "../../client/src/api.ts";
import { formatDateTime } from "../../client/src/time.ts";

// The console's own i18next instance is set up in the browser; these tests read the same resources.
await i18next.init({ resources: { "zh-CN": { translation: zhCN }, en: { translation: en } }, lng: "zh-CN", fallbackLng: false, interpolation: { escapeValue: false } });
const languages = ["zh-CN", "en"] as const;
const tIn = (lng: string) => i18next.getFixedT(lng) as TFunction;

/** A code-like token (`sla_warning`, `estimate_misses_deadline`) or an untranslated key path showing. */
const RAW = /\b[a-z]+_[a-z_]+\b|\b[a-z]+\.[a-z]+\.[a-zA-Z_]+\b/;

function entry(patch: Partial<TimelineEventView>): TimelineEventView {
  return { id: "1", type: "note", fromStatus: null, toStatus: null, actorType: "system", actorId: "dispatch", at: "2026-12-02T07:04:00Z", lat: null, lng: null, reason: null, data: null, ...patch };
}

describe("every message in the dispatcher's language", () => {
  it.each(languages)("every server error id has a text (%s)", (lng) => {
    for (const id of errorIds) expect(i18next.exists(`serverError.${id}`, { lng }), `serverError.${id} in ${lng}`).toBe(true);
  });

  it("a 409 for a call already in an incident reads in Chinese, naming the incident, never the server's English", async () => {
    await i18next.changeLanguage("zh-CN");
    const error = new ApiError("/api/calls/10/incident", 409, "HTTP 409: call 10 already belongs to incident 9", "call_already_linked", { incidentId: 9, incidentCode: "TJ-20261202-0009" });
    expect(shortError(error)).toBe("该来电已并入事件 TJ-20261202-0009");
    expect(shortError(new ApiError("/x", 418, "HTTP 418: teapot", "no_such_id"))).toBe("请求失败（HTTP 418）");
    expect(shortError(new ApiError("/x", 0, "fetch failed"))).not.toMatch(/fetch/);
  });

  it.each(languages)("every timeline entry type and every status change has a label, never a raw code (%s)", (lng) => {
    const t = tIn(lng);
    const types = timelineEventTypes.filter((type) => type !== "transition");
    for (const type of types) {
      expect(i18next.exists(`detail.event.${type}`, { lng }), `detail.event.${type} in ${lng}`).toBe(true);
      expect(timelineLabel(entry({ type }), t)).not.toMatch(RAW);
    }
    for (const to of incidentStatuses) {
      const label = timelineLabel(entry({ type: "transition", toStatus: to }), t);
      expect(i18next.exists(`detail.event.to_${to}`, { lng }), `detail.event.to_${to} in ${lng}`).toBe(true);
      expect(label).not.toMatch(RAW);
    }
  });

  it.each(languages)("every reason the server writes is translated (%s)", (lng) => {
    const t = tIn(lng);
    const reasons = [...Object.keys(serverReasons), ...serverReasonPatterns.map((p) => p.example)];
    for (const reason of reasons) {
      const text = reasonText(reason, t);
      expect(text, reason).not.toMatch(RAW);
      if (lng === "zh-CN") expect(text, reason).toMatch(/[\u4e00-\u9fff]/);
    }
    expect(reasonText("电话里说有两个人", t)).toBe("电话里说有两个人");
  });

  it.each(languages)("actors by name: teams by their name, system parts by what they do (%s)", (lng) => {
    const t = tIn(lng);
    const teams = new Map([[30, { name: "奥的斯河西维保一组" }]]);
    expect(actorLabel(entry({ actorType: "team", actorId: "30" }), t, teams)).toBe("奥的斯河西维保一组");
    expect(actorLabel(entry({ actorType: "user", actorId: "disp1", actorName: "王芳" }), t, teams)).toBe("王芳");
    for (const part of systemActors) {
      const label = actorLabel(entry({ actorType: "system", actorId: part }), t, teams);
      expect(label).not.toMatch(RAW);
      expect(label).not.toBe(part);
    }
  });

  it("one date-time format per language: zh-CN 2026-12-02 15:04", () => {
    expect(formatDateTime("2026-12-02T07:04:09Z", "zh-CN")).toBe("2026-12-02 15:04");
    expect(formatDateTime("2026-12-02T07:04:09Z", "en")).toBe("2026-12-02 15:04");
  });
});
