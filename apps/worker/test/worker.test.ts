import { execFileSync } from "node:child_process";
import { mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { DamagedJobError, FileJobStore, NoSuchJobError } from "@toil/filestore";
import { defaultConfig, prepareStart } from "@toil/job";
import { WORKER_EXIT, isMainModule, runWorker } from "../src/index.js";
import { prepareJob } from "../src/prepare-job.js";
import { startRun } from "../src/worker-run.js";

const io = { env: {}, cwd: process.cwd() };

describe("toil-worker exit codes", () => {
  test("a missing job store is exit 76 with a message about shared filesystems", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "toil-worker-"));
    const code = await runWorker([path.join(dir, "nope"), "someJob"], io);
    expect(code).toBe(WORKER_EXIT.NO_JOB_STORE);
    expect(WORKER_EXIT.NO_JOB_STORE).toBe(76);
  });

  test("a bad command line is exit 2", async () => {
    expect(await runWorker([], io)).toBe(WORKER_EXIT.USAGE);
    expect(await runWorker(["only-one"], io)).toBe(WORKER_EXIT.USAGE);
  });
});

async function newStore(): Promise<FileJobStore> {
  const dir = mkdtempSync(path.join(tmpdir(), "toil-worker-"));
  const config = prepareStart(defaultConfig({ jobStore: path.join(dir, "store"), workDir: dir }));
  const store = new FileJobStore(config.jobStore, { durable: false });
  await store.initialize(config);
  return store;
}

describe("a job that is not there", () => {
  test("a job gone from the store is nothing to do, and the process gets its output back (a warm host runs the next job)", async () => {
    const store = await newStore();
    const out = execFileSync(process.execPath, ["--conditions=source", "--import", "tsx", path.join(import.meta.dirname, "fixtures", "empty-run.ts"), store.locator], {
      cwd: path.resolve(import.meta.dirname, ".."),
      encoding: "utf8",
    });
    expect(out).toContain(`code=${WORKER_EXIT.OK} restored=true`);
  });

  test("a damaged job description is not a job that is gone: preparing it fails with the damage", async () => {
    const store = await newStore();
    const damaged = Object.assign(Object.create(store) as FileJobStore, {
      loadJob: async (id: string) => {
        throw new DamagedJobError(id, path.join(store.locator, "jobs", id), "checksum mismatch");
      },
    });
    const run = startRun(damaged, "a-job", { env: {}, cwd: process.cwd(), inProcess: true });
    try {
      const err = await prepareJob(run).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DamagedJobError);
      expect(err).toBeInstanceOf(NoSuchJobError);
    } finally {
      run.restoreProcess();
      run.capture.close();
    }
  });
});

describe("isMainModule (the toil-worker scripts' entry check)", () => {
  test("true only for the script the process was started with, also through a symlink", () => {
    const me = fileURLToPath(import.meta.url);
    expect(isMainModule(import.meta.url, [process.execPath, me])).toBe(true);
    const link = path.join(mkdtempSync(path.join(tmpdir(), "toil-main-")), "toil-worker");
    symlinkSync(me, link);
    expect(isMainModule(import.meta.url, [process.execPath, link])).toBe(true);
    expect(isMainModule(import.meta.url, [process.execPath, path.join(path.dirname(me), "nope.js")])).toBe(false);
    expect(isMainModule(import.meta.url, [process.execPath])).toBe(false);
  });
});
