/**
 * What loading a fan-in job's description costs the process that loads it (the leader): a job that
 * takes the values N children promised (`addFollowOnFn(total, values)`, as the fanout benchmark's
 * follow-on) has a body of N promise references. `pnpm --filter @toil/filestore bench:fan-in [N]`
 * (default 1,000,000) writes one such description into a fresh store, then, in a new process, loads
 * it the way the leader does and prints the heap and RSS it holds afterwards and the peak RSS of the
 * load, and the same after an update of the description (a retry's).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { JobDescription, defaultConfig, prepareStart } from "@toil/job";
import { FileJobStore } from "../src/index.js";

const [mode, arg1, arg2] = process.argv.slice(2);
const MB = 1024 * 1024;

function peakRssBytes(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync("/proc/self/status", "utf8"));
  return m ? Number(m[1]) * 1024 : NaN;
}

function settled(): { heap: number; external: number; rss: number } {
  (globalThis as { gc?: () => void }).gc?.();
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, external: m.external, rss: m.rss };
}

if (mode === "load") {
  const [root, id] = [arg1!, arg2!];
  const store = new FileJobStore(root);
  await store.resume();
  await store.jobExists(id); // the view of the logs is read before the measurement
  const before = settled();
  const t0 = performance.now();
  const desc = await store.loadJob(id);
  const ms = performance.now() - t0;
  const peakLoad = peakRssBytes();
  const after = settled();
  desc.assignConfig(store.config);
  desc.setupJobAfterFailure(1);
  await store.updateJob(desc);
  const afterUpdate = settled();
  const fmt = (n: number) => `${(n / MB).toFixed(1)} MB`;
  console.log(
    `load: ${ms.toFixed(0)} ms; held after the load: heap +${fmt(after.heap - before.heap)}, external +${fmt(after.external - before.external)}, ` +
      `RSS +${fmt(after.rss - before.rss)}; peak RSS of the process ${fmt(peakLoad)} (${fmt(before.rss)} before the load)`,
  );
  console.log(`after an update: heap +${fmt(afterUpdate.heap - before.heap)}, peak RSS ${fmt(peakRssBytes())}; still has its body: ${desc.hasBody()}`);
  await store.close();
} else {
  const n = Number(mode ?? 1_000_000);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "toil-fan-in-"));
  try {
    const store = new FileJobStore(path.join(root, "js"));
    await store.initialize(prepareStart(defaultConfig({ jobStore: path.join(root, "js") })));
    const refs = Array.from({ length: n }, () => ({ $t: "p", j: `${Math.random().toString(36).slice(2, 12)}${"x".repeat(11)}`, p: [] }));
    const job = new JobDescription({ jobName: "total", requirements: { cores: 1, memory: "100Mi", disk: "1Mi" } });
    job.attachBody({ kind: "function", module: "file:///flows/fanout.ts", exportName: "total", data: { args: [refs, "/tmp/out"] } });
    store.assignJobId(job);
    await store.createJob(job);
    await store.close();
    console.log(`one description with ${n.toLocaleString("en-US")} promise references: ${(JSON.stringify(job.toJSON()).length / MB).toFixed(1)} MB of JSON`);
    const self = fileURLToPath(import.meta.url);
    const r = spawnSync(process.execPath, [...process.execArgv, "--expose-gc", self, "load", path.join(root, "js"), job.id], { stdio: "inherit" });
    process.exitCode = r.status ?? 1;
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}
