/**
 * End to end: a real workflow in a real job store, each job run by its own `toil-worker` process
 * (the CLI from source), with the workflow's `caching` option on and off. With caching, both reads
 * of a job and the reads of the next job (another worker process on this node) are links to one
 * cached copy, downloaded once; without it, every read links straight to the job store's file.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { FileJobStore } from "@toil/filestore";
import { Job, defaultConfig, importUserModule, prepareStart, saveJobGraph, type FileID } from "@toil/job";
import type { ReadReport } from "./fixtures/cache-flow.js";

const WORKER_DIR = path.resolve(import.meta.dirname, "..");
const CLI = path.join(WORKER_DIR, "src", "cli.ts");
const FLOW = path.join(import.meta.dirname, "fixtures", "cache-flow.ts");
const dirs: string[] = [];

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Run `toil-worker <locator> <jobId>` as its own process; resolves to its exit code and stderr. */
function workerProcess(locator: string, jobId: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    delete env.TOIL_WORKDIR;
    const child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", CLI, locator, jobId], {
      cwd: WORKER_DIR,
      env,
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stderr }));
  });
}

/** Every regular file under `dir` (recursively). */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

interface Run {
  store: FileJobStore;
  fileId: FileID;
  workflowDir: string;
  cacheDir: string;
  reports: Record<"a" | "b", ReadReport>;
  messages: string[];
  reportDir: string;
}

/** Save the workflow, run the root and then each reader in its own worker process. */
async function runFlow(caching: boolean): Promise<Run> {
  const dir = mkdtempSync(path.join(tmpdir(), "toil-worker-e2e-"));
  dirs.push(dir);
  const locator = path.join(dir, "store");
  const reportDir = path.join(dir, "reports");
  const workDir = path.join(dir, "work");
  mkdirSync(reportDir);
  mkdirSync(workDir);
  const config = prepareStart(
    defaultConfig({ jobStore: locator, workDir, caching, defaultDisk: 1024 * 1024 }),
  );
  const store = new FileJobStore(locator, { durable: false });
  await store.initialize(config);

  const flow = (await importUserModule(FLOW)) as typeof import("./fixtures/cache-flow.js");
  const root = Job.wrapJobFn(flow.writeThenRead, "the same bytes, read four times", reportDir);
  const { descriptions } = saveJobGraph(root);
  for (const d of descriptions) d.assignConfig(config);
  await store.createJobs(descriptions);
  await store.setRootJob(root.jobStoreId);

  const first = await workerProcess(locator, root.jobStoreId);
  expect(first.code, first.stderr).toBe(0);
  const fileId = JSON.parse(await store.readResult(root.jobStoreId)) as FileID;
  const readers = [...((await store.loadJob(root.jobStoreId)).nextSuccessors() ?? [])];
  expect(readers).toHaveLength(2);
  for (const id of readers) {
    const r = await workerProcess(locator, id);
    expect(r.code, r.stderr).toBe(0);
  }

  const messages: string[] = [];
  await store.peekLogs((m) => void messages.push(m.data.toString("utf8")));
  const workflowDir = path.join(workDir, `toilwf-${config.workflowId}`);
  const read = (name: "a" | "b") => JSON.parse(readFileSync(path.join(reportDir, `${name}.json`), "utf8")) as ReadReport;
  return {
    store,
    fileId,
    workflowDir,
    cacheDir: path.join(workflowDir, `cache-${config.workflowId}`),
    reports: { a: read("a"), b: read("b") },
    messages,
    reportDir: reportDir,
  };
}

function checkCommon(run: Run): void {
  for (const name of ["a", "b"] as const) {
    const r = run.reports[name];
    expect(r.text).toBe("the same bytes, read four times");
    expect(r.paths[0]).not.toBe(r.paths[1]);
    // The report reached the leader's mailbox, tagged with the job that logged it.
    expect(run.messages.some((m) => m.includes(`reader ${name} read`) && m.includes('"jobName"'))).toBe(true);
    // Deferred functions registered through the file store ran after the job.
    expect(readFileSync(path.join(run.reportDir, `${name}.deferred`), "utf8")).toBe("done");
  }
}

describe("toil-worker runs jobs with @toil/filestore's file stores", { timeout: 180_000 }, () => {
  test("caching on: every read of the file on this node is a link to one cached copy", async () => {
    const run = await runFlow(true);
    checkCommon(run);
    const { a, b } = run.reports;
    const cachedInode = a.inodes[0];
    // Both reads of a job, and the reads of the next job's worker process, share one inode...
    expect([...a.inodes, ...b.inodes]).toEqual([cachedInode, cachedInode, cachedInode, cachedInode]);
    // ...which is the node cache's copy (downloaded once), not the job store's file.
    const cached = filesUnder(run.cacheDir);
    expect(cached.map((f) => statSync(f).ino)).toEqual([cachedInode]);
    expect(statSync(run.store.storedPath(run.fileId)).ino).not.toBe(cachedInode);
    expect(a.links).toBeGreaterThanOrEqual(3); // the cached copy + this job's two reads
    const state = JSON.parse(readFileSync(path.join(run.workflowDir, "cache-state.json"), "utf8")) as {
      files: Record<string, { path: string; state: string }>;
    };
    expect(Object.values(state.files)).toEqual([expect.objectContaining({ path: cached[0], state: "cached" })]);
  });

  test("caching off: reads link straight to the job store's file and no cache is made", async () => {
    const run = await runFlow(false);
    checkCommon(run);
    const stored = statSync(run.store.storedPath(run.fileId)).ino;
    const { a, b } = run.reports;
    expect([...a.inodes, ...b.inodes]).toEqual([stored, stored, stored, stored]);
    expect(existsSync(run.cacheDir)).toBe(false);
    expect(existsSync(path.join(run.workflowDir, "cache-state.json"))).toBe(false);
  });

  test("a failed job's accessed files reach the leader's log", async () => {
    const run = await runFlow(false);
    const flow = (await importUserModule(FLOW)) as typeof import("./fixtures/cache-flow.js");
    const failing = Job.wrapJobFn(flow.readThenFail, run.fileId);
    const { descriptions } = saveJobGraph(failing);
    for (const d of descriptions) d.assignConfig(run.store.config);
    await run.store.createJobs(descriptions);
    const r = await workerProcess(run.store.locator, failing.jobStoreId);
    expect(r.code).toBe(1);
    const messages: string[] = [];
    await run.store.peekLogs((m) => void messages.push(m.data.toString("utf8")));
    const report = messages.find((m) => m.includes("Failed job accessed files"));
    expect(report, messages.join("\n")).toBeDefined();
    expect(report).toContain(run.fileId);
    expect(report).toContain("input.txt");
    // The worker's log (with the error) is attached to the job for the leader to print.
    const logId = (await run.store.loadJob(failing.jobStoreId)).logFileId;
    expect(logId).toBeDefined();
  });
});
