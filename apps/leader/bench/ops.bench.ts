/**
 * `toil status` and `toil stats` on a big job store. Run: `pnpm --filter @toil/leader bench`
 * (add `-- --quick` for 10,000 jobs instead of 100,000). Needs the built CLI (`pnpm build`).
 *
 * Builds a file job store with N job descriptions (90% to run, 9% waiting for successors, 1% failed
 * for good, each with a small inline body), N worker stats messages in its mailbox and a bus log of
 * N issued + completed jobs, then times each command as its own process through the real `toil` bin
 * (best of 3, page cache warm) and reports its peak RSS. Target: under 5 s each at 100,000 jobs.
 * `--keep DIR` builds the store in DIR once and reuses it on later runs (for profiling with
 * `node --cpu-prof dist/cli.js status DIR/store`).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { MessageBus, jobCompleted, jobIssued } from "@toil/bus";
import { FileJobStore } from "@toil/filestore";
import { JobDescription, defaultConfig } from "@toil/job";

const here = path.dirname(fileURLToPath(import.meta.url));
const BIN = path.resolve(here, "../dist/cli.js");
const PROBE = path.join(here, "rss-probe.mjs");
const quick = process.argv.includes("--quick");
const N = quick ? 10_000 : 100_000;
const keepAt = process.argv.indexOf("--keep");
const keepDir = keepAt > 0 ? process.argv[keepAt + 1] : undefined;
const TARGET_S = 5;

async function buildStore(dir: string): Promise<string> {
  const root = path.join(dir, "store");
  const bus = path.join(dir, "bus.jsonl");
  const config = defaultConfig({ jobStore: root, stats: true, writeMessages: bus });
  const store = new FileJobStore(root, { durable: false });
  await store.initialize(config);
  const kinds = ["align", "sort", "merge", "call", "annotate"];
  const t0 = Date.now();
  let rootId = "";
  const BATCH = 5_000;
  for (let start = 0; start < N; start += BATCH) {
    const batch: JobDescription[] = [];
    for (let i = start; i < Math.min(N, start + BATCH); i++) {
      const kind = kinds[i % kinds.length]!;
      const d = new JobDescription({ jobName: kind, unitName: kind, displayName: `${kind} ${i}`, requirements: { cores: 1, memory: 2 ** 30, disk: 2 ** 30 } });
      store.assignJobId(d);
      if (i % 100 < 90) d.attachBody({ kind: "function", module: "file:///flows/genome.ts", exportName: kind, data: { args: [i, `chunk-${i}.bam`, { window: 1000 }] } });
      else if (i % 100 < 99) d.addChild(`child${String(i).padStart(16, "0")}`);
      else {
        d.assignConfig(config);
        while (d.remainingTryCount > 0) d.setupJobAfterFailure(1, "FAILED");
      }
      batch.push(d);
      if (i === 0) rootId = d.id;
    }
    await store.createJobs(batch);
  }
  await store.setRootJob(rootId);
  const tJobs = Date.now() - t0;

  const t1 = Date.now();
  for (let i = 0; i < N; i++) {
    const kind = kinds[i % kinds.length]!;
    await store.writeLogs(
      JSON.stringify({
        jobId: `job${i}`,
        jobName: kind,
        logsToLeader: [],
        jobs: [{ name: kind, jobId: `job${i}`, seconds: 1 + (i % 7), cpuSeconds: 0.5 + (i % 5) / 10, memoryKiB: 50_000 + (i % 1000), succeeded: i % 50 !== 0 }],
        succeeded: i % 50 !== 0,
      }),
    );
  }
  const tStats = Date.now() - t1;

  const mb = new MessageBus();
  const out = mb.connectOutputFile(bus);
  for (let i = 0; i < N; i++) {
    mb.publish(jobIssued({ jobId: `job${i}`, jobName: kinds[i % kinds.length]!, batchId: i }));
    if (i < N - 100) mb.publish(jobCompleted({ jobId: `job${i}`, jobName: kinds[i % kinds.length]!, exitCode: 0 }));
    if (i % 1000 === 999) mb.check();
  }
  mb.close();
  out.close?.();
  console.log(`built a ${N}-job store: descriptions ${(tJobs / 1000).toFixed(1)} s, stats messages ${(tStats / 1000).toFixed(1)} s`);
  return root;
}

function timeCommand(args: string[]): { seconds: number; cpuSeconds: number; rssMiB: number; out: string } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ["--import", pathToFileURL(PROBE).href, BIN, ...args], { encoding: "utf8", maxBuffer: 1 << 28 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`toil ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  const m = /BENCH_MAXRSS_KB=(\d+) BENCH_CPU_US=(\d+)/.exec(r.stderr);
  return { seconds, cpuSeconds: m ? Number(m[2]) / 1e6 : NaN, rssMiB: m ? Number(m[1]) / 1024 : NaN, out: r.stdout };
}

async function main(): Promise<void> {
  if (!fs.existsSync(BIN)) throw new Error(`${BIN} is missing: run pnpm build first`);
  const dir = keepDir ? path.resolve(keepDir) : fs.mkdtempSync(path.join(os.tmpdir(), "toil-ops-bench-"));
  try {
    let root = path.join(dir, "store");
    if (!keepDir || !fs.existsSync(path.join(root, "format.json"))) {
      fs.mkdirSync(dir, { recursive: true });
      root = await buildStore(dir);
    } else console.log(`reusing the store in ${root}`);
    const cases: [string, string[]][] = [
      ["--help (startup only)", ["--help"]],
      ["status", ["status", root]],
      ["status --status --json", ["status", root, "--status", "--json"]],
      ["stats", ["stats", root]],
      ["stats --raw", ["stats", root, "--raw"]],
    ];
    let failed = false;
    for (const [name, args] of cases) {
      let best = { seconds: Infinity, cpuSeconds: 0, rssMiB: 0, out: "" };
      for (let i = 0; i < 3; i++) {
        const r = timeCommand(args);
        if (r.seconds < best.seconds) best = r;
      }
      const ok = best.seconds < TARGET_S;
      if (!ok && !quick) failed = true;
      console.log(
        `toil ${name.padEnd(24)} ${N} jobs: ${best.seconds.toFixed(2)} s wall, ${best.cpuSeconds.toFixed(2)} s CPU, ` +
          `peak RSS ${best.rssMiB.toFixed(0)} MiB ` +
          `(${(N / best.seconds).toFixed(0)} jobs/s; target < ${TARGET_S} s${ok ? "" : " MISSED"})`,
      );
      if (name === "status") process.stdout.write(`  ${best.out.split("\n").slice(0, 2).join("\n  ")}\n`);
    }
    if (failed) process.exitCode = 1;
  } finally {
    if (!keepDir) fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();
