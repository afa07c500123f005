import { mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { WORKER_EXIT, isMainModule, runWorker } from "../src/index.js";

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
