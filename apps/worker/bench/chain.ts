/**
 * The worker's cost per chained link, without a leader: one runWorker call runs a whole chain of N
 * links (each the follow-on of the one before), committing each link.
 *
 *   node --import tsx bench/chain.ts [N=1000]
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { FileJobStore } from "@toil/filestore";
import { Job, defaultConfig, importWorkflowModule, prepareStart } from "@toil/job";
import { runWorker } from "../src/index.js";
import { saveRootJobForBench } from "./save-root.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const quick = process.argv.includes("--quick");
const n = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? (quick ? 200 : 1000));
const { link } = (await importWorkflowModule(path.join(here, "..", "..", "..", "tooling", "bench", "workflows", "chain.ts"))) as {
  link: (job: Job, i: number, n: number, out: string) => number;
};

async function measure(durable: boolean): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "toil-worker-chain-"));
  try {
    const locator = path.join(dir, "store");
    const store = new FileJobStore(locator, { durable });
    const config = prepareStart(defaultConfig({ jobStore: locator, workDir: dir }));
    await store.initialize(config);
    const out = path.join(dir, "out");
    const rootId = await saveRootJobForBench(store, config, Job.wrapJobFn(link, 0, n, out));
    const start = performance.now();
    const cpu = process.cpuUsage();
    if ((await runWorker([locator, rootId], { env: process.env, cwd: process.cwd() })) !== 0) throw new Error("the chain failed");
    const wall = (performance.now() - start) / n;
    const used = process.cpuUsage(cpu);
    if (readFileSync(out, "utf8") !== String(n)) throw new Error("the chain did not reach its end");
    console.log(`${durable ? "durable" : "not durable"}: ${n} links, ${wall.toFixed(3)} ms wall and ${((used.user + used.system) / 1000 / n).toFixed(3)} ms CPU per link`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await measure(false);
await measure(true);
