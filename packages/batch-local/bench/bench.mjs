#!/usr/bin/env node
// Benchmark of @toil/batch-local (run after a build: `pnpm --filter @toil/batch-local bench [-- --quick]`).
// For each command it compares the batch system (issue N commands with 2 cores, drain N
// updates) with a bare child_process.spawn loop keeping 2 commands running, in the same run.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { SingleMachineBatchSystem } from "../dist/index.js";

// Flags: --quick (small counts), --n=<true commands>, --node-n=<node commands>, --warm-n=<warm jobs>,
// --only=true,node,warm,idle (run some cases only).
const quick = process.argv.includes("--quick");
const flag = (name, dflt) => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? a.slice(name.length + 3) : dflt;
};
const N = Number(flag("n", quick ? 300 : 5000));
const NODE_N = Number(flag("node-n", quick ? 100 : 5000));
const WARM_N = Number(flag("warm-n", quick ? 1000 : 5000));
const IDLE_SECONDS = quick ? 2 : 10;
const ONLY = new Set(flag("only", "true,node,warm,idle").split(","));
const work = mkdtempSync(join(tmpdir(), "toil-bench-local-"));
const req = (cores) => ({ jobName: "bench", requirements: { cores, memory: 1 << 20, disk: 1 << 20, accelerators: [], preemptible: false } });

function makeBs(options = {}) {
  return new SingleMachineBatchSystem({ workflowId: `bench${process.pid}`, workDir: work }, 2, 2 ** 30, 2 ** 30, {
    stdio: "ignore",
    logger: () => {},
    ...options,
  });
}

async function runBatch(command, n, options) {
  const bs = makeBs(options);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await bs.issueBatchJob(command, req(1));
  let failed = 0;
  for (let i = 0; i < n; i++) {
    const u = await bs.getUpdatedBatchJob(60);
    if (!u) throw new Error("benchmark stalled");
    if (u.exitStatus !== 0) failed++;
  }
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  await bs.shutdown();
  if (failed) throw new Error(`${failed} of ${n} commands failed`);
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000 };
}

async function runBare(file, args, n) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let next = 0;
  const lane = async () => {
    while (next < n) {
      next++;
      await new Promise((resolve, reject) => {
        const c = spawn(file, args, { stdio: "ignore" });
        c.once("error", reject);
        c.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`exit ${code}`))));
      });
    }
  };
  await Promise.all([lane(), lane()]);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000 };
}

const rows = [];
function report(name, n, batch, bare) {
  const row = {
    case: name,
    n,
    "batch cmds/s": Math.round((n / batch.ms) * 1000),
    "bare cmds/s": Math.round((n / bare.ms) * 1000),
    "batch ms/cmd": +(batch.ms / n).toFixed(3),
    "bare ms/cmd": +(bare.ms / n).toFixed(3),
    "ratio (time)": +(batch.ms / bare.ms).toFixed(3),
    "leader CPU ms/cmd batch": +(batch.cpuMs / n).toFixed(3),
    "leader CPU ms/cmd bare": +(bare.cpuMs / n).toFixed(3),
  };
  rows.push(row);
  console.log(JSON.stringify(row));
}

// Warm up the spawn path once.
await runBare("true", [], 20);

for (const [key, name, command, file, args] of [
  ["true", "true", "true", "true", []],
  ["node", 'node -e ""', 'node -e ""', "node", ["-e", ""]],
]) {
  if (!ONLY.has(key)) continue;
  const n = key === "true" ? N : NODE_N;
  // Alternate to spread machine noise over both sides.
  const bare1 = await runBare(file, args, Math.floor(n / 2));
  const batch1 = await runBatch(command, Math.floor(n / 2), { warmWorkers: false });
  const bare2 = await runBare(file, args, n - Math.floor(n / 2));
  const batch2 = await runBatch(command, n - Math.floor(n / 2), { warmWorkers: false });
  report(name, n, { ms: batch1.ms + batch2.ms, cpuMs: batch1.cpuMs + batch2.cpuMs }, { ms: bare1.ms + bare2.ms, cpuMs: bare1.cpuMs + bare2.cpuMs });
}

// Warm pool: a trivial script exporting runWarmCommand, run as `node script.mjs`.
if (ONLY.has("warm")) {
  const script = join(work, "warm-trivial.mjs");
  writeFileSync(script, "export async function runWarmCommand(argv, io) { return 0; }\n");
  const warm = await runBatch(`${process.execPath} ${script}`, WARM_N, { warmWorkers: true });
  const bareN = Math.max(20, Math.round(WARM_N / 10));
  const bare = await runBare(process.execPath, [script], bareN);
  const row = {
    case: "warm pool (node script.mjs, trivial runWarmCommand)",
    n: WARM_N,
    "warm jobs/s": Math.round((WARM_N / warm.ms) * 1000),
    "cold node jobs/s (bare spawn)": Math.round((bareN / bare.ms) * 1000),
    "leader CPU ms/job": +(warm.cpuMs / WARM_N).toFixed(3),
  };
  console.log(JSON.stringify(row));
}

// Idle CPU: 100 long-running jobs (0.1 core each: 20 run, 80 wait for cores) while a leader
// loop keeps calling getUpdatedBatchJob(1).
if (ONLY.has("idle")) {
  const bs = makeBs({ warmWorkers: false });
  for (let i = 0; i < 100; i++) await bs.issueBatchJob("sleep 1000", req(0.1));
  await new Promise((r) => setTimeout(r, 500));
  const running = (await bs.getRunningBatchJobIds()).size;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  while (performance.now() - t0 < IDLE_SECONDS * 1000) await bs.getUpdatedBatchJob(1);
  const cpu = process.cpuUsage(cpu0);
  const wall = performance.now() - t0;
  const pct = (((cpu.user + cpu.system) / 1000) / wall) * 100;
  console.log(
    JSON.stringify({
      case: "idle with 100 long-running jobs",
      issued: 100,
      running,
      seconds: IDLE_SECONDS,
      "CPU % of one core": +pct.toFixed(3),
    }),
  );
  await bs.shutdown();
}

rmSync(work, { recursive: true, force: true });
console.log("\nsummary (targets: ratio <= 1.3, idle CPU < 1%):");
console.table(rows);
