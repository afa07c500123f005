/**
 * Services under faults (after Toil's jobServiceTest): chains of services whose parent service is
 * another service, chains side by side, and random DAGs where every job has a service a job talks
 * to. Workflows: fixtures/process/services.ts.
 *
 * A run always ends by itself, and with the services it started stopped: a service that fails for
 * good stops its client's other services and fails the client; a job that fails for good releases
 * every job waiting for one below it; a run where only services are left running ends after
 * --deadlockWait. Each run here gets a kill timer far above what it needs, so a leader that waits
 * forever shows up as a killed run. `--restart`, with the faults passed again, then finishes the
 * workflow.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { dagParents } from "../../fixtures/process/services.js";
import { REPO_ROOT, recordFigure, runToil, tempDir, type RunResult } from "../../src/index.js";
import { journal, processesWithEnv, workflowMarker } from "./process-common.js";

const SERVICES = path.join(REPO_ROOT, "tooling", "e2e", "fixtures", "process", "services.ts");

/** Small jobs and room for every service and client of these workflows at once (services mostly sleep). */
const OPTIONS = [
  "--maxJobs",
  "16",
  "--defaultMemory",
  "64Mi",
  "--defaultDisk",
  "8Mi",
  "--defaultCores",
  "0.1",
  "--disableProgress",
  "--logLevel",
  "warning",
  "--retryBackoffSeconds",
  "0",
  "--clean",
  "never",
];

/** Far above what any run here needs: a run this long has hung (the test then fails). */
const HANG_MS = 150_000;

interface Workflow {
  js: string;
  state: string;
  args: string[];
}

function workflow(args: string[]): Workflow {
  const d = tempDir("toil-services-");
  return { js: path.join(d, "js"), state: path.join(d, "state"), args };
}

/** One run (or restart) of `w`; checks that the leader ended by itself and left no process behind. */
async function run(w: Workflow, options: string[], restart = false): Promise<RunResult> {
  const r = await runToil(
    ["run", SERVICES, "--jobStore", w.js, ...(restart ? ["--restart"] : []), ...OPTIONS, ...options, "--", w.args[0]!, w.state, ...w.args.slice(1)],
    { timeoutMs: HANG_MS },
  );
  expect(r.signal, `the leader did not end by itself:\n${r.stderr.slice(-3000)}`).toBeNull();
  expect(processesWithEnv(workflowMarker(w.js)), "processes of the workflow are still running").toEqual([]);
  return r;
}

/** Make a service or DAG job fail on every try (until {@link mend}). */
function breakJob(w: Workflow, name: string): void {
  mkdirSync(path.join(w.state, "broken"), { recursive: true });
  writeFileSync(path.join(w.state, "broken", name), "");
}

function mend(w: Workflow, name: string): void {
  rmSync(path.join(w.state, "broken", name), { force: true });
}

/** What each client heard from its service (`<stateDir>/out/<client>`). */
function heard(w: Workflow, clients: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of clients) {
    try {
      out[c] = readFileSync(path.join(w.state, "out", c), "utf8");
    } catch {
      out[c] = "(nothing)";
    }
  }
  return out;
}

/** Client `cX.i` of a chain talks to service `cX.i.svc`. */
function chainAnswers(chains: number, length: number): Record<string, string> {
  const want: Record<string, string> = {};
  for (let c = 0; c < chains; c++) for (let i = 0; i < length; i++) want[`c${c}.${i}`] = `c${c}.${i}.svc`;
  return want;
}

/** Node j talks to its first parent's service, and its client `use<j>` to its own. */
function dagAnswers(seed: number, size: number): Record<string, string> {
  const want: Record<string, string> = {};
  dagParents(seed, size).forEach((parents, j) => {
    want[`use${j}`] = `n${j}.svc`;
    if (j > 0) want[`n${j}`] = `n${parents[0]}.svc`;
  });
  return want;
}

