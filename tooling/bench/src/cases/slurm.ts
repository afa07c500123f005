/**
 * The Slurm case: the fanout workflow through `toil run --batchSystem slurm` on a real cluster,
 * with job arrays, without them, and with job packs (`--slurmPackJobs 25`), reporting jobs/s and how many times the leader called each Slurm
 * command. The calls are counted for real: the run's PATH starts with a directory of wrapper
 * scripts that append one line to a log and exec the real command.
 *
 * Skipped (with a note in the results) when `sbatch` is not on PATH. Sizes: 200 and 1,000 jobs
 * (`--quick`: 50); `TOIL_BENCH_SLURM_SIZES=200,1000` overrides them.
 */
import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { loadavg } from "node:os";
import { type Ctx, lastProgress } from "../cases.js";
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

/** The three ways each size runs: the default (job arrays), one sbatch per job, and job packs. */
const PACK = 25;
const MODE_LABELS = { arrays: "job arrays on", noarrays: "job arrays off", packs: `job arrays with packs of ${PACK}` } as const;
const MODE_ARGS = { arrays: [], noarrays: ["--no-slurmArrays"], packs: ["--slurmPackJobs", String(PACK)] } as const;

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

/** Wall time allowed for one run: Slurm starts about one job per second per CPU with a worker per job. */
function slurmTimeout(jobs: number): number {
  const scale = Number(process.env.TOIL_BENCH_TIMEOUT_SCALE ?? "1");
  const cap = Number(process.env.TOIL_BENCH_MAX_RUN_SECONDS ?? "Infinity") * 1000;
  return Math.min(cap, Math.round((120_000 + jobs * 3_000) * scale));
}

export async function slurmCase(ctx: Ctx): Promise<void> {
  const sizes = process.env.TOIL_BENCH_SLURM_SIZES
    ? process.env.TOIL_BENCH_SLURM_SIZES.split(",").map(Number)
    : ctx.quick
      ? [50]
      : [200, 1000];
  if (!which("sbatch")) {
    const note = "skipped: sbatch is not on PATH (start a Slurm cluster, or put its client commands on PATH, to run this case)";
    ctx.log(`slurm ${note}`);
    ctx.figures.push({ id: "slurm.skipped", case: "slurm", figure: "Slurm fanout through toil run --batchSystem slurm", value: null, unit: "jobs/s", note });
    return;
  }
  for (const n of sizes) {
    for (const mode of ["arrays", "noarrays", "packs"] as const) {
      const label = `slurm fanout ${n.toLocaleString("en-US")}, ${MODE_LABELS[mode]}`;
      const dir = mkdtempSync(join(ctx.tmp, `slurm-${n}-${mode}-`));
      const out = join(dir, "sum");
      const callLog = join(dir, "slurm-calls.log");
      const bin = join(dir, "bin");
      const tag = `toil-bench-${randomUUID()}`;
      writeWrappers(bin, callLog);
      ctx.log(`${label}...`);
      const r = await runToil({
        args: [
          "run",
          workflowFile("fanout"),
          "--jobStore",
          join(dir, "store"),
          "--batchSystem",
          "slurm",
          "--batchLogsDir",
          join(dir, "logs"),
          ...MODE_ARGS[mode],
          "--defaultMemory",
          "64Mi",
          "--defaultDisk",
          "1Mi",
          "--defaultCores",
          "0.1",
          "--logLevel",
          "warning",
          "--slurmArgs",
          `--comment=${tag}`,
          "--",
          String(n),
          out,
        ],
        logDir: dir,
        label: `slurm-${n}-${mode}`,
        timeoutMs: slurmTimeout(n),
        env: { ...ctx.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ""}` },
      });
      killPids(r.survivors);
      if (r.timedOut) cancelTagged(tag);
      const expected = String((n * (n - 1)) / 2);
      const got = existsSync(out) ? readFileSync(out, "utf8") : undefined;
      const ok = r.code === 0 && got === expected;
      const p = lastProgress(r);
      const note = ok
        ? undefined
        : r.code === 0
          ? `the run exited 0 but the sum file holds ${got ?? "nothing"}, expected ${expected}`
          : `${failureNote(r)}${p ? ` (${p.done} of ${p.total} jobs done by then)` : ""}`;
      const calls = countCalls(callLog);
      const jobs = n + 2;
      const load = Math.round(loadavg()[0]! * 100) / 100;
      ctx.runs.push({
        label: `slurm-${n}-${mode}`,
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
        `  ${ok ? "ok" : `FAILED (${note})`} in ${(r.wallMs / 1000).toFixed(1)} s; sbatch ${calls.sbatch}, squeue ${calls.squeue}, sacct ${calls.sacct}, scancel ${calls.scancel}`,
      );
      const id = `slurm.${n}.${mode}`;
      const callNote = `Slurm commands run by the leader: sbatch ${calls.sbatch}, squeue ${calls.squeue}, sacct ${calls.sacct}, scancel ${calls.scancel}, scontrol ${calls.scontrol}, sinfo ${calls.sinfo}; load average ${load}`;
      ctx.figures.push({
        id: `${id}.jobsPerSecond`,
        case: "slurm",
        figure: `${label}: throughput, end to end`,
        value: ok ? jobs / (r.wallMs / 1000) : null,
        unit: "jobs/s",
        note: note ? `${note}; ${callNote}` : callNote,
      });
      ctx.figures.push({ id: `${id}.wallSeconds`, case: "slurm", figure: `${label}: wall`, value: ok ? r.wallMs / 1000 : null, unit: "s" });
      for (const cmd of ["sbatch", "squeue", "sacct"] as const) {
        ctx.figures.push({ id: `${id}.${cmd}Calls`, case: "slurm", figure: `${label}: ${cmd} calls`, value: calls[cmd], unit: "calls" });
      }
      if (ok) rmSync(dir, { recursive: true, force: true });
      else ctx.cleanup.push(dir);
    }
  }
}
