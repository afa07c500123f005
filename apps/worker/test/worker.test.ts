import { mkdtempSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { DeferredRegistry, WORKER_EXIT, runWorker } from "../src/index.js";

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

describe("deferred-function registry", () => {
  test("functions of a dead worker are claimed once by another", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "toil-deferred-"));
    // A state file left by a process that no longer exists.
    const ref = { module: "file:///nowhere.js", exportName: "cleanup", args: [], name: "cleanup" };
    writeFileSync(path.join(dir, "999999999-abcdef.json"), JSON.stringify({ pid: 999999999, refs: [ref] }));
    expect(await DeferredRegistry.orphans(dir)).toEqual([ref]);
    expect(await DeferredRegistry.orphans(dir)).toEqual([]);
    // Our own, live registry is not an orphan.
    const mine = new DeferredRegistry(dir);
    mine.add(ref);
    expect(existsSync(mine.file)).toBe(true);
    expect(await DeferredRegistry.orphans(dir)).toEqual([]);
    expect(await mine.take()).toEqual([ref]);
    expect(existsSync(mine.file)).toBe(false);
  });
});
