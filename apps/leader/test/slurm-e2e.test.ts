/**
 * End-to-end workflows through the real `toil` CLI with `--batchSystem slurm`, on a real Slurm
 * cluster (CI starts a single-node one). The job store, batch logs and outputs live in a temp
 * dir on the local file system, which a single-node cluster shares by construction.
 *
 * Without `sbatch` on PATH the tests are skipped with the reason in their name, unless
 * TOIL_TEST_REQUIRE_SLURM=1 (CI), where that is a failure (the gate is @toil/batch-slurm/testing).
 * Tests run one after the other so they never compete for the cluster's CPUs.
 */
import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describeSlurm } from "@toil/batch-slurm/testing";
import { expect, it } from "vitest";
import { until as waitUntil } from "@toil/test-support";
import { FIXTURES, REPO_ROOT, SMALL, TOIL_CLI, runToil, tempDir } from "./e2e/helpers.js";

const EXAMPLES = path.join(REPO_ROOT, "examples");
const FLOWS = path.join(FIXTURES, "slurm-flows.ts");
const FIRST_HOUR = path.join(FIXTURES, "first-hour.ts");

/**
 * Options of a Slurm run: batch logs in the test's dir, and a unique `--comment` on every Slurm
 * job so the tests find their own jobs in `squeue` even when others use the cluster.
 */
function slurmOptions(dir: string, tag: string): string[] {
  return ["--batchSystem", "slurm", "--batchLogsDir", path.join(dir, "logs"), "--statePollingWait", "0.5", "--slurmArgs", `--comment=${tag}`];
}

/** Slurm job ids (array tasks expanded) of our jobs still queued or running, by `--comment` tag. */
function ourQueuedJobs(tag: string): string[] {
  const res = spawnSync("squeue", ["-h", "-r", "-O", "JobArrayID:|,Comment:|,State:|"], { encoding: "utf8" });
  if (res.status !== 0) throw new Error(`squeue failed: ${res.stderr}`);
  const out: string[] = [];
  for (const line of res.stdout.split("\n")) {
    const [id, comment, state] = line.split("|").map((s) => s.trim());
    if (id && comment === tag) out.push(`${id} ${state}`);
  }
  return out;
}

/** Whether `toil status` says the workflow in this job store is running. */
function leaderRunning(js: string): boolean {
  const r = spawnSync(process.execPath, [TOIL_CLI, "status", js, "--json"], { encoding: "utf8" });
  if (r.status !== 0) return false;
  try {
    return (JSON.parse(r.stdout) as { state?: string }).state === "RUNNING";
  } catch {
    return false;
  }
}

/** Slurm's own commands are slow to poll: every 250 ms, for `seconds`. */
function until(what: string, probe: () => boolean, seconds: number): Promise<void> {
  return waitUntil(what, probe, { timeoutMs: seconds * 1000, intervalMs: 250 });
}

function runsOf(dir: string): Record<string, number> {
  if (!existsSync(dir)) return {};
  const out: Record<string, number> = {};
  for (const f of readdirSync(dir)) if (f.endsWith(".runs")) out[f.slice(0, -5)] = readFileSync(path.join(dir, f), "utf8").length;
  return out;
}

