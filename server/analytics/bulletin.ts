import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { AnalyticsRepository, CallCentreFigures, FigureRow, TrappingRow } from "./repository.ts";
import { monthsEndingWith, SCORE_FORMULA, scoreRow, shanghaiMonthBounds, sumRecords } from "./figures.ts";

/** Everything the monthly bulletin prints, gathered from the same queries the screen uses. */
export interface BulletinData {
  month: string;
  total: FigureRow | null;
  previous: FigureRow | null;
  byDistrict: FigureRow[];
  bySource: FigureRow[];
  byPlaceType: FigureRow[];
  trend: FigureRow[];
  months: string[];
  callCentre: CallCentreFigures;
  mostTrapping: TrappingRow[];
  companies: ReturnType<typeof scoreRow>[];
  city: ReturnType<typeof scoreRow>;
}

export async function bulletinData(analytics: AnalyticsRepository, month: string): Promise<BulletinData> {
  const range = shanghaiMonthBounds(month);
  const months = monthsEndingWith(month, 12);
  const previousMonth = months[months.length - 2]!;
  const [total, previous, byDistrict, bySource, byPlaceType, trend, callCentre, mostTrapping, records] = await Promise.all([
    analytics.figures(range, "none"),
    analytics.figures(shanghaiMonthBounds(previousMonth), "none"),
    analytics.figures(range, "district"),
    analytics.figures(range, "source"),
    analytics.figures(range, "placeType"),
    analytics.figures({ from: shanghaiMonthBounds(months[0]!).from, to: range.to }, "month"),
    analytics.callCentre(range),
    analytics.mostTrapping({ to: range.to }, 30, 10),
    analytics.companyRecords(range),
  ]);
  const companies = records.map(({ companyId, company, ...r }) => scoreRow(companyId, company, r)).sort((a, b) => a.score - b.score);
  return {
    month,
    total: total[0] ?? null,
    previous: previous[0] ?? null,
    byDistrict,
    bySource,
    byPlaceType,
    trend,
    months,
    callCentre,
    mostTrapping,
    companies,
    city: scoreRow(null, "全市", sumRecords(records)),
  };
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
const minutes = (s: number | null | undefined) => (s === null || s === undefined ? "—" : (s / 60).toFixed(1));
const percent = (v: number | null | undefined) => (v === null || v === undefined ? "—" : `${(v * 100).toFixed(1)}%`);
const SOURCE_LABEL: Record<string, string> = { call: "96333热线", alarm: "物联网报警", manual: "人工录入" };
const PLACE_LABEL: Record<string, string> = {
  residential: "住宅", office: "办公", mall: "商场", hospital: "医院", school: "学校", hotel: "酒店", metro: "地铁", other: "其他",
};

/** A horizontal bar chart as inline SVG: prints sharply and needs no script. */
function bars(rows: { label: string; value: number }[], unit: string): string {
  const max = Math.max(1, ...rows.map((r) => r.value));
  const height = rows.length * 22 + 8;
  const items = rows
    .map((r, i) => {
      const w = Math.round((r.value / max) * 360);
      const y = i * 22 + 4;
      return `<text x="0" y="${y + 14}" font-size="12">${esc(r.label)}</text><rect x="120" y="${y + 2}" width="${w}" height="16" fill="#2563eb"/><text x="${126 + w}" y="${y + 14}" font-size="11">${r.value}${unit}</text>`;
    })
    .join("");
  return `<svg class="chart" viewBox="0 0 560 ${height}" width="560" height="${height}" role="img">${items}</svg>`;
}

/** The month-by-month line of arrival medians and counts. */
function trendChart(data: BulletinData): string {
  const byMonth = new Map(data.trend.map((r) => [r.key, r]));
  const points = data.months.map((m) => ({ m, v: byMonth.get(m)?.intervals.arrivalS.median ?? null, n: byMonth.get(m)?.reported ?? 0 }));
  const maxV = Math.max(60, ...points.map((p) => p.v ?? 0));
  const maxN = Math.max(1, ...points.map((p) => p.n));
  const x = (i: number) => 40 + i * 42;
  const bars = points.map((p, i) => `<rect x="${x(i) - 12}" y="${180 - (p.n / maxN) * 140}" width="24" height="${(p.n / maxN) * 140}" fill="#cbd5e1"/>`).join("");
  const line = points
    .filter((p) => p.v !== null)
    .map((p) => `${x(points.indexOf(p))},${180 - (p.v! / maxV) * 140}`)
    .join(" ");
  const labels = points.map((p, i) => `<text x="${x(i) - 14}" y="198" font-size="10">${p.m.slice(2)}</text>`).join("");
  return `<svg class="chart" viewBox="0 0 540 205" width="540" height="205" role="img">${bars}<polyline points="${line}" fill="none" stroke="#dc2626" stroke-width="2"/>${labels}
    <text x="0" y="12" font-size="11">灰柱：报警数（最多 ${maxN}）；红线：到场时间中位数（最高 ${minutes(maxV)} 分钟）</text></svg>`;
}

export function renderBulletin(data: BulletinData): string {
  const [year, mon] = data.month.split("-");
  const t = data.total;
  const cmp = (now: number | null | undefined, before: number | null | undefined) =>
    now === null || now === undefined || before === null || before === undefined ? "" : now <= before ? `，较上月缩短 ${minutes(before - now)} 分钟` : `，较上月延长 ${minutes(now - before)} 分钟`;
  const summary = t
    ? `${year}年${Number(mon)}月，本市96333电梯应急处置平台共受理电梯报警 ${t.reported} 起，其中实施救援 ${t.responses} 起，` +
      `误报 ${t.falseAlarms} 起、取消 ${t.cancelled} 起。维保单位平均到场时间 ${minutes(t.intervals.arrivalS.mean)} 分钟` +
      `（中位数 ${minutes(t.intervals.arrivalS.median)} 分钟，90% 在 ${minutes(t.intervals.arrivalS.p90)} 分钟内${cmp(t.intervals.arrivalS.median, data.previous?.intervals.arrivalS.median)}），` +
      `到场及时率 ${percent(t.onTimeRate)}；平均解救用时 ${minutes(t.intervals.extricationS.mean)} 分钟。` +
      `热线共接听来电 ${data.callCentre.answered} 个，15 秒内接听率 ${percent(data.callCentre.answeredWithin15sRate)}。`
    : `${year}年${Number(mon)}月无电梯报警记录。`;
  const districtRows = data.byDistrict
    .map((r) => `<tr><td>${esc(r.label)}</td><td>${r.reported}</td><td>${r.responses}</td><td>${minutes(r.intervals.arrivalS.median)}</td><td>${minutes(r.intervals.arrivalS.p90)}</td><td>${percent(r.onTimeRate)}</td></tr>`)
    .join("");
  const companyRows = data.companies
    .map((c) => `<tr${c.redListed ? ' class="red"' : ""}><td>${esc(c.company)}</td><td>${c.score.toFixed(1)}</td><td>${c.arrivals}</td><td>${c.late}</td><td>${c.offersDeclined}</td><td>${c.offersExpired}</td><td>${c.repeats}</td></tr>`)
    .join("");
  const trappingRows = data.mostTrapping
    .map((r, i) => `<tr><td>${i + 1}</td><td>${esc(r.rescueCode)}</td><td>${esc(r.site)}</td><td>${esc(r.district)}</td><td>${esc(r.company)}</td><td>${r.entrapments}</td></tr>`)
    .join("");
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>${year}年${Number(mon)}月 电梯应急处置月报</title>
<style>
  body { font-family: "WenQuanYi Micro Hei", "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; color: #111; margin: 24px auto; max-width: 820px; line-height: 1.6; }
  h1 { text-align: center; font-size: 22px; margin-bottom: 4px; } .sub { text-align: center; color: #555; margin-top: 0; }
  h2 { font-size: 16px; border-left: 4px solid #b91c1c; padding-left: 8px; margin-top: 24px; }
  table { border-collapse: collapse; width: 100%; font-size: 12px; } th, td { border: 1px solid #999; padding: 3px 6px; text-align: center; }
  th { background: #eef2f7; } tr.red td { color: #b91c1c; }
  .kpis { display: grid; grid-template-columns: repeat(4, 1fr); gap: 8px; } .kpi { border: 1px solid #ccc; padding: 8px; text-align: center; }
  .kpi b { display: block; font-size: 20px; } .formula { font-size: 12px; color: #444; }
  @page { size: A4; margin: 16mm 14mm; }
  @media print { body { margin: 0; max-width: none; } h2 { break-after: avoid; } table, svg { break-inside: avoid; } .noprint { display: none; } }
</style></head>
<body>
<h1>天津市电梯应急处置服务平台月度通报</h1>
<p class="sub">${year}年${Number(mon)}月 · 96333 · 数据时间按北京时间统计</p>
<button class="noprint" onclick="window.print()">打印</button>
<h2>一、总体情况</h2>
<p data-testid="bulletin-summary">${summary}</p>
<div class="kpis">
  <div class="kpi"><b data-figure="reported">${t?.reported ?? 0}</b>报警数</div>
  <div class="kpi"><b data-figure="arrival-median">${minutes(t?.intervals.arrivalS.median)}</b>到场中位数(分钟)</div>
  <div class="kpi"><b data-figure="arrival-p90">${minutes(t?.intervals.arrivalS.p90)}</b>到场P90(分钟)</div>
  <div class="kpi"><b data-figure="on-time">${percent(t?.onTimeRate)}</b>到场及时率</div>
</div>
<h2>二、近12个月趋势</h2>
${trendChart(data)}
<h2>三、各区情况</h2>
<table><thead><tr><th>区</th><th>报警数</th><th>救援数</th><th>到场中位数(分)</th><th>到场P90(分)</th><th>及时率</th></tr></thead><tbody>${districtRows}</tbody></table>
<h2>四、报警来源与场所类型</h2>
${bars(data.bySource.map((r) => ({ label: SOURCE_LABEL[r.key] ?? r.key, value: r.reported })), " 起")}
${bars(data.byPlaceType.map((r) => ({ label: PLACE_LABEL[r.key] ?? r.key, value: r.reported })), " 起")}
<h2>五、96333热线</h2>
<table><thead><tr><th>来电</th><th>接听</th><th>15秒内接听</th><th>放弃</th><th>接听用时P90(秒)</th><th>转为事件</th></tr></thead>
<tbody><tr><td>${data.callCentre.calls}</td><td>${data.callCentre.answered}</td><td>${data.callCentre.answeredWithin15s}</td><td>${data.callCentre.abandoned}</td><td>${data.callCentre.answerP90S === null ? "—" : data.callCentre.answerP90S.toFixed(1)}</td><td>${data.callCentre.becameIncidents}</td></tr></tbody></table>
<h2>六、维保单位评分与红榜</h2>
<p class="formula">${esc(SCORE_FORMULA["zh-CN"])}。红色为本月有超时到场、拒单或超时未应答的单位。全市综合得分 ${data.city.score.toFixed(1)}。</p>
<table><thead><tr><th>维保单位</th><th>得分</th><th>到场数</th><th>超时到场</th><th>拒单</th><th>未应答</th><th>重复困人</th></tr></thead><tbody>${companyRows}</tbody></table>
<h2>七、近30天困人次数最多的电梯</h2>
<table><thead><tr><th>序号</th><th>救援识别码</th><th>场所</th><th>区</th><th>维保单位</th><th>困人次数</th></tr></thead><tbody>${trappingRows}</tbody></table>
</body></html>`;
}

/** Prints the page to PDF with headless Chromium's own command line (no browser library at run time). */
export async function printPdf(chromium: string, html: string): Promise<Buffer> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "bulletin-"));
  try {
    const page = path.join(dir, "bulletin.html");
    const pdf = path.join(dir, "bulletin.pdf");
    await fs.writeFile(page, html);
    await new Promise<void>((resolve, reject) => {
      const child = spawn(
        chromium,
        ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update",
          "--disable-sync", `--user-data-dir=${path.join(dir, "profile")}`, "--no-pdf-header-footer", `--print-to-pdf=${pdf}`, `file://${page}`],
        { stdio: ["ignore", "ignore", "pipe"] },
      );
      let stderr = "";
      child.stderr.on("data", (chunk) => (stderr = (stderr + String(chunk)).slice(-2000)));
      const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
      child.on("error", reject);
      child.on("exit", (code) => {
        clearTimeout(timer);
        code === 0 ? resolve() : reject(new Error(`chromium exited with ${code}: ${stderr}`));
      });
    });
    return await fs.readFile(pdf);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
