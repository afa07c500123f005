/**
 * `toil status <jobStore>`: the workflow's overall state and its remaining jobs counted by state,
 * from the job store's job-state index (`jobStates()`: one file, no job bodies), plus running jobs
 * replayed from the bus log.
 */
import * as fs from "node:fs";
import type { JobStatus, WorkerHostStatus } from "@toil/bus";
import type { JobStateRecord } from "@toil/filestore";
import { escapeControl, plural } from "../text.js";
import {
  OPS_EXIT,
  leaderInfo,
  openExistingStore,
  type LeaderInfo,
  type OpenedStore,
  type OpsIO,
} from "./common.js";
import { OUTCOME_MARKERS, type RunOutcome } from "./outcome.js";

/** Overall state of a workflow. */
export type WorkflowState = "QUEUED" | "RUNNING" | "COMPLETED" | "FAILED" | "STOPPED";

/** What `toil status` counts. A job is in exactly one of ready/waiting/failed/done/service. */
interface StatusCounts {
  /** Job descriptions in the store. */
  jobs: number;
  /** Has a body still to run (issued, queued, or waiting for predecessors). */
  ready: number;
  /** Ran; waits for its children/follow-ons to finish. */
  waiting: number;
  /** Failed for good (no tries left). */
  failed: number;
  /** Ran and has nothing left to wait for, not yet deleted ("zombies"). */
  done: number;
  /** Service host jobs. */
  services: number;
  /** Jobs holding the log of a failed attempt. */
  withLogs: number;
}

type JobState = "ready" | "waiting" | "failed" | "done" | "service";

/** The state of a job from its state record (`jobStates()`, or `jobStateRecordOf(doc)`). */
function jobStateOf(r: JobStateRecord): JobState {
  if (r.remainingTryCount === 0) return "failed";
  if (r.service) return "service";
  if (r.hasBody) return "ready";
  if (r.childIds?.length || r.followOnIds?.length) return "waiting";
  if (r.adoptedPhases !== undefined) {
    for (const p of r.adoptedPhases) if (p.length > 0) return "waiting";
  }
  if (r.serviceTree !== undefined) {
    for (const _ in r.serviceTree) return "waiting";
  }
  return "done";
}

/** A remaining job as `--perJob`, `--dot` and `--json` show it. */
interface JobSummary {
  id: string;
  name: string;
  state: JobState;
  remainingTryCount?: number;
  logFileId?: string;
  children: string[];
  followOns: string[];
}

interface WorkflowStatus {
  locator: string;
  state: WorkflowState;
  leader?: LeaderInfo;
  rootJobId?: string;
  counts: StatusCounts;
  jobs: JobSummary[];
  /** Path of the bus log, when the workflow writes one. */
  busLog?: string;
}

interface StatusScanOptions {
  /** Keep a summary of each job (needed by --perJob, --dot, --json, --logs). */
  keepJobs?: boolean;
}

/** Decide the overall state from the leader lock, the outcome markers and the jobs left. */
export async function workflowState(opened: OpenedStore, leader: LeaderInfo | undefined, jobsLeft: number): Promise<WorkflowState> {
  if (leader && leader.alive !== false) return "RUNNING";
  const store = opened.store;
  const outcome = await lastOutcome(opened);
  if (outcome === "succeeded") return "COMPLETED";
  if (outcome === "failed") return "FAILED";
  const root = await store.rootJobId();
  if (root === undefined) return "QUEUED";
  if (jobsLeft === 0) return "COMPLETED";
  return "STOPPED";
}

/**
 * The outcome of the newest run, from the markers the leader writes (see outcome.ts); a restart
 * that was stopped after a failed run is stopped, not failed. Undefined when no run wrote one.
 */
async function lastOutcome(opened: OpenedStore): Promise<RunOutcome | undefined> {
  let newest: { outcome: RunOutcome; at: number } | undefined;
  for (const outcome of Object.keys(OUTCOME_MARKERS) as RunOutcome[]) {
    const name = OUTCOME_MARKERS[outcome];
    if (!(await opened.store.sharedFileExists(name))) continue;
    const at = Number((await opened.store.readSharedFile(name)).toString("utf8")) || 0;
    // On a tie the end of a run (succeeded, failed) wins over its start (stopped, written first).
    if (!newest || at > newest.at || (at === newest.at && outcome !== "stopped")) newest = { outcome, at };
  }
  return newest?.outcome;
}

const NONE: string[] = [];

