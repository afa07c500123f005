/**
 * Gather a workflow's {@link ReportData} from its job store: per-job statistics (workflows run with
 * `--stats`), else job start/end times replayed from the bus log; failed jobs and their log tails
 * from the stored job descriptions.
 */
import * as fs from "node:fs";
import { readBusLog } from "@toil/bus";
import { leaderInfo, type OpenedStore } from "../common.js";
import type { JobRecord } from "../records.js";
import { loadJobRecords } from "../stats.js";
import { readFileTail, workflowState } from "../status.js";
import type { FailedJobInfo, ReportData } from "./model.js";
import { plural } from "../../text.js";

/** Job runs from a bus log: each issue starts a run, the next update/completion/failure of that job ends it. */
async function recordsFromBusLog(busLog: string): Promise<JobRecord[]> {
  const open = new Map<string, JobRecord>();
  const out: JobRecord[] = [];
  for await (const m of readBusLog(busLog)) {
    if (m.type === "JobIssued") {
      const rec: JobRecord = { id: m.jobId, name: m.jobName, kind: m.jobName, start: m.time, end: m.time, failed: false };
      open.set(m.jobId, rec);
      out.push(rec);
    } else if (m.type === "JobUpdated" || m.type === "JobCompleted") {
      const rec = open.get(m.jobId);
      if (!rec) continue;
      rec.end = Math.max(rec.end, m.time);
      if (m.exitCode !== 0) rec.failed = true;
      if (m.type === "JobCompleted") open.delete(m.jobId);
    } else if (m.type === "JobFailed" || m.type === "JobMissing") {
      const rec = open.get(m.jobId) ?? [...out].reverse().find((r) => r.id === m.jobId);
      if (rec) {
        rec.failed = true;
        rec.end = Math.max(rec.end, m.time);
      }
      open.delete(m.jobId);
    }
  }
  return out;
}

export async function collectReportData(opened: OpenedStore, now = Date.now()): Promise<ReportData> {
  const notes: string[] = [];
  let jobs = await loadJobRecords(opened);
  const busLog = opened.store.config.writeMessages;
  if (jobs.length > 0) {
    notes.push(`Job times and resource use from ${plural(jobs.length, "statistics record")} (--stats).`);
  } else if (busLog && fs.existsSync(busLog)) {
    jobs = await recordsFromBusLog(busLog);
    notes.push(
      `No per-job statistics were recorded (run with --stats for CPU, memory and disk use); job times come from the bus log ${busLog}.`,
    );
  } else {
    notes.push("No per-job statistics and no bus log were recorded: run the workflow with --stats (and --writeMessages FILE) for a timeline.");
  }

  const failed: FailedJobInfo[] = [];
  const seen = new Set<string>();
  let jobsLeft = 0;
  for await (const doc of opened.store.jobStates()) {
    jobsLeft++;
    if (doc.remainingTryCount !== 0 && !doc.logFileId) continue;
    const name = doc.displayName || doc.unitName || doc.jobName;
    const info: FailedJobInfo = { id: doc.id, name, kind: doc.unitName || doc.jobName, final: doc.remainingTryCount === 0 };
    if (doc.logFileId) {
      const tail = await readFileTail(opened, doc.logFileId);
      if (tail !== undefined) info.logTail = tail;
    }
    if (!info.logTail) {
      const fromRecord = [...jobs].reverse().find((r) => r.id === doc.id && r.logTail);
      if (fromRecord?.logTail) info.logTail = fromRecord.logTail;
    }
    failed.push(info);
    seen.add(doc.id);
  }
  // Failed runs that no longer have a description (the job succeeded on a later try, or was removed).
  for (const r of jobs) {
    if (!r.failed || seen.has(r.id)) continue;
    seen.add(r.id);
    failed.push({ id: r.id, name: r.name, kind: r.kind, final: false, ...(r.logTail ? { logTail: r.logTail } : {}) });
  }
  failed.sort((a, b) => Number(b.final) - Number(a.final) || a.name.localeCompare(b.name));
  const state = await workflowState(opened, await leaderInfo(opened), jobsLeft);
  const base = opened.root ?? opened.store.locator;
  return {
    title: `Toil workflow report: ${base.split("/").filter(Boolean).pop() ?? base}`,
    locator: opened.store.locator,
    state,
    generatedAt: now,
    jobs,
    failed,
    notes,
  };
}