describeSlurm("slurm (real cluster) end-to-end workflows through the toil CLI", () => {
  it("word-count gives the same output with --batchSystem slurm as with single_machine", { timeout: 300_000 }, async () => {
    const dir = tempDir("toil-slurm-e2e-");
    const cwd = path.join(EXAMPLES, "word-count");
    const local = path.join(dir, "local.json");
    const slurm = path.join(dir, "slurm.json");
    const a = await runToil(["run", "flow.ts", "--jobStore", path.join(dir, "js-local"), ...SMALL, "--", "sample.txt", local, "4"], { cwd, timeoutMs: 240_000 });
    expect(a.code, a.stderr).toBe(0);
    const tag = `toil-e2e-${randomUUID()}`;
    const b = await runToil(["run", "flow.ts", "--jobStore", path.join(dir, "js-slurm"), ...SMALL, ...slurmOptions(dir, tag), "--", "sample.txt", slurm, "4"], {
      cwd,
      timeoutMs: 240_000,
    });
    expect(b.code, b.stderr).toBe(0);
    expect(readFileSync(slurm, "utf8")).toBe(readFileSync(local, "utf8"));
    expect(b.stdout.trim()).toBe(a.stdout.trim());
    expect(Number(b.stdout.trim())).toBeGreaterThan(0);
    // The jobs really went through Slurm: their logs are in the batch logs dir.
    expect(readdirSync(path.join(dir, "logs")).length).toBeGreaterThan(0);
    expect(ourQueuedJobs(tag)).toEqual([]);
  });

  it("a fan-out of 200 jobs runs on a few warm worker hosts (the default), with per-job figures in toil stats", { timeout: 300_000 }, async () => {
    const dir = tempDir("toil-slurm-e2e-");
    const tag = `toil-e2e-${randomUUID()}`;
    const js = path.join(dir, "js");
    const bus = path.join(dir, "bus.jsonl");
    const r = await runToil(["run", "flow.ts", "--jobStore", js, ...SMALL, ...slurmOptions(dir, tag), "--stats", "--writeMessages", bus, "--", "200"], {
      cwd: path.join(EXAMPLES, "fan-out-fan-in"),
      timeoutMs: 240_000,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(Number(r.stdout.trim())).toBe(Array.from({ length: 200 }, (_, i) => i * i).reduce((x, y) => x + y, 0));
    // Every job ran on a host (its Slurm id is the host's array task) and there were far fewer hosts than jobs.
    const messages = readFileSync(bus, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as { type?: string; externalBatchId?: string; hostId?: string });
    const started = messages.filter((m) => m.type === "WorkerHostStarted").map((m) => m.hostId);
    const ranOn = new Set(messages.filter((m) => m.type === "ExternalBatchId").map((m) => m.externalBatchId));
    expect(started.length).toBeGreaterThan(0);
    expect(started.length).toBeLessThan(20);
    expect([...ranOn].every((k) => started.includes(k))).toBe(true);
    expect(new Set(messages.filter((m) => m.type === "WorkerHostStopped").map((m) => m.hostId))).toEqual(new Set(started));
    // toil stats has each job's own figures (the worker records them in the host as in its own process).
    const stats = await runToil(["stats", js, "--raw"], { timeoutMs: 60_000 });
    expect(stats.code, stats.stderr).toBe(0);
    const report = JSON.parse(stats.stdout) as { jobs: number; kinds: { name: string; count: number; cpu: { total: number }; memory: { max: number }; wall: { max: number } }[] };
    const squares = report.kinds.find((k) => /square/.test(k.name));
    expect(squares?.count).toBe(200);
    expect(squares!.cpu.total).toBeGreaterThan(0);
    expect(squares!.memory.max).toBeGreaterThan(0);
    expect(squares!.wall.max).toBeGreaterThan(0);
    expect(ourQueuedJobs(tag)).toEqual([]);
  });

  it("a fan-out of 40 jobs summed by a follow-on gives the right sum as plain Slurm jobs (--no-slurmWorkers, job arrays on)", { timeout: 620_000 }, async () => {
    const dir = tempDir("toil-slurm-e2e-");
    const tag = `toil-e2e-${randomUUID()}`;
    const r = await runToil(["run", "flow.ts", "--jobStore", path.join(dir, "js"), ...SMALL, ...slurmOptions(dir, tag), "--no-slurmWorkers", "--", "40"], {
      cwd: path.join(EXAMPLES, "fan-out-fan-in"),
      timeoutMs: 600_000,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(Number(r.stdout.trim())).toBe(Array.from({ length: 40 }, (_, i) => i * i).reduce((x, y) => x + y, 0));
    // Arrays were used: at least one array task's log (`..._<task>.out.log`) exists, and no host ran.
    const logs = readdirSync(path.join(dir, "logs"));
    expect(logs.some((f) => /_\d+\.(out|err)\.log$/.test(f))).toBe(true);
    expect(logs.some((f) => /\.host_/.test(f))).toBe(false);
    expect(ourQueuedJobs(tag)).toEqual([]);
  });

  it("the same fan-out of 200 with job packs (--slurmPackJobs 25) gives the right sum", { timeout: 620_000 }, async () => {
    const dir = tempDir("toil-slurm-e2e-");
    const tag = `toil-e2e-${randomUUID()}`;
    const r = await runToil(["run", "flow.ts", "--jobStore", path.join(dir, "js"), ...SMALL, ...slurmOptions(dir, tag), "--slurmPackJobs", "25", "--", "200"], {
      cwd: path.join(EXAMPLES, "fan-out-fan-in"),
      timeoutMs: 600_000,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(Number(r.stdout.trim())).toBe(Array.from({ length: 200 }, (_, i) => i * i).reduce((x, y) => x + y, 0));
    // Packs were used: every child has its own log files, named after far fewer array tasks than jobs.
    const logs = readdirSync(path.join(dir, "logs")).filter((f) => /\.\d+_\d+\.out\.log$/.test(f));
    expect(logs.length).toBeGreaterThanOrEqual(200);
    const tasks = new Set(logs.map((f) => /\.(\d+_\d+)\.out\.log$/.exec(f)?.[1]));
    expect(tasks.size).toBeLessThan(50);
    // The runner's status files are gone once every pack has settled.
    expect(readdirSync(path.join(dir, "logs")).filter((f) => /\.pack-/.test(f))).toEqual([]);
    expect(ourQueuedJobs(tag)).toEqual([]);
  });

  it("a job over its memory request ends as MEMLIMIT (cgroup OOM) and succeeds on retry with --doubleMem", { timeout: 300_000 }, async () => {
    const dir = tempDir("toil-slurm-e2e-");
    const state = path.join(dir, "state");
    const tag = `toil-e2e-${randomUUID()}`;
    // The job asks for 300 MiB and grows to 450 MiB resident: over the first limit, under the doubled one.
    const r = await runToil(["run", FLOWS, "--jobStore", path.join(dir, "js"), ...SMALL, ...slurmOptions(dir, tag), "--doubleMem", "--", "hog", state, "300", "450"], {
      timeoutMs: 240_000,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(Number(r.stdout.trim())).toBeGreaterThanOrEqual(450);
    // Two attempts, as Slurm saw them: --mem=300M, then --mem=600M.
    expect(readFileSync(path.join(state, "hog.runs"), "utf8").trim().split("\n")).toEqual(["300", "600"]);
    expect(r.stderr).toMatch(/failed \(MEMLIMIT, exit status 253\)/);
    // Slurm's cgroup killed the first attempt: its note is in that job's stderr log.
    const logs = readdirSync(path.join(dir, "logs")).filter((f) => f.endsWith(".err.log"));
    expect(logs.some((f) => /oom-kill event/.test(readFileSync(path.join(dir, "logs", f), "utf8")))).toBe(true);
    expect(ourQueuedJobs(tag)).toEqual([]);
  });

  it("without --doubleMem the same job fails for good as MEMLIMIT after its retries", { timeout: 300_000 }, async () => {
    const dir = tempDir("toil-slurm-e2e-");
    const state = path.join(dir, "state");
    const tag = `toil-e2e-${randomUUID()}`;
    const r = await runToil(["run", FLOWS, "--jobStore", path.join(dir, "js"), ...SMALL, ...slurmOptions(dir, tag), "--retryCount", "1", "--", "hog", state, "300", "450"], {
      timeoutMs: 240_000,
    });
    expect(r.code, r.stdout).not.toBe(0);
    expect(r.signal).toBeNull();
    // Both attempts asked for the same 300 MiB, and the failure names the reason.
    expect(readFileSync(path.join(state, "hog.runs"), "utf8").trim().split("\n")).toEqual(["300", "300"]);
    expect(r.stderr).toMatch(/hog \([^)]+\): MEMLIMIT, exit status 253/);
    expect(ourQueuedJobs(tag)).toEqual([]);
  });

  it("an unhandled promise rejection in a job on a worker host fails that job with the error, and the host is replaced", { timeout: 300_000 }, async () => {
    const dir = tempDir("toil-slurm-e2e-");
    const tag = `toil-e2e-${randomUUID()}`;
    const r = await runToil(["run", FIRST_HOUR, "--jobStore", path.join(dir, "js"), ...SMALL, ...slurmOptions(dir, tag), "--retryCount", "0", "--", "reject"], {
      timeoutMs: 240_000,
    });
    expect(r.code, r.stderr).toBe(1);
    // The plugin's warnings go through the leader's log: on the terminal as its lines, and in the run's log file.
    expect(r.stderr).toMatch(/WARNING Replacing Slurm worker host/);
    expect(readFileSync(`${path.join(dir, "js")}.log`, "utf8")).toMatch(/Z WARNING Replacing Slurm worker host \d+_\d+: unhandled promise rejection in job 'Rejecter'/);
    expect(r.stderr).not.toMatch(/^Node\.js v\d+/m);
    expect(r.stderr).toContain("unhandled rejection in Rejecter: nobody awaits this promise");
    expect(r.stderr).toMatch(/Replacing Slurm worker host \d+_\d+: unhandled promise rejection in job 'Rejecter'/);
    await until("our Slurm jobs to leave squeue", () => ourQueuedJobs(tag).length === 0, 60);
  });

  it("a rejection after its job committed, on a worker host, fails no job, and the next job runs on a fresh host", { timeout: 300_000 }, async () => {
    const dir = tempDir("toil-slurm-e2e-");
    const tag = `toil-e2e-${randomUUID()}`;
    // One host at a time, so the jobs run one after another on the same host until it is replaced.
    const r = await runToil(
      ["run", FIRST_HOUR, "--jobStore", path.join(dir, "js"), ...SMALL, ...slurmOptions(dir, tag), "--slurmMaxWorkers", "1", "--disableChaining", "--", "lateReject", path.join(dir, "state")],
      { timeoutMs: 240_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('"third"');
    const pid = (label: string): string => {
      const m = new RegExp(`${label} ran in pid (\\d+)`).exec(r.stderr);
      if (!m) throw new Error(`no pid of ${label} in:\n${r.stderr}`);
      return m[1]!;
    };
    expect(r.stderr).toMatch(/Job 'LeavesTimer' \S+ had already finished \(its results are kept\) when its code raised an unhandled promise rejection/);
    expect(pid("second")).toBe(pid("LeavesTimer"));
    expect(r.stderr).toMatch(/Replacing Slurm worker host \d+_\d+: unhandled promise rejection in job 'LeavesTimer'/);
    expect(pid("third")).not.toBe(pid("LeavesTimer"));
    await until("our Slurm jobs to leave squeue", () => ourQueuedJobs(tag).length === 0, 60);
  });

  it("the standalone bundle, copied away from the repository, runs a fan-out on Slurm worker hosts with its own runtime scripts", { timeout: 300_000 }, async () => {
    const dir = tempDir("toil-slurm-e2e-");
    const tag = `toil-e2e-${randomUUID()}`;
    const app = path.join(dir, "app");
    cpSync(path.join(REPO_ROOT, "apps", "leader", "dist", "standalone"), app, { recursive: true });
    const flow = path.join(dir, "flow.mjs");
    writeFileSync(
      flow,
      `import { Job } from "@toil/job";
export function square(i) { return i * i; }
export function sum(xs) { return xs.reduce((a, b) => a + b, 0); }
export function fan(job, n) { const r = []; for (let i = 0; i < n; i++) r.push(job.addChildFn(square, i).rv()); return job.addFollowOnFn(sum, r).rv(); }
export default function main({ args }) { return Job.wrapJobFn(fan, Number(args[0])); }
`,
    );
    const bus = path.join(dir, "bus.jsonl");
    const r = spawnSync(
      process.execPath,
      [path.join(app, "toil.js"), "run", flow, "--jobStore", path.join(dir, "js"), ...SMALL, ...slurmOptions(dir, tag), "--writeMessages", bus, "--", "6"],
      { cwd: dir, encoding: "utf8", env: { PATH: process.env.PATH ?? "", HOME: dir }, timeout: 240_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe("55");
    const types = readFileSync(bus, "utf8").split("\n").filter(Boolean).map((l) => (JSON.parse(l) as { type: string }).type);
    expect(types).toContain("WorkerHostStarted");
    expect(r.stderr).not.toMatch(/did not start|turned off/);
    await until("our Slurm jobs to leave squeue", () => ourQueuedJobs(tag).length === 0, 60);
  });

  it("toil kill stops a running slurm workflow, leaves none of its jobs in squeue, and its leader exits as a single-machine one does; toil status shows its hosts before and STOPPED after", { timeout: 240_000 }, async () => {
    const dir = tempDir("toil-slurm-e2e-");
    const js = path.join(dir, "js");
    const tag = `toil-e2e-${randomUUID()}`;
    const bus = path.join(dir, "bus.jsonl");
    const leader = runToil(["run", FLOWS, "--jobStore", js, ...SMALL, ...slurmOptions(dir, tag), "--writeMessages", bus, "--", "sleepers", "4", "600"], { timeoutMs: 200_000 });
    // Two CPUs: two hosts run a sleeper each, the others wait in Slurm.
    await until("two sleepers running", () => ourQueuedJobs(tag).filter((j) => j.endsWith(" RUNNING")).length >= 2, 120);
    let status = "";
    await until(
      "toil status to list the hosts",
      () => {
        const r = spawnSync(process.execPath, [TOIL_CLI, "status", js, "--status"], { encoding: "utf8" });
        status = r.stdout;
        return /(\d+) worker hosts?: \1 × 1 CPU, 64M memory/.test(status) && (status.match(/: running nap/g) ?? []).length >= 2;
      },
      60,
    );
    expect(status).toMatch(/^ {2}slurm host \d+_\d+ on \S+, since \S+: running nap \(\S+\)$/m);
    const kill = await runToil(["kill", js], { timeoutMs: 120_000 });
    expect(kill.code, kill.stderr).toBe(0);
    const ended = await leader;
    // The leader stopped on its own (not by the test's timeout) without the workflow's result.
    expect(ended.signal, ended.stderr).toBeNull();
    // toil status says STOPPED (not FAILED), with the --restart hint, as after a single-machine kill.
    const after = spawnSync(process.execPath, [TOIL_CLI, "status", js], { encoding: "utf8" });
    expect(after.stdout).toMatch(/: STOPPED\b/);
    expect(after.stdout).not.toMatch(/FAILED/);
    expect(after.stdout).toContain("--restart");
    // ... and with the same exit status as a single-machine leader stopped by toil kill.
    const localJs = path.join(dir, "js-local");
    const local = runToil(["run", FLOWS, "--jobStore", localJs, ...SMALL, "--", "sleepers", "4", "600"], { timeoutMs: 200_000 });
    await until("the single-machine leader to run", () => leaderRunning(localJs), 120);
    const localKill = await runToil(["kill", localJs], { timeoutMs: 120_000 });
    expect(localKill.code, localKill.stderr).toBe(0);
    const localEnded = await local;
    expect(localEnded.signal, localEnded.stderr).toBeNull();
    expect(localEnded.code).not.toBe(0);
    expect(ended.code, ended.stderr).toBe(localEnded.code);
    // scancel is asynchronous: cancelled jobs may show COMPLETING for a moment.
    await until("our jobs to leave squeue", () => ourQueuedJobs(tag).length === 0, 60);
    expect(ourQueuedJobs(tag)).toEqual([]);
  });

  it("after SIGKILL of the leader its worker hosts stop by themselves: none is left in squeue within 60 s", { timeout: 240_000 }, async () => {
    const dir = tempDir("toil-slurm-e2e-");
    const tag = `toil-e2e-${randomUUID()}`;
    let pid = 0;
    const leader = runToil(["run", FLOWS, "--jobStore", path.join(dir, "js"), ...SMALL, ...slurmOptions(dir, tag), "--", "sleepers", "3", "600"], {
      timeoutMs: 200_000,
      onSpawn: (child) => {
        pid = child.pid!;
      },
    });
    await until("two sleepers running on hosts", () => ourQueuedJobs(tag).filter((j) => j.endsWith(" RUNNING")).length >= 2, 120);
    process.kill(pid, "SIGKILL");
    const killedAt = Date.now();
    expect((await leader).signal).toBe("SIGKILL");
    await until("the hosts to leave squeue", () => ourQueuedJobs(tag).length === 0, 60);
    expect(Date.now() - killedAt).toBeLessThan(60_000);
  });

  it("--restart after SIGKILL of the leader resubmits nothing that finished", { timeout: 360_000 }, async () => {
    const dir = tempDir("toil-slurm-e2e-");
    const js = path.join(dir, "js");
    const state = path.join(dir, "state");
    const tag = `toil-e2e-${randomUUID()}`;
    const n = 12;
    const args = ["--jobStore", js, ...SMALL, ...slurmOptions(dir, tag), "--", "counted", state, String(n), "1500"];
    let killed = false;
    const first = await runToil(["run", FLOWS, ...args], {
      timeoutMs: 200_000,
      onSpawn: ({ pid }) => {
        // Kill the leader once some children have run (their counters exist), long before all did.
        const started = Date.now();
        const t = setInterval(() => {
          const runs = runsOf(state);
          if (Object.keys(runs).filter((k) => k.startsWith("child-")).length >= 2 || Date.now() - started > 150_000) {
            clearInterval(t);
            killed = true;
            process.kill(pid!, "SIGKILL");
          }
        }, 100);
      },
    });
    expect(killed).toBe(true);
    expect(first.signal, first.stderr).toBe("SIGKILL");
    // The orphaned Slurm jobs still run and commit; wait until none is left, so every job that
    // started before the restart has finished and committed.
    await until("the orphaned jobs to finish", () => ourQueuedJobs(tag).length === 0, 180);
    const before = runsOf(state);
    expect(before.sum).toBeUndefined();
    const finished = Object.keys(before);
    expect(finished).toContain("root");

    const second = await runToil(["run", FLOWS, "--restart", ...args], { timeoutMs: 240_000 });
    expect(second.code, second.stderr).toBe(0);
    expect(Number(second.stdout.trim())).toBe((n * (n - 1)) / 2);
    const after = runsOf(state);
    // Everything that had finished ran once; the rest ran once after the restart.
    for (const key of finished) expect(after[key], `${key} ran again after the restart`).toBe(1);
    expect(Object.keys(after).sort()).toEqual(["root", "sum", ...Array.from({ length: n }, (_, i) => `child-${i}`)].sort());
    for (const [key, count] of Object.entries(after)) expect(count, `${key} ran ${count} times`).toBe(1);
    expect(ourQueuedJobs(tag)).toEqual([]);
  });
});
