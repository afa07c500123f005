/**
 * Jobs that misbehave as processes: one that hangs (`--maxJobDuration` kills it and the workflow
 * says so), and one that starts daemons (a detached child, a double fork, a new session): the
 * daemons die with the job, whether it is killed or returns normally.
 */
import { readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { runToil, tempDir } from "../../src/index.js";
import { FLOWS, SMALL, alive, journal, processesWithEnv, workflowMarker } from "./process-common.js";

/** Pids the fixture's daemons recorded, per attempt: <state>/daemons/<attempt>/<how>. */
function daemonPids(state: string): Map<string, number> {
  const out = new Map<string, number>();
  const root = path.join(state, "daemons");
  for (const attempt of readdirSync(root)) {
    for (const how of readdirSync(path.join(root, attempt))) {
      // An empty file: the daemon was killed between creating it and writing its pid.
      const pid = Number(readFileSync(path.join(root, attempt, how), "utf8"));
      if (pid > 0) out.set(`${attempt}/${how}`, pid);
    }
  }
  return out;
}

const HOW = ["detached", "doublefork", "setsid"];

describe("misbehaving jobs", () => {
  test("a hung job that started daemons: --maxJobDuration kills it and its daemons, retries, then reports it", async () => {
    const d = tempDir("toil-hang-");
    const js = path.join(d, "js");
    const state = path.join(d, "state");
    const r = await runToil([
      "run",
      FLOWS,
      "--jobStore",
      js,
      ...SMALL,
      "--clean",
      "never",
      // Long enough for a loaded machine to start the worker and import the workflow first.
      "--maxJobDuration",
      "10",
      "--rescueJobsFrequency",
      "0.5",
      "--retryCount",
      "1",
      "--",
      "daemons-hang",
      state,
    ]);
    expect(r.code).toBe(1);
    // Clear: which job, why, and what to do.
    expect(r.stderr).toMatch(/Job daemons \S+ has run \d+ s, longer than --maxJobDuration; killing it/);
    expect(r.stderr).toMatch(/1 failed job/);
    expect(r.stderr).toMatch(/- daemons \(\S+\): MAXJOBDURATION/);
    expect(r.stderr).toMatch(/--restart/);
    // It ran twice; when the retry started, the first try's daemons were already gone.
    const lines = journal(state);
    expect(lines.filter((l) => l === "start daemons-hang")).toHaveLength(2);
    expect(lines.filter((l) => l.startsWith("alive "))).toEqual([]);
    const pids = daemonPids(state);
    // The first try started daemons before it was killed (on a loaded machine a try may be killed
    // before it has started all three; those it started are checked).
    expect([...pids.keys()].some((k) => k.startsWith("1/")), "the first try started no daemon").toBe(true);
    expect([...pids.values()].filter(alive)).toEqual([]);
    expect(processesWithEnv(workflowMarker(js))).toEqual([]);
    rmSync(d, { recursive: true, force: true });
  });

  test("daemons of a job that returns normally die with it, before its follow-on runs", async () => {
    const d = tempDir("toil-daemons-");
    const js = path.join(d, "js");
    const state = path.join(d, "state");
    // The follow-on waits up to 60 s for the daemons to go (they go within a sweep, ~0.1 s).
    const r = await runToil(["run", FLOWS, "--jobStore", js, ...SMALL, "--clean", "never", "--disableChaining", "--", "daemons-exit", state, "60000"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([]);
    const pids = daemonPids(state);
    expect([...pids.keys()].sort()).toEqual(HOW.map((h) => `1/${h}`));
    expect([...pids.values()].filter(alive)).toEqual([]);
    expect(processesWithEnv(workflowMarker(js))).toEqual([]);
    rmSync(d, { recursive: true, force: true });
  });
});
