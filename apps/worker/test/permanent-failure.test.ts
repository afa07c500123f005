/**
 * A job that throws PermanentJobFailureError is left only the try the leader charges for this
 * failure, so the leader fails it for good at once; any other error leaves its tries as they were
 * (the leader retries it).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, expect, test } from "vitest";
import { FileJobStore } from "@toil/filestore";
import { Job, defaultConfig, importUserModule, prepareStart, saveJobGraph } from "@toil/job";

const WORKER_DIR = path.resolve(import.meta.dirname, "..");
const CLI = path.join(WORKER_DIR, "src", "cli.ts");
const FLOW = path.join(import.meta.dirname, "fixtures", "fail-flow.ts");
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function workerProcess(locator: string, jobId: string): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", CLI, locator, jobId], { cwd: WORKER_DIR, stdio: "ignore" });
    child.on("error", reject);
    child.on("close", resolve);
  });
}

async function triesLeftAfterFailure(fn: "failForGood" | "failOnce"): Promise<number> {
  const dir = mkdtempSync(path.join(tmpdir(), "toil-worker-permanent-"));
  dirs.push(dir);
  const config = prepareStart(defaultConfig({ jobStore: path.join(dir, "store"), workDir: dir, retryCount: 5 }));
  const store = new FileJobStore(config.jobStore, { durable: false });
  await store.initialize(config);
  const flow = (await importUserModule(FLOW)) as typeof import("./fixtures/fail-flow.js");
  const { descriptions } = saveJobGraph(Job.wrapFn(flow[fn]));
  for (const d of descriptions) d.assignConfig(config);
  await store.createJobs(descriptions);
  expect(await workerProcess(config.jobStore, descriptions[0]!.id)).not.toBe(0);
  const after = await store.loadJob(descriptions[0]!.id);
  after.assignConfig(config);
  return after.remainingTryCount;
}

test("a permanent failure leaves the job only the try this failure costs; any other failure leaves them to the leader", { timeout: 120_000 }, async () => {
  expect(await triesLeftAfterFailure("failForGood")).toBe(1);
  expect(await triesLeftAfterFailure("failOnce")).toBe(6);
});
