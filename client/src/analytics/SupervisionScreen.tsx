import { useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import type { Role, TimelineView } from "../../../server/contracts/index.ts";
import {
  groupings,
  type CallCentreView,
  type CompaniesView,
  type FigureRowView,
  type FiguresView,
  type Grouping,
  type IncidentsBehindView,
  type IotView,
  type RepeatsView,
  type TrappingView,
  type TrendsView,
} from "../../../server/contracts/analytics.ts";
import { getJson } from "../api.ts";
import { useRequest } from "../useRequest.ts";
import { useConsole } from "../realtime.ts";
import { formatDateTime } from "../time.ts";
import { EChart, echarts } from "./EChart.tsx";
import "./supervision.css";

const minutes = (s: number | null | undefined) => (s === null || s === undefined ? "—" : (s / 60).toFixed(1));
const percent = (v: number | null | undefined) => (v === null || v === undefined ? "—" : `${(v * 100).toFixed(1)}%`);

/** The current month and the one 11 months before it, in Beijing time. */
function defaultPeriod(): { from: string; to: string } {
  const now = new Date(Date.now() + 8 * 3600_000);
  const to = now.toISOString().slice(0, 7);
  const from = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 11, 1)).toISOString().slice(0, 7);
  return { from, to };
}

let registeredMap = "";

/**
 * The regulator's screen: figures, trends, distributions, a district map coloured by on-time rate, the
 * companies' scores and red list, the most-trapping and repeat lists, each with a drill-down to the
 * incidents behind a figure and on to one incident's timeline. Read-only for everyone; a company admin
 * sees its own company beside the city's averages.
 */
