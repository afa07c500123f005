/** What the benchmark cases share: the context they add figures to, and helpers for runs of the built CLI. */
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { loadavg } from "node:os";
import type { Figure } from "../report.js";
import type { RunResult } from "../run.js";
import { workflowFile } from "../workflows.js";

export interface Ctx {
  quick: boolean;
  tmp: string;
  floorMs: number | null;
  figures: Figure[];
  runs: RunSummary[];
  /** Fixed cost of a workflow run (empty fanout), ms. */
  emptyWallMs: number | null;
  emptyLeaderPeakBytes: number | null;
  /** Store left by the restart case (100,000 jobs killed half way), for the status case. */
  killedStoreStatusMs?: number;
  log(message: string): void;
  /** Directories to delete after the results are written (deleting 100,000s of files is slow). */
  cleanup: string[];
  /** Extra node flags for leader runs (profiling). */
  nodeArgs?: string[];
  env?: NodeJS.ProcessEnv;
}

export interface RunSummary {
  label: string;
  ok: boolean;
  timedOut: boolean;
  wallMs: number;
  code: number | null;
  signal: string | null;
  leaderPeakRssMB: number;
  summedPeakRssMB: number;
  peakConcurrentRssMB: number;
  processes: number;
  cpuSeconds: number;
  samples: number;
  /** 1-minute load average when the run ended (the machine may be shared). */
  loadAverage1: number;
  note?: string;
  topProcesses: { command: string; peakRssMB: number; cpuSeconds: number }[];
}

export const MB = 1e6;
export const MiB = 2 ** 20;

export function summarize(r: RunResult, ok: boolean, note?: string): RunSummary {
  const recs = [...r.tree.records].sort((a, b) => b.cpuSeconds - a.cpuSeconds).slice(0, 5);
  return {
    label: r.label,
    ok,
    timedOut: r.timedOut,
    wallMs: Math.round(r.wallMs),
    code: r.code,
    signal: r.signal,
    leaderPeakRssMB: r.tree.rootPeakRssBytes / MB,
    summedPeakRssMB: r.tree.summedPeakRssBytes / MB,
    peakConcurrentRssMB: r.tree.peakConcurrentRssBytes / MB,
    processes: r.tree.processes,
    cpuSeconds: r.tree.cpuSeconds,
    samples: r.tree.samples,
    loadAverage1: Math.round(loadavg()[0]! * 100) / 100,
    ...(note ? { note } : {}),
    topProcesses: recs.map((p) => ({ command: p.command.slice(0, 160), peakRssMB: p.peakRssBytes / MB, cpuSeconds: p.cpuSeconds })),
  };
}

/**
 * Common `toil run` arguments (workflow by name: fanout, chain, files, services): fresh file store, single
 * machine, 2 cores, warnings only. Progress stays on (plain periodic lines, since stderr is a file):
 * the last line tells how far a run that hit its time limit got.
 */
export function toilRunArgs(workflow: string, store: string, extra: string[], workflowArgs: string[]): string[] {
  return [
    "run",
    workflowFile(workflow),
    "--jobStore",
    store,
    "--batchSystem",
    "single_machine",
    "--maxCores",
    "2",
    "--logLevel",
    "warning",
    ...extra,
    "--",
    ...workflowArgs,
  ];
}

/** The last "Progress: done/total" line of a run, if any. */
export function lastProgress(r: RunResult): { done: number; total: number } | undefined {
  const all = [...r.stderr.matchAll(/Progress: (\d+)\/(\d+) jobs done/g), ...r.stdout.matchAll(/Progress: (\d+)\/(\d+) jobs done/g)];
  const last = all.at(-1);
  return last ? { done: Number(last[1]), total: Number(last[2]) } : undefined;
}

export function partialNote(r: RunResult): string {
  const p = lastProgress(r);
  if (!r.timedOut || p === undefined) return "";
  return ` — by then ${p.done.toLocaleString("en-US")} jobs were done (${(p.done / (r.wallMs / 1000)).toFixed(1)} jobs/s), leader RSS peak ${(r.tree.rootPeakRssBytes / MB).toFixed(0)} MB`;
}

/** CPU figures of a run: all processes, and the leader's share (both per job, ms). */
export function cpuFigures(ctx: Ctx, idBase: string, label: string, r: RunResult, jobs: number): Figure[] {
  const leader = r.tree.records[0]?.cpuSeconds ?? 0;
  const all = r.tree.cpuSeconds;
  const ms = (1000 * all) / jobs;
  return [
    {
      id: `${idBase}.cpuMsPerJob`,
      case: idBase.split(".")[0] as string,
      figure: `${label}: CPU per job, all processes`,
      value: ms,
      unit: "ms",
      ...perJobMs(ctx, ms),
      note: `leader ${((1000 * leader) / jobs).toFixed(2)} ms/job, workers ${((1000 * (all - leader)) / jobs).toFixed(2)} ms/job (utime+stime from /proc; steadier than wall on a loaded machine)`,
    },
  ];
}

export function caseDir(ctx: Ctx, name: string): string {
  return mkdtempSync(join(ctx.tmp, `${name}-`));
}

export function perJobMs(ctx: Ctx, ms: number): Pick<Figure, "floorMultiple"> {
  return ctx.floorMs ? { floorMultiple: ms / ctx.floorMs } : {};
}

export function timeoutFor(ctx: Ctx, jobs: number): number {
  const scale = Number(process.env.TOIL_BENCH_TIMEOUT_SCALE ?? "1");
  const cap = Number(process.env.TOIL_BENCH_MAX_RUN_SECONDS ?? "Infinity") * 1000;
  return Math.min(cap, Math.round((120_000 + jobs * (ctx.quick ? 50 : 10)) * scale));
}
