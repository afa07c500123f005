import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assignSlots, type JobRecord } from "../src/ops/records.js";
import { renderReportHtml } from "../src/ops/report/index.js";
import type { ReportData } from "../src/ops/report/model.js";
import { browserAvailable, browserRequired, browserSkipReason, inspectReport, launchChromium } from "./ops-browser.js";

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);
const GiB = 1024 ** 3;

/** A known workflow: a root, 6 sort jobs (two at a time), a merge that fails once then succeeds, and a report job. */
function knownWorkflow(): ReportData {
  const req = { cores: 1, memory: 2 * GiB, disk: GiB };
  const jobs: JobRecord[] = [
    { id: "root0000000000000000a", name: "setup", kind: "setup", start: T0, end: T0 + 1_000, cpuSeconds: 0.4, peakMemory: 80e6, disk: 1e6, requested: req, failed: false },
  ];
  for (let i = 0; i < 6; i++) {
    const start = T0 + 1_000 + Math.floor(i / 2) * 4_000;
    jobs.push({
      id: `sort${i}00000000000000000`.slice(0, 21),
      name: `sort ${i}`,
      kind: "sort",
      start,
      end: start + 3_500 + i * 100,
      cpuSeconds: 3.1,
      peakMemory: 600e6 + i * 1e6,
      disk: 50e6,
      requested: req,
      failed: false,
    });
  }
  jobs.push(
    { id: "merge0000000000000000", name: "merge", kind: "merge", start: T0 + 13_500, end: T0 + 14_500, cpuSeconds: 0.9, peakMemory: 1.1 * GiB, disk: 2e8, requested: req, failed: true, logTail: "Traceback...\nError: Boom! merge input was truncated" },
    { id: "merge0000000000000000", name: "merge", kind: "merge", start: T0 + 16_500, end: T0 + 19_000, cpuSeconds: 2.4, peakMemory: 1.2 * GiB, disk: 2e8, requested: req, failed: false },
    { id: "explode0000000000000a", name: "explode", kind: "explode", start: T0 + 19_000, end: T0 + 19_400, cpuSeconds: 0.1, peakMemory: 50e6, disk: 0, requested: req, failed: true, logTail: "Error: Boom!\n    at explode (flow.ts:12:9)" },
  );
  return {
    title: "Toil workflow report: known",
    locator: "file:/tmp/known",
    state: "FAILED",
    generatedAt: T0 + 30_000,
    jobs,
    failed: [
      { id: "explode0000000000000a", name: "explode", kind: "explode", final: true, logTail: "Error: Boom!\n    at explode (flow.ts:12:9)" },
      { id: "merge0000000000000000", name: "merge", kind: "merge", final: false, logTail: "Error: Boom! merge input was truncated" },
    ],
    notes: ["fixture"],
  };
}

describe("report data", () => {
  it("assigns worker slots by peak concurrency, per host", () => {
    const recs: JobRecord[] = [
      { id: "a", name: "a", kind: "k", start: 0, end: 10, failed: false },
      { id: "b", name: "b", kind: "k", start: 5, end: 15, failed: false },
      { id: "c", name: "c", kind: "k", start: 10, end: 20, failed: false },
      { id: "d", name: "d", kind: "k", start: 0, end: 1, failed: false, host: "other" },
    ];
    const lanes = assignSlots(recs);
    expect(lanes.get("")).toBe(2);
    expect(lanes.get("other")).toBe(1);
    expect(recs.map((r) => r.slot)).toEqual([0, 1, 0, 0]);
  });

  it("renders a self-contained file: no external URL, the library and data inline, text escaped", () => {
    const data = knownWorkflow();
    data.failed[0]!.logTail = "</script><script>alert(1)</script> & <b>";
    const html = renderReportHtml(data, "/* charting library */");
    expect(html).not.toMatch(/<(script|link|img|iframe)[^>]+(src|href)=/i);
    expect(html).not.toMatch(/https?:\/\//);
    expect(renderReportHtml(data)).toContain("echarts.init");
    expect(html).toContain("&lt;/script&gt;&lt;script&gt;alert(1)");
    expect(html.match(/<script/g)?.length).toBe(3);
    expect(html).toContain('data-job-id="explode0000000000000a"');
  });
});

describe.skipIf(!browserAvailable && !browserRequired)(`report in headless Chromium${browserSkipReason ? ` (skipped: ${browserSkipReason})` : ""}`, () => {
  let chrome: Awaited<ReturnType<typeof launchChromium>>;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "toil-report-"));
  beforeAll(async () => {
    chrome = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await chrome?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("opens without console errors or network, shows one bar per job run and the failed jobs", async () => {
    const data = knownWorkflow();
    const file = path.join(dir, "report.html");
    fs.writeFileSync(file, renderReportHtml(data));
    const shot = process.env.TOIL_REPORT_SCREENSHOT;
    const seen = await inspectReport(chrome.context, file, shot);
    expect(seen.consoleErrors).toEqual([]);
    expect(seen.externalRequests).toEqual([]);
    expect(seen.bars).toBe(10);
    expect(seen.renderedBars).toBe(10);
    expect(seen.failedIds).toEqual(["explode0000000000000a", "merge0000000000000000"]);
    expect(seen.kindRows).toBe(4);
    expect(seen.summary).toContain("10 job runs of 4 kinds on 2 worker slots");
  }, 60_000);
});
