/**
 * The leader's recovery paths, through the real `toil` CLI and real worker processes: a job its
 * batch system lost (rescued after three missing checks), a job killed for exceeding its memory
 * (`--doubleMem`), and `toil kill`. The first two run on test/fixtures/test-batch-system.mjs, the
 * real single-machine batch system loaded by module path, with the two behaviours it lacks (it
 * neither loses jobs nor enforces memory) switched on by environment variables.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { FIXTURES, SMALL, runToil, tempDir } from "./helpers.js";

const FLOW = path.join(FIXTURES, "scenarios.ts");
const TEST_BATCH_SYSTEM = path.join(FIXTURES, "test-batch-system.mjs");
const FAST = [...SMALL, "--retryBackoffSeconds", "0"];

function busMessages(file: string): Array<{ type: string; jobName?: string; jobId?: string; exitReason?: string }> {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as { type: string });
}

function memoryRuns(dir: string): number[] {
  return readFileSync(path.join(dir, "hog.runs"), "utf8").trim().split("\n").map(Number);
}

describe("leader recovery", { timeout: 300_000 }, () => {
  test("a job the batch system lost is found missing three times, issued again, and the workflow finishes", async () => {
    const d = tempDir();
    const state = path.join(d, "state");
    const bus = path.join(d, "bus.jsonl");
    const r = await runToil(
      [
        "run", FLOW, "--jobStore", path.join(d, "js"), ...FAST,
        "--batchSystem", TEST_BATCH_SYSTEM, "--rescueJobsFrequency", "0.2", "--disableChaining", "--writeMessages", bus,
        "--", "lost", state,
      ],
      { env: { TOIL_TEST_LOSE_JOB: "lostChild" } },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toBe("found");
    // The batch system really lost it (its first issue never ran), and the rescue ran it once.
    expect(r.stderr).toMatch(/test batch system: lost job \d+ \("lostChild"\)/);
    expect(readFileSync(path.join(state, "lostChild.runs"), "utf8")).toBe("x");
    for (const n of [1, 2, 3]) expect(r.stderr).toContain(`is missing from the batch system (${n}/3)`);
    expect(r.stderr).toMatch(/Job 'lostChild' \S+ v\d+ failed with exit status 255 \(MISSING\)/);

    const messages = busMessages(bus);
    const missing = messages.filter((m) => m.type === "JobMissing");
    expect(missing).toHaveLength(3);
    expect(new Set(missing.map((m) => m.jobName))).toEqual(new Set(["lostChild"]));
    const lostId = missing[0]!.jobId;
    const issued = messages.filter((m) => m.type === "JobIssued" && m.jobId === lostId);
    expect(issued).toHaveLength(2);
    const updates = messages.filter((m) => m.type === "JobUpdated" && m.jobId === lostId);
    expect(updates.map((m) => m.exitReason)).toEqual(["MISSING", "FINISHED"]);
  });

  test("--doubleMem: a job killed for exceeding its memory runs again with twice the memory and succeeds", async () => {
    const d = tempDir();
    const state = path.join(d, "state");
    // Asks for 200 MiB and grows to 300 MiB resident: over the first limit, within the doubled one.
    const r = await runToil(
      ["run", FLOW, "--jobStore", path.join(d, "js"), ...FAST, "--batchSystem", TEST_BATCH_SYSTEM, "--doubleMem", "--", "memoryHog", state, "200Mi", "300"],
      { env: { TOIL_TEST_ENFORCE_MEMORY: "1" } },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/Job 'memoryHog' \S+ v\d+ failed \(MEMLIMIT, exit status 137\); 1 try left/);
    expect(memoryRuns(state)).toEqual([200 * 2 ** 20, 400 * 2 ** 20]);
    expect(Number(r.stdout.trim())).toBeGreaterThanOrEqual(300);
  });

  test("without --doubleMem the job is retried with the same memory and fails for good with MEMLIMIT", async () => {
    const d = tempDir();
    const state = path.join(d, "state");
    const r = await runToil(
      ["run", FLOW, "--jobStore", path.join(d, "js"), ...FAST, "--batchSystem", TEST_BATCH_SYSTEM, "--retryCount", "1", "--", "memoryHog", state, "200Mi", "300"],
      { env: { TOIL_TEST_ENFORCE_MEMORY: "1" } },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/memoryHog \(\S+\): MEMLIMIT, exit status 137/);
    expect(memoryRuns(state)).toEqual([200 * 2 ** 20, 200 * 2 ** 20]);
  });

  test("toil kill: the single-machine leader stops its jobs and exits 1, keeping the store for --restart", async () => {
    const d = tempDir();
    const js = path.join(d, "js");
    const bus = path.join(d, "bus.jsonl");
    const leader = runToil(["run", FLOW, "--jobStore", js, ...FAST, "--writeMessages", bus, "--", "sleeper", "600000", path.join(d, "never")]);
    // The leader runs once it has issued the sleeper.
    for (let i = 0; i < 1200 && !(existsSync(bus) && readFileSync(bus, "utf8").includes('"JobIssued"')); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const kill = await runToil(["kill", js]);
    expect(kill.code, kill.stderr).toBe(0);
    const ended = await leader;
    expect(ended.signal, ended.stderr).toBeNull();
    expect(ended.code, ended.stderr).toBe(1);
    // The kill flag normally stops it; on a very busy machine `toil kill`'s SIGTERM after 10 s may come first.
    expect(ended.stderr).toMatch(/was stopped (with `toil kill`|: received SIGTERM)/);
    expect(existsSync(js)).toBe(true);
    expect(existsSync(path.join(d, "never"))).toBe(false);
  });
});
