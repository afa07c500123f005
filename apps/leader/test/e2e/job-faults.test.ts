/**
 * An error a job's code leaves unhandled (a promise rejection nobody awaits, an exception thrown
 * from a timer) is that job's failure, as a person running `toil run` sees it: no Node crash dump
 * on the terminal, the job named, its log holding the error and the user's stack frames, shown by
 * `toil status --logs` and in the final report. In a warm host, a rejection that fires after its
 * job committed is reported against that job, does not fail the job running then, and the host is
 * replaced.
 */
import * as fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FIXTURES, runToil, tempDir } from "./helpers.js";

const FLOW = path.join(FIXTURES, "first-hour.ts");
const OPTS = ["--disableProgress", "--retryCount", "0", "--clean", "never"];
const tmp = tempDir("toil-job-faults-");
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** What every unhandled-error failure must look like on the leader's terminal and in the store. */
async function expectJobFailure(store: string, r: { code: number | null; stderr: string }, job: string, kind: RegExp, error: string, frame: RegExp): Promise<void> {
  expect(r.code, r.stderr).toBe(1);
  expect(r.stderr).not.toMatch(/^Node\.js v\d+/m); // Node's crash dump
  expect(r.stderr).not.toContain("left no log");
  expect(r.stderr).toMatch(kind);
  expect(r.stderr).toContain(error);
  expect(r.stderr).toMatch(frame);
  // The final report names the job and shows the error under it.
  const report = r.stderr.slice(r.stderr.indexOf("error [FailedJobsError]"));
  expect(report).toContain(`- ${job} (`);
  expect(report).toContain(error);
  // Engine frames are not shown to users.
  expect(report).not.toMatch(/at (runJob|executeJob|runWorker|run) \(/);
  const status = await runToil(["status", store, "--logs"]);
  expect(status.stdout).toContain(`=== log of ${job} (`);
  expect(status.stdout).toMatch(kind);
  expect(status.stdout).toContain(error);
  expect(status.stdout).toMatch(frame);
}

describe("an error a job leaves unhandled is that job's failure", () => {
  it("an unhandled promise rejection, in a warm host (the host is replaced)", async () => {
    const store = path.join(tmp, "reject");
    const r = await runToil(["run", FLOW, "--jobStore", store, ...OPTS, "--", "reject"]);
    await expectJobFailure(store, r, "Rejecter", /unhandled promise rejection/i, "unhandled rejection in Rejecter: nobody awaits this promise", /at rejectLater \(.*first-hour\.ts:\d+:\d+\)/);
    expect(r.stderr).toMatch(/Replacing warm worker host \d+: unhandled promise rejection in job 'Rejecter'/);
  }, 180_000);

  it("an uncaught exception from a timer, in a worker process of its own", async () => {
    const store = path.join(tmp, "throw");
    const r = await runToil(["run", FLOW, "--jobStore", store, ...OPTS, "--no-warmWorkers", "--", "throw"]);
    await expectJobFailure(store, r, "Thrower", /uncaught exception/i, "uncaught exception in Thrower's timer", /at Timeout\._onTimeout \(.*first-hour\.ts:\d+:\d+\)/);
  }, 180_000);

  it("a warm host: a rejection after its job committed is reported against that job, never fails the next, and the host is replaced", async () => {
    const store = path.join(tmp, "late");
    // One job at a time (each asks for 1 core), so they run one after another in the same warm host.
    const r = await runToil(["run", FLOW, "--jobStore", store, "--disableProgress", "--maxCores", "1", "--disableChaining", "--", "lateReject", path.join(tmp, "late-state")]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('"third"');
    expect(r.stderr).not.toMatch(/^Node\.js v\d+/m);
    const pid = (label: string): string => {
      const m = new RegExp(`${label} ran in pid (\\d+)`).exec(r.stderr);
      if (!m) throw new Error(`no pid of ${label} in:\n${r.stderr}`);
      return m[1]!;
    };
    // Reported against the job that created the timer, with the error and its frame.
    expect(r.stderr).toMatch(/ERROR Got message from job 'LeavesTimer' \S+: Job 'LeavesTimer' \S+ had already finished \(its results are kept\) when its code raised an unhandled promise rejection/);
    expect(r.stderr).toContain("Error: late rejection from LeavesTimer's timer");
    expect(r.stderr).toMatch(/at Timeout\.\S+ \(.*first-hour\.ts:\d+:\d+\)/);
    // It fired while the next job ran in the same process, and that job still succeeded.
    expect(pid("second")).toBe(pid("LeavesTimer"));
    expect(r.stderr).not.toMatch(/Job 'AfterTimer' \S+ v\d+ failed/);
    // The host was replaced: the job after runs in another process.
    expect(r.stderr).toMatch(new RegExp(`Replacing warm worker host ${pid("LeavesTimer")}: unhandled promise rejection in job 'LeavesTimer'`));
    expect(pid("third")).not.toBe(pid("LeavesTimer"));
  }, 180_000);
});