/** One pass over the store's job-state index. */
async function scanStatus(opened: OpenedStore, opts: StatusScanOptions = {}): Promise<WorkflowStatus> {
  const counts: StatusCounts = { jobs: 0, ready: 0, waiting: 0, failed: 0, done: 0, services: 0, withLogs: 0 };
  const jobs: JobSummary[] = [];
  for await (const doc of opened.store.jobStates()) {
    counts.jobs++;
    const state = jobStateOf(doc);
    if (state === "service") counts.services++;
    else counts[state]++;
    if (doc.logFileId) counts.withLogs++;
    if (opts.keepJobs) {
      const j: JobSummary = { id: doc.id, name: doc.displayName || doc.unitName || doc.jobName, state, children: doc.childIds ?? NONE, followOns: doc.followOnIds ?? NONE };
      if (doc.remainingTryCount !== undefined) j.remainingTryCount = doc.remainingTryCount;
      if (doc.logFileId) j.logFileId = doc.logFileId;
      jobs.push(j);
    }
  }
  const leader = await leaderInfo(opened);
  const state = await workflowState(opened, leader, counts.jobs);
  const rootJobId = await opened.store.rootJobId();
  const busLog = opened.store.config.writeMessages;
  return {
    locator: opened.store.locator,
    state,
    ...(leader ? { leader } : {}),
    ...(rootJobId ? { rootJobId } : {}),
    counts,
    jobs,
    ...(busLog ? { busLog } : {}),
  };
}

/** A worker host running now according to the bus log, with the jobs it runs. */
interface HostSummary extends WorkerHostStatus {
  jobs: { jobId: string; jobName: string }[];
}

/** Jobs and worker hosts running now according to the bus log (undefined when there is no bus log). */
async function runningFromBusLog(busLog: string | undefined): Promise<{ jobs: JobStatus[]; hosts: HostSummary[] } | undefined> {
  if (!busLog || !fs.existsSync(busLog)) return undefined;
  const { BusLogNotFoundError, isRunning, JobStatusTracker, readBusLog } = await import("@toil/bus");
  try {
    const tracker = new JobStatusTracker();
    for await (const m of readBusLog(busLog)) tracker.apply(m);
    const jobs = [...tracker.jobs.values()].filter(isRunning);
    const hosts = [...tracker.hosts.values()].map((h) => ({
      ...h,
      jobs: jobs.filter((j) => j.batchSystem === h.batchSystem && j.externalBatchId === h.hostId).map((j) => ({ jobId: j.jobId, jobName: j.jobName })),
    }));
    return { jobs, hosts };
  } catch (err) {
    if (err instanceof BusLogNotFoundError) return undefined;
    throw err;
  }
}

/** "2 worker hosts: 2 × 1 CPU, 64M memory", then one line per host with the job it runs. */
function hostLines(hosts: readonly HostSummary[]): string[] {
  if (hosts.length === 0) return [];
  const byShape = new Map<string, number>();
  for (const h of hosts) byShape.set(h.shape, (byShape.get(h.shape) ?? 0) + 1);
  const shapes = [...byShape].map(([shape, n]) => `${n} × ${shape || "default resources"}`).join("; ");
  return [
    `${plural(hosts.length, "worker host")}: ${shown(shapes)}`,
    ...hosts.map((h) => {
      const what = h.jobs.length > 0 ? `running ${h.jobs.map((j) => `${shown(j.jobName)} (${j.jobId})`).join(", ")}` : "idle";
      return `  ${h.batchSystem} host ${h.hostId} on ${shown(h.node)}, since ${new Date(h.since).toISOString()}: ${what}`;
    }),
  ];
}

/** Last `maxLines` lines (at most `maxBytes`) of a job-store file, or undefined if it is gone. */
export async function readFileTail(opened: OpenedStore, fileId: string, maxLines = 40, maxBytes = 16_384): Promise<string | undefined> {
  if (!(await opened.store.fileExists(fileId))) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of await opened.store.readFileStream(fileId)) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    chunks.push(b);
    size += b.length;
    while (size - chunks[0]!.length > maxBytes) size -= chunks.shift()!.length;
  }
  let text = Buffer.concat(chunks).toString("utf8");
  if (text.length > maxBytes) text = text.slice(-maxBytes);
  const lines = text.replace(/\n$/, "").split("\n");
  return lines.slice(-maxLines).join("\n");
}

function dotEscape(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/"/g, '\\"');
}

const DOT_COLORS: Record<JobState, string> = {
  ready: "lightblue",
  waiting: "khaki",
  failed: "salmon",
  done: "palegreen",
  service: "plum",
};

/** GraphViz of the remaining jobs: nodes coloured by state, edges labelled child / follow-on. */
function statusDot(status: WorkflowStatus): string {
  const lines = ["digraph toil_workflow {", "  node [shape=box, style=filled];"];
  const present = new Set(status.jobs.map((j) => j.id));
  for (const j of status.jobs) {
    lines.push(`  "${dotEscape(j.id)}" [label="${dotEscape(`${j.name}\n${j.id}\n${j.state}`)}", fillcolor=${DOT_COLORS[j.state]}];`);
  }
  for (const j of status.jobs) {
    for (const c of j.children) if (present.has(c)) lines.push(`  "${dotEscape(j.id)}" -> "${dotEscape(c)}" [label="child"];`);
    for (const f of j.followOns) if (present.has(f)) lines.push(`  "${dotEscape(j.id)}" -> "${dotEscape(f)}" [label="follow-on", style=dashed];`);
  }
  lines.push("}");
  return `${lines.join("\n")}\n`;
}

