/**
 * A cold `toil-worker` (the built one: the module hooks exist only in the build) running a job of a
 * `.ts` workflow: the first worker loads it through Node's module hooks and records its imports, a
 * later one imports it without the hooks (no hooks thread to start), and a worker falls back to the
 * hooks when a file of the workflow changed or the module has an `import()` it cannot prove. Each
 * job writes what it saw, the way it was loaded included (`userModuleLoadPath`).
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, test } from "vitest";
import { FileJobStore } from "@toil/filestore";
import { Job, defaultConfig, importUserModule, prepareStart, saveJobGraph } from "@toil/job";

const WORKER_DIR = path.resolve(import.meta.dirname, "..");
const BUILT_CLI = path.join(WORKER_DIR, "dist", "cli.js");
// Inside the package, so that the workflow's `import ... from "@toil/job"` resolves.
const WORK = path.join(import.meta.dirname, "fixtures", `.direct-${process.pid}-${Math.random().toString(36).slice(2)}`);
const dirs: string[] = [WORK];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const FLOW = `import { writeFileSync } from "node:fs";
import { userModuleLoadPath } from "@toil/job";
import { factor } from "./lib.js";
export function record(out: string, n: number): number {
  writeFileSync(out, JSON.stringify({ value: n * factor, url: import.meta.url, path: userModuleLoadPath(import.meta.url) }));
  return n * factor;
}
`;

const DYNAMIC = `import { writeFileSync } from "node:fs";
import { userModuleLoadPath } from "@toil/job";
export async function computed(out: string): Promise<void> {
  const name: string = ["./lib", "js"].join(".");
  const lib = await import(name);
  writeFileSync(out, JSON.stringify({ value: lib.factor, url: import.meta.url, path: userModuleLoadPath(import.meta.url) }));
}
`;

interface Seen {
  value: number;
  url: string;
  path: string;
}

const execFileAsync = promisify(execFile);

/** Run `toil-worker <locator> <jobId>` (built) as its own process, with the cache `cache`; rejects (with its stderr) unless it exits 0. */
async function workerProcess(locator: string, jobId: string, cache: string): Promise<void> {
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_CACHE_HOME: cache };
  delete env.TOIL_WORKDIR;
  delete env.TOIL_DIRECT_IMPORT;
  await execFileAsync(process.execPath, [BUILT_CLI, locator, jobId], { cwd: WORKER_DIR, env });
}

describe.skipIf(!existsSync(BUILT_CLI))("a cold worker imports a recorded .ts workflow without the module hooks", () => {
  test("through the hooks first, then directly; the hooks again for an edited dependency and for a computed import()", { timeout: 180_000 }, async () => {
    const dir = path.join(WORK, "flow");
    mkdirSync(dir, { recursive: true });
    const cache = mkdtempSync(path.join(tmpdir(), "toil-worker-direct-cache-"));
    const storeDir = mkdtempSync(path.join(tmpdir(), "toil-worker-direct-"));
    dirs.push(cache, storeDir);
    const flowFile = path.join(dir, "flow.ts");
    writeFileSync(flowFile, FLOW);
    const dynamicFile = path.join(dir, "dynamic.ts");
    writeFileSync(dynamicFile, DYNAMIC);
    writeFileSync(path.join(dir, "lib.ts"), "export const factor: number = 2;\n");
    const config = prepareStart(defaultConfig({ jobStore: path.join(storeDir, "store"), workDir: storeDir }));
    const store = new FileJobStore(config.jobStore, { durable: false });
    await store.initialize(config);
    const flow = (await importUserModule(flowFile)) as { record: (out: string, n: number) => number };
    const dynamic = (await importUserModule(dynamicFile)) as { computed: (out: string) => Promise<void> };

    let n = 0;
    /** Store a job calling `fn`, run it in a fresh worker, and return what the job saw. */
    const runJob = async (fn: "record" | "computed"): Promise<Seen> => {
      const out = path.join(storeDir, `out-${n++}.json`);
      const root = fn === "record" ? Job.wrapFn(flow.record, out, 21) : Job.wrapFn(dynamic.computed, out);
      const { descriptions } = saveJobGraph(root);
      for (const d of descriptions) d.assignConfig(config);
      await store.createJobs(descriptions);
      await workerProcess(config.jobStore, root.jobStoreId, cache);
      return JSON.parse(readFileSync(out, "utf8")) as Seen;
    };
    const url = pathToFileURL(flowFile).href;

    expect(await runJob("record")).toEqual({ value: 42, url, path: "hooks" });
    expect(await runJob("record")).toEqual({ value: 42, url, path: "direct" });
    // The dependency changes between runs: never the copies of the old graph.
    writeFileSync(path.join(dir, "lib.ts"), "export const factor: number = 3;\n");
    expect(await runJob("record")).toEqual({ value: 63, url, path: "hooks" });
    expect(await runJob("record")).toEqual({ value: 63, url, path: "direct" });
    // A module with an import() of a computed specifier always loads through the hooks.
    const dynamicUrl = pathToFileURL(dynamicFile).href;
    expect(await runJob("computed")).toEqual({ value: 3, url: dynamicUrl, path: "hooks" });
    expect(await runJob("computed")).toEqual({ value: 3, url: dynamicUrl, path: "hooks" });
  });
});
