/**
 * SIGTERM and SIGINT (Ctrl-C) to the leader: it stops the jobs it issued (and what they started),
 * leaves the store ready, and exits with 3 (WorkflowInterruptedError; 1 stays "jobs failed").
 * `--restart` then finishes the workflow without rerunning what had finished.
 */
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { runToil, tempDir } from "../../src/index.js";
import { FLOWS, SMALL, alive, journal, processesWithEnv, until, workflowMarker } from "./process-common.js";

describe.each(["SIGTERM", "SIGINT"] as const)("%s to the leader", (signal) => {
  test("stops its jobs, exits 3, and --restart finishes the workflow", async () => {
    const d = tempDir("toil-signal-");
    const js = path.join(d, "js");
    const state = path.join(d, "state");
    const args = ["--", "sleepers", state, "3", "600000"];
    const keys = ["s0", "s1", "s2"];
    const r = await runToil(["run", FLOWS, "--jobStore", js, ...SMALL, "--clean", "never", ...args], {
      onSpawn: (child) => {
        void until("the jobs to start", () => keys.every((k) => existsSync(path.join(state, "pids", k))), { timeoutMs: 300_000, intervalMs: 20 }).then(() => child.kill(signal));
      },
    });
    expect(r.signal).toBeNull();
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain(`Received ${signal}`);
    expect(r.stderr).toMatch(/was stopped: received SIG(TERM|INT).*--restart to continue/s);
    // Its jobs, and the children they started, are gone, and nothing of the workflow runs on.
    const pids = keys.flatMap((k) => [k, `${k}.child`]).map((f) => Number(readFileSync(path.join(state, "pids", f), "utf8")));
    expect(pids.filter(alive)).toEqual([]);
    expect(processesWithEnv(workflowMarker(js))).toEqual([]);
    expect(journal(state).filter((l) => l.startsWith("end "))).toEqual([]);

    writeFileSync(path.join(state, "sleep-ms"), "0");
    const again = await runToil(["run", FLOWS, "--jobStore", js, "--restart", ...SMALL, "--clean", "never", ...args]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout.trim()).toBe('"s0,s1,s2"');
    const lines = journal(state);
    // The root had committed its children: it did not run again; each interrupted sleeper ran once more.
    expect(lines.filter((l) => l === "start root")).toHaveLength(1);
    for (const k of keys) {
      expect(lines.filter((l) => l === `start ${k}`)).toHaveLength(2);
      expect(lines.filter((l) => l === `end ${k}`)).toHaveLength(1);
    }
    // The restarted run ended and the store stays (--clean never): it folded the stopped run's
    // commit logs, and wrote no document for the jobs it finished since (they are deleted).
    const logDir = readdirSync(path.join(js, "log"));
    const marker = logDir.map((n) => /^folded-(\d+)$/.exec(n)?.[1]).find((g) => g !== undefined);
    expect(marker, logDir.join(" ")).toBeDefined();
    expect(logDir.filter((n) => Number(/^g(\d+)-/.exec(n)?.[1] ?? Infinity) < Number(marker))).toEqual([]);
    const jobsDir = path.join(js, "jobs");
    const folded = existsSync(jobsDir) ? readdirSync(jobsDir).flatMap((shard) => readdirSync(path.join(jobsDir, shard))) : [];
    expect(folded).toEqual([]);
    rmSync(d, { recursive: true, force: true });
  });
});