/** A run that failed for good, as a FailedJobsError (not a deadlock). */
function expectFailedJobs(r: RunResult): void {
  expect(r.code, r.stderr.slice(-3000)).toBe(1);
  expect(r.stderr).toMatch(/error \[FailedJobsError\]/);
  expect(r.stderr).not.toMatch(/DeadlockError/);
}

/**
 * Run, then restart (passing `faults` again each time) until the workflow finishes; every run must
 * end by itself, either done or with jobs failed for good. Returns the number of runs.
 */
async function restartUntilDone(w: Workflow, faults: string[], maxRuns = 30): Promise<number> {
  let last: RunResult | undefined;
  for (let runs = 1; runs <= maxRuns; runs++) {
    last = await run(w, faults, runs > 1);
    if (last.code === 0) return runs;
    expectFailedJobs(last);
  }
  throw new Error(`the workflow did not finish in ${maxRuns} runs; the last ended with:\n${last?.stderr.slice(-3000)}`);
}

describe("a service that fails for good", { timeout: 300_000 }, () => {
  // --deadlockWait 600: only the client failing, not the deadlock watch, can end these runs in time.
  test("after its parent service is up: the parent stops, the client fails; --restart finishes", async () => {
    const w = workflow(["chains", "1", "3"]);
    breakJob(w, "c0.1.svc");
    const r = await run(w, ["--retryCount", "0", "--deadlockWait", "600"]);
    expectFailedJobs(r);
    expect(r.stderr).toMatch(/A service of job 'chains' \S+ v\d+ failed for good: stopping its other services/);
    const lines = journal(w.state);
    expect(lines).toContain("start c0.0.svc");
    // The parent was told to stop (its stop() ran), not killed with the leader's other jobs.
    expect(lines).toContain("stop c0.0.svc");
    expect(lines).not.toContain("start c0.2.svc");
    mend(w, "c0.1.svc");
    const again = await run(w, ["--retryCount", "0"], true);
    expect(again.code, again.stderr.slice(-3000)).toBe(0);
    expect(heard(w, Object.keys(chainAnswers(1, 3)))).toEqual(chainAnswers(1, 3));
  });

  test("before its parent is up, beside another chain: the other chain's service stops, the client fails; --restart finishes", async () => {
    const w = workflow(["chains", "2", "3"]);
    breakJob(w, "c0.0.svc");
    const r = await run(w, ["--retryCount", "0", "--deadlockWait", "600"]);
    expectFailedJobs(r);
    const lines = journal(w.state);
    expect(lines).toContain("stop c1.0.svc");
    expect(lines.filter((l) => /^start c.\.[12]\.svc$/.test(l))).toEqual([]);
    mend(w, "c0.0.svc");
    const again = await run(w, ["--retryCount", "0"], true);
    expect(again.code, again.stderr.slice(-3000)).toBe(0);
    expect(heard(w, Object.keys(chainAnswers(2, 3)))).toEqual(chainAnswers(2, 3));
  });
});

describe("a job that fails for good in a DAG with services", { timeout: 300_000 }, () => {
  test("below a job with two parents: the other parent's services stop and the run ends; --restart finishes", async () => {
    // Seed 5: n0 -> n1, n3; n1 -> n2; n2 -> n4; n4 and n3 -> n5. With n2 failing, n4 never runs,
    // so n5 never can, and n3 (its other parent, whose service runs) must not wait for it.
    expect(dagParents(5, 6)).toEqual([[], [0], [1], [0], [2], [4, 3]]);
    const w = workflow(["dag", "5", "6"]);
    breakJob(w, "n2");
    const r = await run(w, ["--retryCount", "0", "--deadlockWait", "600"]);
    expectFailedJobs(r);
    const lines = journal(w.state);
    expect(lines).not.toContain("run n4");
    expect(lines).not.toContain("run n5");
    expect(lines).toContain("stop n3.svc");
    expect(lines).toContain("stop n0.svc");
    mend(w, "n2");
    const again = await run(w, ["--retryCount", "0"], true);
    expect(again.code, again.stderr.slice(-3000)).toBe(0);
    expect(heard(w, Object.keys(dagAnswers(5, 6)))).toEqual(dagAnswers(5, 6));
  });

});

