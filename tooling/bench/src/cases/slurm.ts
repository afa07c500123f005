/**
 * The Slurm case: workflows through `toil run --batchSystem slurm` on a real cluster, reporting
 * jobs/s and how many times the leader called each Slurm command. The calls are counted for real:
 * the run's PATH starts with a directory of wrapper scripts that append one line to a log and exec
 * the real command.
 *
 * Workloads (`TOIL_BENCH_SLURM_WORKLOADS`, default all):
 * - fanout: N trivial children (sizes 200 and 1,000; `--quick`: 50; `TOIL_BENCH_SLURM_SIZES`),
 *   in each mode (`TOIL_BENCH_SLURM_MODES`): worker hosts (the default), job arrays without
 *   hosts, one sbatch per job, job packs of 25 (`--quick`: hosts and packs);
 * - skewed: 200 children (quick: 40), every 20th sleeping 5 s, on worker hosts: wall against the
 *   best schedule on the cluster's CPUs;
 * - cpu: 200 children (quick: 20) computing 0.5 s each, on worker hosts and on the single-machine
 *   batch system with as many cores, one job per core (full run: in the order A B B A, means).
 *
 * Skipped (with a note in the results) when `sbatch` is not on PATH or no controller answers `sinfo`.
 */
import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { loadavg } from "node:os";
import { type Ctx, lastProgress } from "./common.js";
import { failureNote, killPids, runToil } from "../run.js";
import { workflowFile } from "../workflows.js";

/** The Slurm commands the plugin may call; each gets a counting wrapper. */
const COMMANDS = ["sbatch", "squeue", "sacct", "scancel", "scontrol", "sinfo"] as const;
type Command = (typeof COMMANDS)[number];

/** Absolute path of a command on PATH, or undefined. */
function which(cmd: string): string | undefined {
  const r = spawnSync("sh", ["-c", 'command -v "$1"', "sh", cmd], { encoding: "utf8" });
  const p = r.stdout.trim();
  return r.status === 0 && p.startsWith("/") ? p : undefined;
}

/** Writes wrapper scripts into `bin` that log `<command>` to `log` and exec the real binary. */
function writeWrappers(bin: string, log: string): void {
  mkdirSync(bin, { recursive: true });
  for (const cmd of COMMANDS) {
    const real = which(cmd);
    if (!real) continue;
    const file = join(bin, cmd);
    writeFileSync(file, `#!/bin/sh\necho ${cmd} >> '${log}'\nexec '${real}' "$@"\n`);
    chmodSync(file, 0o755);
  }
}

function countCalls(log: string): Record<Command, number> {
  const counts = Object.fromEntries(COMMANDS.map((c) => [c, 0])) as Record<Command, number>;
  if (!existsSync(log)) return counts;
  for (const line of readFileSync(log, "utf8").split("\n")) if (line in counts) counts[line as Command]++;
  return counts;
}

/** The ways a fanout runs: worker hosts (the default), job arrays without hosts, one sbatch per job, job packs. */
const PACK = 25;
const MODES = ["hosts", "arrays", "noarrays", "packs"] as const;
type Mode = (typeof MODES)[number];
const MODE_LABELS: Record<Mode, string> = {
  hosts: "worker hosts (default)",
  arrays: "job arrays, no worker hosts",
  noarrays: "one sbatch per job",
  packs: `job packs of ${PACK}`,
};
const MODE_ARGS: Record<Mode, string[]> = {
  hosts: [],
  arrays: ["--no-slurmWorkers"],
  noarrays: ["--no-slurmWorkers", "--no-slurmArrays"],
  packs: ["--slurmPackJobs", String(PACK)],
};

/** Seconds each slow child of the skewed workload sleeps; every 20th child is slow. */
const SLOW_SECONDS = 5;
/** CPU seconds each child of the cpu workload computes. */
const CPU_SECONDS = 0.5;

/** Cancels the Slurm jobs of a run whose leader was killed (found by their `--comment`). */
function cancelTagged(tag: string): void {
  const q = spawnSync("squeue", ["-h", "-o", "%A|%k"], { encoding: "utf8" });
  const ids = q.stdout
    .split("\n")
    .map((l) => l.split("|"))
    .filter(([, comment]) => comment?.trim() === tag)
    .map(([id]) => id as string);
  if (ids.length > 0) spawnSync("scancel", ids, { stdio: "ignore" });
}

