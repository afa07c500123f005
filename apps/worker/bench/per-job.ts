/**
 * The worker's own cost per job, without a leader or a batch system: a fan-out root runs in this
 * process through runWorker (as a warm host would run it), then each of its N trivial children, one
 * after the other. Prints wall and CPU per child job, with the store durable (as in production) and
 * not (the code's own cost, without waiting for the disk).
 *
 *   node --import tsx bench/per-job.ts [N=2000] [--profile-only]
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { FileJobStore } from "@toil/filestore";
import { Job, defaultConfig, importWorkflowModule, prepareStart } from "@toil/job";
import { runWorker } from "../src/index.js";
import { saveRootJobForBench } from "./save-root.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const quick = process.argv.includes("--quick");
const n = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? (quick ? 300 : 2000));
const { fanout } = (await importWorkflowModule(path.join(here, "..", "..", "..", "tooling", "bench", "workflows", "fanout.ts"))) as {
  fanout: (job: Job, n: number, out: string, counter: string | null) => number;
};

async function measure(durable: boolean): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "toil-worker-bench-"));
  try {
    const locator = path.join(dir, "store");
    const store = new FileJobStore(locator, { durable });
    const config = prepareStart(defaultConfig({ jobStore: locator, workDir: dir }));
    await store.initialize(config);
    const rootId = await saveRootJobForBench(store, config, Job.wrapJobFn(fanout, n, path.join(dir, "sum"), null));
    const io = { env: process.env, cwd: process.cwd() };
    if ((await runWorker([locator, rootId], io)) !== 0) throw new Error("the root job failed");
    const children = (await store.loadJob(rootId)).childIds;
    const start = performance.now();
    const cpu = process.cpuUsage();
    for (const id of children) if ((await runWorker([locator, id], io)) !== 0) throw new Error(`job ${id} failed`);
    const wall = (performance.now() - start) / children.length;
    const used = process.cpuUsage(cpu);
    const cpuMs = (used.user + used.system) / 1000 / children.length;
    console.log(`${durable ? "durable" : "not durable"}: ${children.length} jobs, ${wall.toFixed(3)} ms wall and ${cpuMs.toFixed(3)} ms CPU per job`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await measure(false);
await measure(true);