function leaderLine(leader: LeaderInfo | undefined): string {
  if (!leader) return "no leader is running";
  if (leader.alive === undefined) return `leader pid ${leader.pid} on ${leader.host} (another host: cannot check it here)`;
  return leader.alive ? `leader pid ${leader.pid} on ${leader.host} is running` : `leader pid ${leader.pid} on ${leader.host} has exited`;
}

export interface StatusOptions {
  failIfNotComplete?: boolean;
  logs?: boolean;
  status?: boolean;
  dot?: boolean;
  json?: boolean;
  perJob?: boolean;
}

/** Run `toil status`. */
export async function statusCommand(locator: string, opts: StatusOptions, io: OpsIO): Promise<number> {
  const opened = await openExistingStore(locator, io.cwd);
  const keepJobs = Boolean(opts.dot || opts.json || opts.perJob || opts.logs);
  const status = await scanStatus(opened, { keepJobs });
  const running = opts.status || opts.json ? await runningFromBusLog(status.busLog) : undefined;
  const complete = status.state === "COMPLETED" && status.counts.jobs === 0;
  const exit = opts.failIfNotComplete && !complete ? OPS_EXIT.NOT_OK : OPS_EXIT.OK;

  if (opts.dot) {
    io.stdout.write(statusDot(status));
    return exit;
  }
  if (opts.json) {
    const failedLogs: Record<string, string> = {};
    if (opts.logs) {
      for (const j of status.jobs) if (j.logFileId) failedLogs[j.id] = (await readFileTail(opened, j.logFileId, 10_000, 1 << 20)) ?? "";
    }
    const doc = {
      ...status,
      ...(running ? { running: running.jobs.map((s) => ({ jobId: s.jobId, jobName: s.jobName, batchSystem: s.batchSystem, externalBatchId: s.externalBatchId, since: s.lastUpdate })) } : {}),
      ...(running && running.hosts.length > 0 ? { hosts: running.hosts } : {}),
      ...(opts.logs ? { logs: failedLogs } : {}),
    };
    io.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
    return exit;
  }

  const c = status.counts;
  const out: string[] = [];
  out.push(`Workflow ${status.locator}: ${status.state} (${leaderLine(status.leader)}).`);
  if (c.jobs === 0) {
    out.push(
      status.state === "COMPLETED"
        ? "No jobs are left: the workflow completed successfully."
        : "No jobs are left in the store (the root job is absent: the workflow may have completed).",
    );
  } else {
    out.push(
      `Of the ${plural(c.jobs, "job")} in the store: ${c.ready} to run, ${c.waiting} waiting for their successors, ` +
        `${c.failed} failed for good, ${c.done} finished but not yet removed, ${plural(c.services, "service")}; ` +
        `${c.withLogs} with a log from a failed attempt.`,
    );
  }
  if (status.state === "STOPPED") out.push(`The workflow is not running: continue it with \`toil run ... --jobStore ${locator} --restart\`.`);
  if (status.state === "FAILED") out.push(`Some jobs failed: see them with \`toil status ${locator} --logs\`, rerun one with \`toil debug-job ${locator} <jobId>\`.`);
  if (opts.perJob) {
    for (const j of status.jobs) {
      out.push(`  ${j.id}  ${shown(j.name)}  ${j.state}${j.remainingTryCount !== undefined ? `  tries left: ${j.remainingTryCount}` : ""}`);
    }
  }
  if (opts.status) {
    if (running === undefined) {
      out.push(
        status.busLog
          ? `The bus log ${status.busLog} does not exist (yet), so running jobs cannot be listed.`
          : "This workflow writes no bus log, so running jobs cannot be listed: run it with --writeMessages FILE.",
      );
    } else {
      out.push(`${plural(running.jobs.length, "job")} running according to the bus log ${status.busLog}:`);
      for (const s of running.jobs) {
        const where = s.externalBatchId ? ` as ${s.batchSystem ?? "batch"} job ${s.externalBatchId}` : s.batchId !== null ? ` (batch id ${s.batchId})` : "";
        out.push(`  ${s.jobId}  ${shown(s.jobName)}${where}, since ${new Date(s.lastUpdate).toISOString()}`);
      }
      out.push(...hostLines(running.hosts));
    }
  }
  if (opts.logs) {
    const withLogs = status.jobs.filter((j) => j.logFileId);
    if (withLogs.length === 0) out.push("No job has a log from a failed attempt.");
    for (const j of withLogs) {
      const text = await readFileTail(opened, j.logFileId!, 10_000, 1 << 20);
      // Printed to a terminal, the log is escaped too (its lines name the job); --writeLogs files keep the raw bytes.
      out.push(`=== log of ${shown(j.name)} (${j.id})${j.state === "failed" ? ", failed for good" : ""} ===`);
      out.push(text === undefined ? "(the log file is gone)" : escapeControl(text));
      out.push(`=== end of log of ${shown(j.name)} ===`);
    }
  }
  io.stdout.write(`${out.join("\n")}\n`);
  return exit;
}

/** A job name as printed: control characters escaped, on one line. */
function shown(name: string): string {
  return escapeControl(name, { singleLine: true });
}