/** Wall time allowed for one run: with a worker per job, Slurm starts about one job per second per CPU. */
function slurmTimeout(jobs: number): number {
  const scale = Number(process.env.TOIL_BENCH_TIMEOUT_SCALE ?? "1");
  const cap = Number(process.env.TOIL_BENCH_MAX_RUN_SECONDS ?? "Infinity") * 1000;
  return Math.min(cap, Math.round((120_000 + jobs * 3_000) * scale));
}

/** CPUs of the cluster's nodes (sinfo), for the best schedule of the skewed workload. */
function clusterCpus(): number {
  const r = spawnSync("sinfo", ["-h", "-o", "%C"], { encoding: "utf8" });
  const total = Number(r.stdout.trim().split("/").at(-1));
  return Number.isFinite(total) && total > 0 ? total : 2;
}

function listOf<T extends string>(env: string | undefined, all: readonly T[], fallback: readonly T[]): T[] {
  if (!env) return [...fallback];
  const wanted = env.split(",").map((s) => s.trim());
  return all.filter((m) => wanted.includes(m));
}

interface Outcome {
  ok: boolean;
  wallS: number;
  calls: Record<Command, number>;
  load: number;
  note: string | undefined;
  callNote: string;
}

/** One `toil run` of a bench workflow with counted Slurm calls; records the run in `ctx.runs`. */
async function runOne(
  ctx: Ctx,
  label: string,
  workflow: string,
  args: readonly string[],
  params: readonly string[],
  expected: string,
  jobs: number,
): Promise<Outcome> {
  const dir = mkdtempSync(join(ctx.tmp, `${label}-`));
  const out = join(dir, "out");
  const callLog = join(dir, "slurm-calls.log");
  const bin = join(dir, "bin");
  const tag = `toil-bench-${randomUUID()}`;
  writeWrappers(bin, callLog);
  const slurm = args.includes("slurm");
  const r = await runToil({
    args: [
      "run",
      workflowFile(workflow),
      "--jobStore",
      join(dir, "store"),
      ...args,
      ...(slurm ? ["--batchLogsDir", join(dir, "logs"), "--slurmArgs", `--comment=${tag}`] : []),
      "--logLevel",
      "warning",
      "--",
      ...params.map((p) => (p === "OUT" ? out : p)),
    ],
    logDir: dir,
    label,
    timeoutMs: slurmTimeout(jobs),
    env: { ...ctx.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ""}` },
  });
  killPids(r.survivors);
  if (r.timedOut && slurm) cancelTagged(tag);
  const got = existsSync(out) ? readFileSync(out, "utf8") : undefined;
  const ok = r.code === 0 && got === expected;
  const p = lastProgress(r);
  const note = ok
    ? undefined
    : r.code === 0
      ? `the run exited 0 but the output file holds ${got ?? "nothing"}, expected ${expected}`
      : `${failureNote(r)}${p ? ` (${p.done} of ${p.total} jobs done by then)` : ""}`;
  const calls = countCalls(callLog);
  const load = Math.round(loadavg()[0]! * 100) / 100;
  ctx.runs.push({
    label,
    ok,
    timedOut: r.timedOut,
    wallMs: Math.round(r.wallMs),
    code: r.code,
    signal: r.signal,
    leaderPeakRssMB: r.tree.rootPeakRssBytes / 1e6,
    summedPeakRssMB: r.tree.summedPeakRssBytes / 1e6,
    peakConcurrentRssMB: r.tree.peakConcurrentRssBytes / 1e6,
    processes: r.tree.processes,
    cpuSeconds: r.tree.cpuSeconds,
    samples: r.tree.samples,
    loadAverage1: load,
    ...(note ? { note } : {}),
    topProcesses: [],
  });
  ctx.log(
    `  ${ok ? "ok" : `FAILED (${note})`} in ${(r.wallMs / 1000).toFixed(1)} s; sbatch ${calls.sbatch}, squeue ${calls.squeue}, sacct ${calls.sacct}, scancel ${calls.scancel}; load ${load}`,
  );
  if (ok) rmSync(dir, { recursive: true, force: true });
  else ctx.cleanup.push(dir);
  const callNote = slurm
    ? `Slurm commands run by the leader: sbatch ${calls.sbatch}, squeue ${calls.squeue}, sacct ${calls.sacct}, scancel ${calls.scancel}, scontrol ${calls.scontrol}, sinfo ${calls.sinfo}; load average ${load}`
    : `load average ${load}`;
  return { ok, wallS: r.wallMs / 1000, calls, load, note, callNote };
}

/** Pushes the figures every Slurm run has: jobs/s, wall, and the sbatch/squeue/sacct calls. */
function pushRunFigures(ctx: Ctx, id: string, label: string, jobs: number, o: Outcome): void {
  ctx.figures.push({
    id: `${id}.jobsPerSecond`,
    case: "slurm",
    figure: `${label}: throughput, end to end`,
    value: o.ok ? jobs / o.wallS : null,
    unit: "jobs/s",
    note: o.note ? `${o.note}; ${o.callNote}` : o.callNote,
  });
  ctx.figures.push({ id: `${id}.wallSeconds`, case: "slurm", figure: `${label}: wall`, value: o.ok ? o.wallS : null, unit: "s" });
  for (const cmd of ["sbatch", "squeue", "sacct"] as const) {
    ctx.figures.push({ id: `${id}.${cmd}Calls`, case: "slurm", figure: `${label}: ${cmd} calls`, value: o.calls[cmd], unit: "calls" });
  }
}

const SLURM_RUN = ["--batchSystem", "slurm", "--defaultMemory", "64Mi", "--defaultDisk", "1Mi", "--defaultCores", "0.1"];

export async function slurmCase(ctx: Ctx): Promise<void> {
  if (!which("sbatch")) {
    const note = "skipped: sbatch is not on PATH (start a Slurm cluster, or put its client commands on PATH, to run this case)";
    ctx.log(`slurm ${note}`);
    ctx.figures.push({ id: "slurm.skipped", case: "slurm", figure: "Slurm fanout through toil run --batchSystem slurm", value: null, unit: "jobs/s", note });
    return;
  }
  // Client commands without a controller behind them: every run would wait out sbatch's retries.
  const ping = spawnSync("sinfo", ["--noheader", "--responding"], { encoding: "utf8", timeout: 30_000 });
  if (ping.status !== 0) {
    const why = (ping.stderr || ping.error?.message || `sinfo exited ${ping.status ?? ping.signal}`).trim().split("\n")[0];
    const note = `skipped: sbatch is on PATH but no Slurm controller answers (\`sinfo\`: ${why}); start the cluster to run this case`;
    ctx.log(`slurm ${note}`);
    ctx.figures.push({ id: "slurm.skipped", case: "slurm", figure: "Slurm fanout through toil run --batchSystem slurm", value: null, unit: "jobs/s", note });
    return;
  }
  const workloads = listOf(process.env.TOIL_BENCH_SLURM_WORKLOADS, ["fanout", "skewed", "cpu"] as const, ["fanout", "skewed", "cpu"]);
  const modes = listOf(process.env.TOIL_BENCH_SLURM_MODES, MODES, ctx.quick ? ["hosts", "packs"] : MODES);
  const sizes = process.env.TOIL_BENCH_SLURM_SIZES
    ? process.env.TOIL_BENCH_SLURM_SIZES.split(",").map(Number)
    : ctx.quick
      ? [50]
      : [200, 1000];

  if (workloads.includes("fanout")) {
    for (const n of sizes) {
      for (const mode of modes) {
        const label = `slurm fanout ${n.toLocaleString("en-US")}, ${MODE_LABELS[mode]}`;
        ctx.log(`${label}...`);
        const o = await runOne(ctx, `slurm-${n}-${mode}`, "fanout", [...SLURM_RUN, ...MODE_ARGS[mode]], [String(n), "OUT"], String((n * (n - 1)) / 2), n + 2);
        pushRunFigures(ctx, `slurm.${n}.${mode}`, label, n + 2, o);
      }
    }
  }

  if (workloads.includes("skewed")) {
    const n = ctx.quick ? 40 : 200;
    const cpus = clusterCpus();
    const slow = Math.ceil(n / 20);
    const ideal = Math.max((slow * SLOW_SECONDS) / cpus, SLOW_SECONDS);
    const label = `slurm skewed fanout ${n} (every 20th job sleeps ${SLOW_SECONDS} s), worker hosts`;
    ctx.log(`${label}...`);
    const o = await runOne(ctx, `slurm-skewed-${n}`, "skewed", SLURM_RUN, [String(n), "OUT", String(SLOW_SECONDS)], String((n * (n - 1)) / 2), n + 2);
    pushRunFigures(ctx, `slurm.skewed.${n}`, label, n + 2, o);
    ctx.figures.push({
      id: `slurm.skewed.${n}.wallOverIdeal`,
      case: "slurm",
      figure: `${label}: wall / best schedule on ${cpus} CPUs (${ideal.toFixed(1)} s)`,
      value: o.ok ? o.wallS / ideal : null,
      unit: "x",
      note: `best schedule = max(${slow} sleeps × ${SLOW_SECONDS} s / ${cpus} CPUs, ${SLOW_SECONDS} s); the quick jobs and the start-up are extra`,
    });
  }

  if (workloads.includes("cpu")) {
    const n = ctx.quick ? 20 : 200;
    const cpus = clusterCpus();
    const label = `cpu fanout ${n} (${CPU_SECONDS} s of CPU each)`;
    const localArgs = ["--batchSystem", "single_machine", "--maxCores", String(cpus), "--defaultCores", "1", "--defaultMemory", "64Mi", "--defaultDisk", "1Mi"];
    const params = [String(n), "OUT", String(CPU_SECONDS)];
    // The machine's load drifts: in a full run the two batch systems run in the order A B B A, and
    // each figure is the mean of its runs.
    const order: ("slurm" | "local")[] = ctx.quick ? ["slurm", "local"] : ["slurm", "local", "local", "slurm"];
    const results: Record<"slurm" | "local", Outcome[]> = { slurm: [], local: [] };
    for (const [i, which] of order.entries()) {
      ctx.log(`${which === "slurm" ? "slurm" : "single_machine"} ${label}${which === "slurm" ? ", worker hosts" : `, ${cpus} cores`} (${i + 1} of ${order.length})...`);
      results[which].push(
        which === "slurm"
          ? await runOne(ctx, `slurm-cpu-${n}-${i}`, "cpu", SLURM_RUN, params, String(n), n + 2)
          : await runOne(ctx, `local-cpu-${n}-${i}`, "cpu", localArgs, params, String(n), n + 2),
      );
    }
    const mean = (os: Outcome[]): Outcome => {
      const ok = os.every((o) => o.ok);
      const wallS = os.reduce((a, o) => a + o.wallS, 0) / os.length;
      const notes = os.map((o) => o.note).filter(Boolean);
      return {
        ...os[0]!,
        ok,
        wallS,
        note: notes.length > 0 ? notes.join("; ") : undefined,
        callNote: `mean of ${os.length} ${os.length === 1 ? "run" : "runs"}: ${os.map((o) => `${o.wallS.toFixed(1)} s at load ${o.load}`).join(", ")}; ${os[0]!.callNote}`,
      };
    };
    const onSlurm = mean(results.slurm);
    const local = mean(results.local);
    pushRunFigures(ctx, `slurm.cpu.${n}`, `slurm ${label}, worker hosts`, n + 2, onSlurm);
    ctx.figures.push({
      id: `slurm.cpu.${n}.singleMachineJobsPerSecond`,
      case: "slurm",
      figure: `single_machine ${label}, ${cpus} cores: throughput, end to end`,
      value: local.ok ? (n + 2) / local.wallS : null,
      unit: "jobs/s",
      note: local.note ? `${local.note}; ${local.callNote}` : local.callNote,
    });
    ctx.figures.push({
      id: `slurm.cpu.${n}.overSingleMachine`,
      case: "slurm",
      figure: `slurm ${label}: throughput / single_machine's`,
      value: onSlurm.ok && local.ok ? local.wallS / onSlurm.wallS : null,
      unit: "x",
    });
  }
}
