/**
 * Render a {@link ReportData} as one self-contained HTML file: the data and the charting library
 * (Apache ECharts, minified) are inlined, so the file opens without network access.
 */
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { aggregateStats, formatBytes, formatSeconds, sortKinds, type GroupStats } from "../stats.js";
import { assignSlots, type JobRecord } from "../records.js";
import type { ReportData } from "./model.js";
import { plural } from "../../text.js";

let echartsCache: string | undefined;

/** Colours of job kinds (the page script uses the same list). */
const PALETTE = ["#5470c6", "#91cc75", "#fac858", "#73c0de", "#3ba272", "#fc8452", "#9a60b4", "#ea7ccc", "#2f4554", "#61a0a8", "#d48265", "#749f83"];

/**
 * Where the standalone bundle keeps its gzipped copy of the minified ECharts build (see
 * tsup.config.ts), relative to the bundle's modules: the bundle has no node_modules to resolve
 * `echarts` from.
 */
const BUNDLED_ECHARTS = "vendor/echarts.min.js.gz";

/** The minified ECharts build: the standalone bundle's own copy, else the installed `echarts` package's. */
function echartsSource(): string {
  if (echartsCache === undefined) {
    const bundled = fileURLToPath(new URL(`./${BUNDLED_ECHARTS}`, import.meta.url));
    if (fs.existsSync(bundled)) {
      echartsCache = gunzipSync(fs.readFileSync(bundled)).toString("utf8");
    } else {
      const require = createRequire(import.meta.url);
      const main = require.resolve("echarts"); // the package's CommonJS build: <pkg>/dist/echarts.js
      echartsCache = fs.readFileSync(path.join(path.dirname(main), "echarts.min.js"), "utf8");
    }
  }
  return echartsCache;
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** Text that is safe inside a <script> element. */
function scriptSafe(js: string): string {
  return js.replace(/<\/(script)/gi, "<\\/$1").replace(/<!--/g, "<\\!--");
}

/** JSON that is safe inside a <script type="application/json"> element. */
function jsonSafe(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

function pct(used: number | undefined, requested: number | undefined): string {
  if (used === undefined || !requested) return "–";
  return `${Math.round((100 * used) / requested)}%`;
}

interface KindUse {
  kind: string;
  cpuUse?: number;
  memUse?: number;
  diskUse?: number;
}

/** Resource use vs requested per kind: mean CPU use of the requested cores, max peak memory and disk of the requested. */
function resourceUse(jobs: readonly JobRecord[]): Map<string, KindUse & { reqCores: number; reqMem: number; reqDisk: number; peakMem?: number; peakDisk?: number }> {
  const out = new Map<string, KindUse & { reqCores: number; reqMem: number; reqDisk: number; peakMem?: number; peakDisk?: number; cpu: number; coreSeconds: number }>();
  for (const j of jobs) {
    let u = out.get(j.kind);
    if (!u) out.set(j.kind, (u = { kind: j.kind, reqCores: 0, reqMem: 0, reqDisk: 0, cpu: 0, coreSeconds: 0 }));
    const req = j.requested;
    if (req) {
      u.reqCores = Math.max(u.reqCores, req.cores);
      u.reqMem = Math.max(u.reqMem, req.memory);
      u.reqDisk = Math.max(u.reqDisk, req.disk);
    }
    if (j.cpuSeconds !== undefined) {
      u.cpu += j.cpuSeconds;
      u.coreSeconds += ((j.end - j.start) / 1000) * (req?.cores ?? 1);
    }
    if (j.peakMemory !== undefined) u.peakMem = Math.max(u.peakMem ?? 0, j.peakMemory);
    if (j.disk !== undefined) u.peakDisk = Math.max(u.peakDisk ?? 0, j.disk);
  }
  for (const u of out.values()) {
    if (u.coreSeconds > 0) u.cpuUse = u.cpu / u.coreSeconds;
    if (u.peakMem !== undefined && u.reqMem > 0) u.memUse = u.peakMem / u.reqMem;
    if (u.peakDisk !== undefined && u.reqDisk > 0) u.diskUse = u.peakDisk / u.reqDisk;
  }
  return out;
}

function kindsTable(kinds: GroupStats[], use: ReturnType<typeof resourceUse>): string {
  const rows = kinds.map((g) => {
    const u = use.get(g.name);
    const cell = (s: string, cls = "num") => `<td class="${cls}">${esc(s)}</td>`;
    return (
      `<tr>${cell(g.name, "name")}${cell(String(g.count))}${cell(String(g.failed), g.failed ? "num bad" : "num")}` +
      `${cell(formatSeconds(g.wall.median))}${cell(formatSeconds(g.wall.mean))}${cell(formatSeconds(g.wall.max))}${cell(formatSeconds(g.wall.total))}` +
      `${cell(g.cpu.count ? formatSeconds(g.cpu.total) : "–")}${cell(g.wait.count ? formatSeconds(g.wait.total) : "–")}` +
      `${cell(g.memory.count ? formatBytes(g.memory.max) : "–")}${cell(u && u.reqMem ? formatBytes(u.reqMem) : "–")}` +
      `${cell(g.disk.count ? formatBytes(g.disk.max) : "–")}${cell(u && u.reqDisk ? formatBytes(u.reqDisk) : "–")}` +
      `${cell(u ? pct(u.cpuUse, 1) : "–")}${cell(u ? pct(u.memUse, 1) : "–")}</tr>`
    );
  });
  return (
    `<table id="kinds"><thead><tr><th>job kind</th><th>runs</th><th>failed</th><th>wall median</th><th>wall mean</th>` +
    `<th>wall max</th><th>wall total</th><th>CPU total</th><th>idle cores (wait)</th><th>peak memory</th><th>memory requested</th>` +
    `<th>peak disk</th><th>disk requested</th><th>CPU use of requested cores</th><th>peak memory of requested</th></tr></thead>` +
    `<tbody>${rows.join("")}</tbody></table>`
  );
}

function failedSection(data: ReportData): string {
  if (data.failed.length === 0) return `<p id="no-failures">No job failed.</p>`;
  return data.failed
    .map(
      (f) =>
        `<div class="failed-job" data-job-id="${esc(f.id)}"><h3>${esc(f.name)} <span class="id">${esc(f.id)}</span> ` +
        `<span class="tag">${f.final ? "failed for good" : "failed attempt"}</span></h3>` +
        (f.logTail ? `<pre>${esc(f.logTail)}</pre>` : `<p class="muted">No log was kept for this job.</p>`) +
        `</div>`,
    )
    .join("\n");
}

/** Build the report's HTML. `library` defaults to the bundled ECharts. */
export function renderReportHtml(data: ReportData, library: string = echartsSource()): string {
  const jobs = data.jobs.map((j) => ({ ...j }));
  const lanesPerHost = assignSlots(jobs);
  const hosts = [...lanesPerHost.keys()].sort();
  const laneNames: string[] = [];
  const laneIndex = new Map<string, number>();
  for (const h of hosts) {
    for (let i = 0; i < lanesPerHost.get(h)!; i++) {
      laneIndex.set(`${h}\u0000${i}`, laneNames.length);
      laneNames.push(hosts.length > 1 || h !== "" ? `${h || "?"} · slot ${i + 1}` : `slot ${i + 1}`);
    }
  }
  // (Loops, not Math.min(...all): a report may cover a million jobs.)
  let t0 = jobs.length ? Infinity : data.generatedAt;
  let t1 = jobs.length ? -Infinity : data.generatedAt;
  for (const j of jobs) {
    if (j.start < t0) t0 = j.start;
    if (j.end > t1) t1 = j.end;
  }
  const stats = aggregateStats(data.locator, jobs);
  const kinds = sortKinds(stats.kinds, { sortCategory: "wall", sortField: "total" });
  const kindNames = kinds.map((k) => k.name);
  const kindIdx = new Map(kindNames.map((k, i) => [k, i]));
  const use = resourceUse(jobs);
  const chartData = {
    t0,
    lanes: laneNames,
    kinds: kindNames,
    // [lane, start s, end s, kind index, failed 0/1, name, id, cpu s|null, peak mem|null]
    bars: jobs.map((j) => [
      laneIndex.get(`${j.host ?? ""}\u0000${j.slot ?? 0}`) ?? 0,
      (j.start - t0) / 1000,
      (j.end - t0) / 1000,
      kindIdx.get(j.kind) ?? 0,
      j.failed ? 1 : 0,
      j.name,
      j.id,
      j.cpuSeconds ?? null,
      j.peakMemory ?? null,
    ]),
    use: kindNames.map((k) => {
      const u = use.get(k);
      return [k, u?.cpuUse ?? null, u?.memUse ?? null, u?.diskUse ?? null];
    }),
  };
  const failedRuns = jobs.filter((j) => j.failed).length;
  const summary =
    `${plural(jobs.length, "job run")} of ${plural(kindNames.length, "kind")} on ${plural(laneNames.length, "worker slot")}, ` +
    `${formatSeconds((t1 - t0) / 1000)} from first start to last end; ${plural(failedRuns, "failed run")}, ` +
    `${plural(data.failed.filter((f) => f.final).length, "job")} failed for good.`;
  const timelineHeight = Math.min(2400, Math.max(220, 90 + laneNames.length * 22));

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(data.title)}</title>
<style>
  body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto; max-width: 1400px; padding: 16px 24px; color: #1d2330; background: #fff; }
  h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #dde2ea; padding-bottom: 4px; }
  h3 { font-size: 15px; margin: 14px 0 6px; } .muted, .id { color: #667085; } .id { font: 12px ui-monospace, monospace; }
  .state { display: inline-block; padding: 1px 8px; border-radius: 10px; background: #e8edf5; font-weight: 600; }
  .state.COMPLETED { background: #d7f5df; } .state.FAILED { background: #fde0dc; } .state.RUNNING { background: #dbe9ff; }
  table { border-collapse: collapse; width: 100%; font-size: 13px; } th, td { padding: 4px 8px; border-bottom: 1px solid #eef1f5; }
  th { text-align: right; background: #f6f8fb; font-weight: 600; } th:first-child, td.name { text-align: left; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
  td.bad { color: #b42318; font-weight: 600; } .tag { font-size: 12px; background: #fde0dc; color: #8a1c12; padding: 1px 6px; border-radius: 8px; }
  pre { background: #0f1419; color: #e6e1cf; padding: 10px 12px; border-radius: 6px; overflow: auto; max-height: 320px; font-size: 12px; }
  .chart { width: 100%; } .notes li { color: #667085; }
  .legend { display: flex; flex-wrap: wrap; gap: 4px 16px; font-size: 13px; } .legend i { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 5px; vertical-align: -1px; }
</style>
</head>
<body>
<header>
  <h1>${esc(data.title)}</h1>
  <div class="muted">${esc(data.locator)} · <span class="state ${esc(data.state)}">${esc(data.state)}</span> · report made ${esc(new Date(data.generatedAt).toISOString())}</div>
  <p id="summary">${esc(summary)}</p>
  ${data.notes.length ? `<ul class="notes">${data.notes.map((n) => `<li>${esc(n)}</li>`).join("")}</ul>` : ""}
</header>
<section><h2>Timeline</h2>
  <p class="muted">One bar per job run, on the worker slot that ran it; time from the first start (${esc(new Date(t0).toISOString())}). Drag the slider or scroll to zoom. Failed runs are red with a dark outline.</p>
  <div class="legend">${kindNames.map((k, i) => `<span><i style="background:${PALETTE[i % PALETTE.length]}"></i>${esc(k)}</span>`).join("")}<span><i style="background:#e5484d;outline:1.5px solid #7a1010"></i>failed run</span></div>
  <div id="timeline" class="chart" style="height:${timelineHeight}px"></div>
</section>
<section><h2>Job kinds</h2>${kindsTable(kinds, use)}</section>
<section><h2>Resource use vs requested</h2>
  <p class="muted">Per job kind: CPU seconds used over core-seconds reserved (mean), and the largest peak memory and disk over what the kind requested. Bars near 100% fit; low bars mean the requests can shrink; bars over 100% used more than requested.</p>
  <div id="resources" class="chart" style="height:${Math.max(220, 80 + kindNames.length * 48)}px"></div>
</section>
<section id="failed"><h2>Failed jobs (${data.failed.length})</h2>${failedSection(data)}</section>
<script type="application/json" id="toil-report-data">${jsonSafe(chartData)}</script>
<script>${scriptSafe(library)}</script>
<script>${scriptSafe(CLIENT_SCRIPT)}</script>
</body>
</html>
`;
}

/** The page script: draws both charts from the inlined data. */
const CLIENT_SCRIPT = `
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("toil-report-data").textContent);
  var palette = ${JSON.stringify(PALETTE)};
  function kindColor(i) { return palette[i % palette.length]; }
  function fmtSec(s) {
    if (s < 1) return Math.round(s * 1000) + " ms";
    if (s < 60) return s.toFixed(s < 10 ? 2 : 1) + " s";
    if (s < 3600) return Math.floor(s / 60) + " min " + Math.round(s % 60) + " s";
    return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
  }
  function fmtBytes(b) {
    var u = ["B","KiB","MiB","GiB","TiB"], i = 0;
    while (b >= 1024 && i < u.length - 1) { b /= 1024; i++; }
    return (b < 10 && i > 0 ? b.toFixed(1) : Math.round(b)) + " " + u[i];
  }
  function escapeHtml(s) { return String(s).replace(/[&<>"']/g, function (c) { return {"&":"&amp;","<":"&lt;",">":"&gt;","\\"":"&quot;","'":"&#39;"}[c]; }); }

  var timeline = echarts.init(document.getElementById("timeline"), null, { renderer: "canvas" });
  function renderBar(params, api) {
    var lane = api.value(0);
    var start = api.coord([api.value(1), lane]);
    var end = api.coord([api.value(2), lane]);
    var h = api.size([0, 1])[1] * 0.64;
    var cs = params.coordSys;
    var rect = echarts.graphic.clipRectByRect(
      { x: start[0], y: start[1] - h / 2, width: Math.max(end[0] - start[0], 1.5), height: h },
      { x: cs.x, y: cs.y, width: cs.width, height: cs.height });
    return rect && { type: "rect", transition: ["shape"], shape: rect, style: api.style() };
  }
  var span = 0;
  data.bars.forEach(function (b) { if (b[2] > span) span = b[2]; });
  timeline.setOption({
    animation: data.bars.length < 2000,
    tooltip: { formatter: function (p) {
      var b = p.value;
      return "<b>" + escapeHtml(b[5]) + "</b><br>" + escapeHtml(data.kinds[b[3]]) + " · " + escapeHtml(b[6]) +
        "<br>" + escapeHtml(data.lanes[b[0]]) + "<br>start +" + fmtSec(b[1]) + ", ran " + fmtSec(b[2] - b[1]) +
        (b[7] !== null ? "<br>CPU " + fmtSec(b[7]) : "") + (b[8] !== null ? " · peak memory " + fmtBytes(b[8]) : "") +
        (b[4] ? "<br><b style='color:#b42318'>failed</b>" : "");
    } },
    grid: { left: 130, right: 30, top: 20, bottom: 70 },
    dataZoom: [
      { type: "slider", xAxisIndex: 0, filterMode: "weakFilter", bottom: 10, height: 22 },
      { type: "inside", xAxisIndex: 0, filterMode: "weakFilter" }
    ],
    xAxis: { type: "value", min: 0, max: span || 1, name: "seconds", nameLocation: "middle", nameGap: 26,
      axisLabel: { formatter: function (v) { return fmtSec(v); } } },
    yAxis: { type: "category", data: data.lanes, inverse: true, axisTick: { show: false } },
    series: [{
      id: "jobs", type: "custom", renderItem: renderBar, encode: { x: [1, 2], y: 0 },
      progressive: 5000,
      data: data.bars.map(function (b) {
        return { value: b, itemStyle: b[4] ? { color: "#e5484d", borderColor: "#7a1010", borderWidth: 1.5 } : { color: kindColor(b[3]) } };
      })
    }]
  });

  var resources = echarts.init(document.getElementById("resources"), null, { renderer: "canvas" });
  function series(name, idx, color) {
    return { name: name, type: "bar", itemStyle: { color: color },
      data: data.use.map(function (u) { return u[idx] === null ? null : Math.round(u[idx] * 1000) / 10; }),
      label: { show: true, position: "right", formatter: function (p) { return p.value === null ? "" : p.value + "%"; } } };
  }
  resources.setOption({
    animation: false,
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    legend: { top: 0 },
    grid: { left: 160, right: 60, top: 30, bottom: 30 },
    xAxis: { type: "value", name: "% of requested", axisLabel: { formatter: "{value}%" } },
    yAxis: { type: "category", data: data.use.map(function (u) { return u[0]; }), inverse: true },
    series: [series("CPU (mean)", 1, "#5470c6"), series("peak memory (max)", 2, "#fac858"), series("disk (max)", 3, "#91cc75")]
  });
  window.addEventListener("resize", function () { timeline.resize(); resources.resize(); });
  window.toilReport = { timeline: timeline, resources: resources, bars: data.bars.length, ready: true };
})();
`;