export function SupervisionScreen({ role }: { role: Role }) {
  const { t, i18n } = useTranslation();
  const districts = useConsole((s) => s.districts);
  const cityReader = role !== "company_admin";
  const [period, setPeriod] = useState(defaultPeriod);
  const [district, setDistrict] = useState<string>("");
  const [company, setCompany] = useState<string>("");
  const [groupBy, setGroupBy] = useState<Grouping>("district");
  const [days, setDays] = useState<30 | 90>(30);
  const [drill, setDrill] = useState<{ grouping: Grouping; key: string; label: string } | null>(null);
  const [incidentId, setIncidentId] = useState<number | null>(null);

  const base = useMemo(() => {
    const p = new URLSearchParams({ from: period.from, to: period.to });
    if (district) p.set("district", district);
    if (company) p.set("company", company);
    return p.toString();
  }, [period, district, company]);

  const total = useRequest((s) => getJson<FiguresView>(`/api/analytics/figures?${base}`, s), [base]);
  const grouped = useRequest((s) => getJson<FiguresView>(`/api/analytics/figures?${base}&groupBy=${groupBy}`, s), [base, groupBy]);
  const byDistrict = useRequest((s) => getJson<FiguresView>(`/api/analytics/figures?${base}&groupBy=district`, s), [base]);
  const trends = useRequest((s) => getJson<TrendsView>(`/api/analytics/trends?${base}`, s), [base]);
  const companies = useRequest((s) => getJson<CompaniesView>(`/api/analytics/companies?${base}`, s), [base]);
  const trapping = useRequest((s) => getJson<TrappingView>(`/api/analytics/most-trapping?${base}&days=${days}`, s), [base, days]);
  const repeats = useRequest((s) => getJson<RepeatsView>(`/api/analytics/repeats?${base}`, s), [base]);
  const calls = useRequest(cityReader ? (s) => getJson<CallCentreView>(`/api/analytics/call-centre?${base}`, s) : null, [base, cityReader]);
  const iot = useRequest(cityReader ? (s) => getJson<IotView>(`/api/analytics/iot?${base}`, s) : null, [base, cityReader]);
  const behind = useRequest(
    drill ? (s) => getJson<IncidentsBehindView>(`/api/analytics/incidents?${base}&groupBy=${drill.grouping}&key=${encodeURIComponent(drill.key)}&limit=200`, s) : null,
    [base, drill],
  );
  const timeline = useRequest(incidentId === null ? null : (s) => getJson<TimelineView>(`/api/incidents/${incidentId}/timeline`, s), [incidentId]);

  const groupLabel = (g: Grouping, row: FigureRowView) =>
    g === "source" ? t(`analytics.source.${row.key}`, { defaultValue: row.key }) : g === "placeType" ? t(`analytics.place.${row.key}`, { defaultValue: row.key }) : row.label;

  const open = (grouping: Grouping, key: string, label: string) => {
    setDrill({ grouping, key, label });
    setIncidentId(null);
  };

  const mapOption = useMemo(() => {
    if (!districts.length) return null;
    if (registeredMap !== String(districts.length)) {
      echarts.registerMap("tianjin-districts", {
        type: "FeatureCollection",
        features: districts.map((d) => ({ type: "Feature", properties: { name: d.name }, geometry: d.outline })),
      } as never);
      registeredMap = String(districts.length);
    }
    const rows = byDistrict.data?.rows ?? [];
    return {
      tooltip: { trigger: "item", formatter: (p: { name: string; value: number }) => `${p.name}<br/>${t("analytics.onTimeRate")}: ${Number.isFinite(p.value) ? `${p.value}%` : "—"}` },
      visualMap: { min: 80, max: 100, left: 8, bottom: 8, text: ["100%", "80%"], calculable: true, inRange: { color: ["#b91c1c", "#f59e0b", "#16a34a"] } },
      series: [
        {
          type: "map",
          map: "tianjin-districts",
          roam: true,
          label: { show: true, fontSize: 10 },
          data: rows.map((r) => ({ name: r.label, value: r.onTimeRate === null ? NaN : Math.round(r.onTimeRate * 1000) / 10, key: r.key })),
        },
      ],
    };
  }, [districts, byDistrict.data, t]);

  const trendOption = useMemo(() => {
    const data = trends.data;
    if (!data) return null;
    const byMonth = new Map(data.rows.map((r) => [r.key, r]));
    const cityByMonth = new Map(data.city.map((r) => [r.key, r]));
    const series = [
      { name: t("analytics.reported"), type: "bar", yAxisIndex: 1, data: data.months.map((m) => byMonth.get(m)?.reported ?? 0), itemStyle: { color: "#cbd5e1" } },
      { name: t("analytics.arrivalMedian"), type: "line", data: data.months.map((m) => minutesOrNull(byMonth.get(m)?.intervals.arrivalS.median)) },
      { name: t("analytics.arrivalP90"), type: "line", data: data.months.map((m) => minutesOrNull(byMonth.get(m)?.intervals.arrivalS.p90)) },
    ];
    if (data.city !== data.rows && !cityReader) {
      series.push({ name: t("analytics.cityArrivalMedian"), type: "line", data: data.months.map((m) => minutesOrNull(cityByMonth.get(m)?.intervals.arrivalS.median)) });
    }
    return {
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 40, right: 40, top: 30, bottom: 24 },
      xAxis: { type: "category", data: data.months },
      yAxis: [{ type: "value", name: t("analytics.min") }, { type: "value", name: t("analytics.count") }],
      series,
    };
  }, [trends.data, t, cityReader]);

  const distributionOption = useMemo(() => {
    const rows = grouped.data?.rows ?? [];
    return {
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 40, right: 10, top: 30, bottom: 60 },
      xAxis: { type: "category", data: rows.map((r) => groupLabel(groupBy, r)), axisLabel: { rotate: 30, fontSize: 10 } },
      yAxis: { type: "value", name: t("analytics.min") },
      series: [
        { name: t("analytics.arrivalMedian"), type: "bar", data: rows.map((r) => minutesOrNull(r.intervals.arrivalS.median)) },
        { name: t("analytics.arrivalP90"), type: "bar", data: rows.map((r) => minutesOrNull(r.intervals.arrivalS.p90)) },
      ],
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [grouped.data, groupBy, t]);

  const exportLinks = (path: string, extra = "") => (
    <span className="sv-export">
      <a href={`/api/analytics/${path}?${base}${extra}&format=csv`} download>
        CSV
      </a>
      <a href={`/api/analytics/${path}?${base}${extra}&format=xlsx`} download>
        XLSX
      </a>
    </span>
  );

  const kpi = total.data?.rows[0];
  const city = total.data?.city;
  const companyOptions = companies.data?.rows ?? [];

  return (
    <div className="supervision" data-testid="supervision-screen">
      <form className="sv-filters" onSubmit={(e) => e.preventDefault()} aria-label={t("analytics.filters")}>
        <label>
          {t("analytics.from")}
          <input type="month" value={period.from} onChange={(e) => e.target.value && setPeriod((p) => ({ ...p, from: e.target.value }))} data-testid="sv-from" />
        </label>
        <label>
          {t("analytics.to")}
          <input type="month" value={period.to} onChange={(e) => e.target.value && setPeriod((p) => ({ ...p, to: e.target.value }))} data-testid="sv-to" />
        </label>
        <label>
          {t("analytics.district")}
          <select value={district} onChange={(e) => setDistrict(e.target.value)} data-testid="sv-district">
            <option value="">{t("analytics.all")}</option>
            {districts.map((d) => (
              <option key={d.id} value={d.id}>
                {i18n.language === "en" ? d.nameEn : d.name}
              </option>
            ))}
          </select>
        </label>
        {cityReader && (
          <label>
            {t("analytics.company")}
            <select value={company} onChange={(e) => setCompany(e.target.value)} data-testid="sv-company">
              <option value="">{t("analytics.all")}</option>
              {companyOptions.map((c) => (
                <option key={c.companyId} value={c.companyId ?? ""}>
                  {c.company}
                </option>
              ))}
            </select>
          </label>
        )}
        <label>
          {t("analytics.groupBy")}
          <select value={groupBy} onChange={(e) => setGroupBy(e.target.value as Grouping)} data-testid="sv-group">
            {groupings.filter((g) => g !== "none").map((g) => (
              <option key={g} value={g}>
                {t(`analytics.grouping.${g}`)}
              </option>
            ))}
          </select>
        </label>
        <a className="sv-bulletin" href={`/api/analytics/bulletin/${period.to}`} target="_blank" rel="noreferrer" hidden={!cityReader} data-testid="sv-bulletin">
          {t("analytics.bulletin")}
        </a>
        {total.error && <span className="sv-error">{total.error}</span>}
      </form>

      <section className="sv-kpis" data-testid="sv-kpis">
        <Kpi label={t("analytics.reported")} value={String(kpi?.reported ?? "—")} city={city && !cityReader ? String(city.reported) : null} testId="kpi-reported" />
        <Kpi label={t("analytics.arrivalMedian")} value={minutes(kpi?.intervals.arrivalS.median)} city={!cityReader ? minutes(city?.intervals.arrivalS.median) : null} testId="kpi-arrival-median" />
        <Kpi label={t("analytics.arrivalP90")} value={minutes(kpi?.intervals.arrivalS.p90)} city={!cityReader ? minutes(city?.intervals.arrivalS.p90) : null} testId="kpi-arrival-p90" />
        <Kpi label={t("analytics.onTimeRate")} value={percent(kpi?.onTimeRate)} city={!cityReader ? percent(city?.onTimeRate) : null} testId="kpi-on-time" />
        <Kpi label={t("analytics.extricationMedian")} value={minutes(kpi?.intervals.extricationS.median)} city={null} testId="kpi-extrication" />
        {calls.data && <Kpi label={t("analytics.answered15")} value={percent(calls.data.answeredWithin15sRate)} city={null} testId="kpi-answer15" />}
      </section>

      <div className="sv-grid">
        <section className="sv-card">
          <h3>{t("analytics.trend")}</h3>
          {trendOption && <EChart option={trendOption} testId="sv-trend" />}
        </section>
        <section className="sv-card">
          <h3>{t("analytics.map")}</h3>
          {mapOption && (
            <EChart
              option={mapOption}
              testId="sv-map"
              onClick={(p) => {
                const row = byDistrict.data?.rows.find((r) => r.label === p.name);
                if (row) open("district", row.key, row.label);
              }}
            />
          )}
        </section>
        <section className="sv-card sv-card--wide">
          <h3>
            {t("analytics.distribution")} · {t(`analytics.grouping.${groupBy}`)} {exportLinks("figures", `&groupBy=${groupBy}`)}
          </h3>
          <EChart option={distributionOption} onClick={(p) => { const row = grouped.data?.rows[p.dataIndex]; if (row) open(groupBy, row.key, groupLabel(groupBy, row)); }} testId="sv-distribution" />
          <table className="sv-table" data-testid="sv-figures">
            <thead>
              <tr>
                <th>{t(`analytics.grouping.${groupBy}`)}</th>
                <th>{t("analytics.reported")}</th>
                <th>{t("analytics.responses")}</th>
                <th>{t("analytics.falseAlarms")}</th>
                <th>{t("analytics.arrivalMean")}</th>
                <th>{t("analytics.arrivalMedian")}</th>
                <th>{t("analytics.arrivalP90")}</th>
                <th>{t("analytics.onTimeRate")}</th>
                <th>{t("analytics.callProcessingMedian")}</th>
                <th>{t("analytics.extricationMedian")}</th>
              </tr>
            </thead>
            <tbody>
              {(grouped.data?.rows ?? []).map((r) => (
                <tr key={r.key} className="sv-row" onClick={() => open(groupBy, r.key, groupLabel(groupBy, r))} data-testid={`sv-figure-${r.key}`}>
                  <td>{groupLabel(groupBy, r)}</td>
                  <td>{r.reported}</td>
                  <td>{r.responses}</td>
                  <td>{r.falseAlarms}</td>
                  <td>{minutes(r.intervals.arrivalS.mean)}</td>
                  <td>{minutes(r.intervals.arrivalS.median)}</td>
                  <td>{minutes(r.intervals.arrivalS.p90)}</td>
                  <td>{percent(r.onTimeRate)}</td>
                  <td>{minutes(r.intervals.callProcessingS.median)}</td>
                  <td>{minutes(r.intervals.extricationS.median)}</td>
                </tr>
              ))}
              {grouped.data?.city && !cityReader && (
                <tr className="sv-row--city">
                  <td>{t("analytics.cityAverage")}</td>
                  <td>{grouped.data.city.reported}</td>
                  <td>{grouped.data.city.responses}</td>
                  <td>{grouped.data.city.falseAlarms}</td>
                  <td>{minutes(grouped.data.city.intervals.arrivalS.mean)}</td>
                  <td>{minutes(grouped.data.city.intervals.arrivalS.median)}</td>
                  <td>{minutes(grouped.data.city.intervals.arrivalS.p90)}</td>
                  <td>{percent(grouped.data.city.onTimeRate)}</td>
                  <td>{minutes(grouped.data.city.intervals.callProcessingS.median)}</td>
                  <td>{minutes(grouped.data.city.intervals.extricationS.median)}</td>
                </tr>
              )}
            </tbody>
          </table>
        </section>

        {drill && (
          <section className="sv-card sv-card--wide" data-testid="sv-drill">
            <h3>
              {t("analytics.incidentsBehind", { label: drill.label })} ({behind.data?.total ?? "…"})
              <button type="button" className="sv-close" onClick={() => setDrill(null)}>
                ×
              </button>
            </h3>
            <div className="sv-drill">
              <table className="sv-table">
                <thead>
                  <tr>
                    <th>{t("analytics.code")}</th>
                    <th>{t("analytics.reportedAt")}</th>
                    <th>{t("analytics.status")}</th>
                    <th>{t("analytics.district")}</th>
                    <th>{t("analytics.company")}</th>
                    <th>{t("analytics.arrivalMin")}</th>
                  </tr>
                </thead>
                <tbody>
                  {(behind.data?.items ?? []).map((i) => (
                    <tr key={i.id} className={`sv-row${i.id === incidentId ? " sv-row--active" : ""}`} onClick={() => setIncidentId(i.id)} data-testid={`sv-incident-${i.id}`}>
                      <td className="mono">{i.code}</td>
                      <td>{formatDateTime(i.reportedAt, i18n.language)}</td>
                      <td>{t(`status.${i.status}`)}</td>
                      <td>{i.district}</td>
                      <td>{i.company}</td>
                      <td className={i.arrivalS !== null && i.arrivalS > i.arrivalLimitS ? "sv-late" : ""}>{minutes(i.arrivalS)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {timeline.data && incidentId !== null && (
                <ol className="sv-timeline" data-testid="sv-timeline">
                  {timeline.data.events.map((e) => (
                    <li key={e.id}>
                      <span className="mono">{formatDateTime(e.at, i18n.language)}</span> {e.toStatus ? t(`status.${e.toStatus}`) : e.type}
                      {e.reason ? ` · ${e.reason}` : ""}
                    </li>
                  ))}
                </ol>
              )}
            </div>
          </section>
        )}

        <section className="sv-card sv-card--wide">
          <h3>
            {t("analytics.companies")} {exportLinks("companies")}
          </h3>
          <p className="sv-formula" data-testid="sv-formula">
            {companies.data?.formula[i18n.language === "en" ? "en" : "zh-CN"]}
          </p>
          <table className="sv-table" data-testid="sv-companies">
            <thead>
              <tr>
                <th>{t("analytics.company")}</th>
                <th>{t("analytics.score")}</th>
                <th>{t("analytics.onTimeRate")}</th>
                <th>{t("analytics.late")}</th>
                <th>{t("analytics.answerRate")}</th>
                <th>{t("analytics.declined")}</th>
                <th>{t("analytics.expired")}</th>
                <th>{t("analytics.repeatRate")}</th>
              </tr>
            </thead>
            <tbody>
              {[...(companies.data?.rows ?? []), ...(companies.data ? [companies.data.city] : [])].map((c) => (
                <tr key={c.companyId ?? "city"} className={c.companyId === null ? "sv-row--city" : c.redListed ? "sv-row--red" : ""}>
                  <td>{c.companyId === null ? t("analytics.cityAverage") : c.company}</td>
                  <td>{c.score.toFixed(1)}</td>
                  <td>{percent(c.onTimeRate)}</td>
                  <td>{c.late}</td>
                  <td>{percent(c.answerRate)}</td>
                  <td>{c.offersDeclined}</td>
                  <td>{c.offersExpired}</td>
                  <td>{percent(c.repeatRate)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className="sv-note">{t("analytics.redListNote")} {exportLinks("red-list")}</p>
        </section>

        <section className="sv-card">
          <h3>
            {t("analytics.mostTrapping")}
            <select value={days} onChange={(e) => setDays(Number(e.target.value) as 30 | 90)} data-testid="sv-days">
              <option value={30}>30 {t("analytics.days")}</option>
              <option value={90}>90 {t("analytics.days")}</option>
            </select>
            {exportLinks("most-trapping", `&days=${days}`)}
          </h3>
          <table className="sv-table" data-testid="sv-trapping">
            <thead>
              <tr>
                <th>#</th>
                <th>{t("analytics.rescueCode")}</th>
                <th>{t("analytics.site")}</th>
                <th>{t("analytics.company")}</th>
                <th>{t("analytics.entrapments")}</th>
              </tr>
            </thead>
            <tbody>
              {(trapping.data?.rows ?? []).map((r, i) => (
                <tr key={r.elevatorId}>
                  <td>{i + 1}</td>
                  <td className="mono">{r.rescueCode}</td>
                  <td>{r.site}</td>
                  <td>{r.company}</td>
                  <td>{r.entrapments}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>

        <section className="sv-card">
          <h3>
            {t("analytics.repeats")} ({repeats.data?.rows.length ?? "…"}) {exportLinks("repeats")}
          </h3>
          <table className="sv-table" data-testid="sv-repeats">
            <thead>
              <tr>
                <th>{t("analytics.code")}</th>
                <th>{t("analytics.previous")}</th>
                <th>{t("analytics.gapDays")}</th>
                <th>{t("analytics.site")}</th>
              </tr>
            </thead>
            <tbody>
              {(repeats.data?.rows ?? []).slice(0, 50).map((r) => (
                <tr key={r.incidentId} className="sv-row" onClick={() => { setDrill({ grouping: "none", key: "all", label: r.code }); setIncidentId(r.incidentId); }}>
                  <td className="mono">{r.code}</td>
                  <td className="mono">{r.previousCode}</td>
                  <td>{r.gapDays}</td>
                  <td>{r.site}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>

        {calls.data && (
          <section className="sv-card" data-testid="sv-calls">
            <h3>
              {t("analytics.callCentre")} {exportLinks("call-centre")}
            </h3>
            <dl className="sv-dl">
              <dt>{t("analytics.calls")}</dt>
              <dd>{calls.data.calls}</dd>
              <dt>{t("analytics.answered15")}</dt>
              <dd>
                {calls.data.answeredWithin15s} ({percent(calls.data.answeredWithin15sRate)})
              </dd>
              <dt>{t("analytics.abandoned")}</dt>
              <dd>{calls.data.abandoned}</dd>
              <dt>{t("analytics.answerP90")}</dt>
              <dd>{calls.data.answerP90S === null ? "—" : `${calls.data.answerP90S.toFixed(1)} s`}</dd>
              <dt>{t("analytics.incidentShare")}</dt>
              <dd>{percent(calls.data.incidentShare)}</dd>
            </dl>
          </section>
        )}
        {iot.data && (
          <section className="sv-card" data-testid="sv-iot">
            <h3>
              {t("analytics.iot")} {exportLinks("iot")}
            </h3>
            <table className="sv-table">
              <thead>
                <tr>
                  <th>{t("analytics.deviceModel")}</th>
                  <th>{t("analytics.alarms")}</th>
                  <th>{t("analytics.confirmed")}</th>
                  <th>{t("analytics.falseAlarmRate")}</th>
                </tr>
              </thead>
              <tbody>
                {iot.data.rows.map((r) => (
                  <tr key={r.model}>
                    <td>{r.model}</td>
                    <td>{r.alarms}</td>
                    <td>{r.confirmed}</td>
                    <td>{percent(r.falseAlarmRate)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        )}
      </div>
    </div>
  );
}

const minutesOrNull = (s: number | null | undefined) => (s === null || s === undefined ? null : Math.round(s / 6) / 10);

function Kpi({ label, value, city, testId }: { label: string; value: string; city: string | null; testId: string }) {
  const { t } = useTranslation();
  return (
    <div className="sv-kpi">
      <b data-testid={testId}>{value}</b>
      <span>{label}</span>
      {city !== null && (
        <small>
          {t("analytics.cityAverage")} {city}
        </small>
      )}
    </div>
  );
}