describe("only services left running", { timeout: 300_000 }, () => {
  // Seed 1: n0 -> n1, n2; n1 -> n4; n2 -> n3 -> n5. The chain n0, n2, n3, n5 needs its four
  // services and the client of n5's service at once: five job slots, one more than --maxJobs 4.
  test("their clients waiting for job slots: a deadlock error names the limit", async () => {
    expect(dagParents(1, 6)).toEqual([[], [0], [0], [2], [1], [3]]);
    const w = workflow(["dag", "1", "6"]);
    const r = await run(w, ["--maxJobs", "4", "--retryCount", "0", "--deadlockWait", "3"]);
    expect(r.code, r.stderr.slice(-3000)).toBe(1);
    expect(r.stderr).toMatch(/error \[DeadlockError\]: The workflow is service deadlocked: for 3 s only services have been running \(4\)/);
    expect(r.stderr).toMatch(/--maxJobs/);
  });

  test("after a job failed for good: the services are stopped and the run fails", async () => {
    const w = workflow(["dag", "1", "6"]);
    breakJob(w, "n1");
    const r = await run(w, ["--maxJobs", "4", "--retryCount", "0", "--deadlockWait", "3"]);
    expectFailedJobs(r);
    // Which way the services end depends on how far n2's chain got when n1 failed: either they
    // outlive every client and the deadlock check stops them, or the failure reaches their clients
    // first and each is stopped with them. Either way none is left and the run fails.
    expect(r.stderr).toMatch(
      /for 3 s only services have been running \(4\).*so the remaining services were stopped|was stopped because the jobs using its service failed/,
    );
  });
});

describe("services under bad workers, restarted until done", { timeout: 600_000 }, () => {
  // Toil's testServiceRecursive: a chain of three services, each the parent of the next.
  test("a chain of services (--badWorker 0.5 --retryCount 1)", async () => {
    const w = workflow(["chains", "1", "3"]);
    const runs = await restartUntilDone(w, ["--retryCount", "1", "--badWorker", "0.5", "--badWorkerFailInterval", "0.1", "--deadlockWait", "10"]);
    expect(heard(w, Object.keys(chainAnswers(1, 3)))).toEqual(chainAnswers(1, 3));
    recordFigure({ suite: "faults/services", name: "runs to finish a service chain under bad workers", value: runs });
  });

  // Toil's testServiceParallelRecursive (it passes retryCount 2 too: six services must all come up in one run).
  test("two chains side by side (--badWorker 0.5 --retryCount 2)", async () => {
    const w = workflow(["chains", "2", "3"]);
    const runs = await restartUntilDone(w, ["--retryCount", "2", "--badWorker", "0.5", "--badWorkerFailInterval", "0.1", "--deadlockWait", "10"]);
    expect(heard(w, Object.keys(chainAnswers(2, 3)))).toEqual(chainAnswers(2, 3));
    recordFigure({ suite: "faults/services", name: "runs to finish parallel service chains under bad workers", value: runs });
  });

  // Seed 5 has the shape above (a job with two parents, below a job that can fail): such runs hung
  // whenever the faults made that job fail for good. Every job of seed 1 waits on one parent.
  test.each([1, 4, 5])("a random DAG where every job has a service, seed %i (--badWorker 0.25 --retryCount 1)", async (seed) => {
    const w = workflow(["dag", String(seed), "6"]);
    const runs = await restartUntilDone(w, ["--retryCount", "1", "--badWorker", "0.25", "--badWorkerFailInterval", "0.1", "--deadlockWait", "10"]);
    expect(heard(w, Object.keys(dagAnswers(seed, 6)))).toEqual(dagAnswers(seed, 6));
    recordFigure({ suite: "faults/services", name: `runs to finish the service DAG of seed ${seed} under bad workers`, value: runs });
  });
});
