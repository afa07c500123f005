/**
 * SIGKILL the leader at random (seeded) moments across a 502-job workflow with files and promises,
 * `--restart` each time, until it finishes; then check the result, the run accounting, every file,
 * and the process table.
 *
 * The accounting rule. A run of a job is *committed* once its effects are visible in the store: its
 * successors exist (children, follow-ons) or its return value is read by a later job. Every job
 * records each run start (`runs/<key>`, one byte per run; `journal`, one line per run) before doing
 * anything, and its return value carries its attempt number. A kill may cut a run before its
 * commit; that run left nothing visible and the job runs again. What must hold:
 * - the committed run is the job's last: the attempt seen by the jobs after it equals the job's
 *   run count, and no run of a job starts after the first run of any of its successors;
 * - so every committed job ran exactly once after (and including) the run that committed, and
 *   runs before it were cut by a kill.
 *
 * Seeded: `TOIL_FAULTS_SEED=<n>` replays a failing sequence (the seed is printed on failure).
 * `TOIL_FAULTS_LONG=1` (pnpm --filter @toil/e2e test:long) kills 300 times instead of 50.
 * `TOIL_FAULTS_VERBOSE=1` prints every run (when it was killed, how long it took) on success too.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";
import type { TotalValue } from "../../fixtures/process/flows.js";
import { recordFigure, runToil, tempDir } from "../../src/index.js";
import { FLOWS, SMALL, alive, checkTree, journal, processesWithEnv, runToilDetached, seededRandom, until, workflowMarker } from "./process-common.js";

const LONG = process.env.TOIL_FAULTS_LONG === "1";
const KILLS = Number(process.env.TOIL_FAULTS_KILLS ?? (LONG ? 300 : 50));
const SEED = Number(process.env.TOIL_FAULTS_SEED ?? Math.floor(Math.random() * 2 ** 31));
const BRANCHES = 20;
const LEAVES = 23;

describe("leader SIGKILL at random moments, then --restart", () => {
  test(`${KILLS} kills across ${2 + 2 * BRANCHES + BRANCHES * LEAVES} jobs: right result, committed jobs ran once, no file lost, no orphan`, { timeout: LONG ? 3_600_000 : 900_000 }, async () => {
    const rand = seededRandom(SEED);
    const d = tempDir("toil-leader-kill-");
    const opts = [...SMALL, "--clean", "never"];
    const log: string[] = [];
    let kills = 0;
    let runs = 0;
    let reruns = 0;
    let verified = 0;
    let round = 0;
    try {
      // A workflow that finishes before every kill was spent is checked, and a new one started in a
      // new store, until all the kills landed (a fast build finishes the workflow in fewer of them).
      while (kills < KILLS) {
        const js = path.join(d, `js${round}`);
        const state = path.join(d, `state${round}`);
        round++;
        let result: TotalValue | undefined;
        while (!result) {
          const restart = existsSync(path.join(js, "format.json")) ? ["--restart"] : [];
          if (restart.length === 0) rmSync(js, { recursive: true, force: true });
          const kill = kills < KILLS;
          // Most kills land after a few more job starts (mid-job, mid-commit); the rest at a random
          // time since the start (often while the leader starts up or restart cleans the store).
          const afterStarts = rand() < 0.6 ? 1 + Math.floor(rand() * 12) : 0;
          const afterMs = Math.floor(rand() * (afterStarts > 0 ? 40 : 2_000));
          const startLines = journal(state).length;
          const began = Date.now();
          let poll: NodeJS.Timeout | undefined;
          let timer: NodeJS.Timeout | undefined;
          const r = await runToilDetached(["run", FLOWS, "--jobStore", js, ...restart, ...opts, "--", "tree", state, String(BRANCHES), String(LEAVES)], d, (child) => {
            if (!kill) return;
            const fire = () => (timer = setTimeout(() => child.kill("SIGKILL"), afterMs));
            if (afterStarts === 0) return fire();
            poll = setInterval(() => {
              if (journal(state).length >= startLines + afterStarts) {
                clearInterval(poll);
                fire();
              }
            }, 5);
          });
          clearInterval(poll);
          clearTimeout(timer);
          runs++;
          log.push(`run ${runs}: ${restart.length ? "restart" : "start"}, kill ${kill ? (afterStarts ? `${afterStarts} starts + ${afterMs} ms` : `${afterMs} ms`) : "none"} -> ${r.signal ?? r.code} after ${Date.now() - began} ms`);
          if (r.signal === "SIGKILL") {
            kills++;
            continue;
          }
          if (r.code === 2 && restart.length > 0 && /never started/.test(r.stderr)) {
            // Killed after the store was made but before the root job was saved: nothing ran yet.
            rmSync(js, { recursive: true, force: true });
            continue;
          }
          expect(r.code, r.stderr.slice(-4000)).toBe(0);
          result = JSON.parse(r.stdout) as TotalValue;
        }

        const checked = await checkTree(state, js, result, BRANCHES, LEAVES);
        reruns += checked.reruns;
        verified += checked.verified;

        // No process of the workflow survives: none carries its marker.
        expect(processesWithEnv(workflowMarker(js))).toEqual([]);
      }
      expect(kills).toBe(KILLS);

      recordFigure({ suite: "faults/process", name: "leader kills survived", value: kills });
      recordFigure({ suite: "faults/process", name: "bytes verified after leader kills", value: verified, unit: "bytes" });
      recordFigure({ suite: "faults/process", name: "job runs cut by leader kills and rerun", value: reruns });
      if (process.env.TOIL_FAULTS_VERBOSE === "1") console.log(log.join("\n"));
      rmSync(d, { recursive: true, force: true });
    } catch (err) {
      console.error(`leader-kill: seed ${SEED} (replay with TOIL_FAULTS_SEED=${SEED}); work dir ${d}\n${log.join("\n")}`);
      throw err;
    }
  });

  test("a restart stops the workers a killed leader left running before it runs any job", async () => {
    const d = tempDir("toil-leader-orphans-");
    const js = path.join(d, "js");
    const state = path.join(d, "state");
    // Cold workers (a fresh process per job) outlive their leader; each sleeper also starts a child.
    const opts = [...SMALL, "--no-warmWorkers", "--clean", "never"];
    const args = ["--", "sleepers", state, "3", "600000"];
    // (Output to files: the orphans keep the killed leader's stdout and stderr open.)
    const first = runToilDetached(["run", FLOWS, "--jobStore", js, ...opts, ...args], d, (child) => {
      void until("the first jobs to start", () => ["s0", "s1", "s2"].every((k) => existsSync(path.join(state, "pids", k))), { timeoutMs: 300_000, intervalMs: 20 }).then(() => child.kill("SIGKILL"));
    });
    expect((await first).signal).toBe("SIGKILL");
    const pidOf = (name: string) => Number(readFileSync(path.join(state, "pids", name), "utf8"));
    const orphans = ["s0", "s1", "s2"].flatMap((k) => [pidOf(k), pidOf(`${k}.child`)]);
    // The killed leader's workers and their children are still running, and carry the workflow's marker.
    expect(orphans.filter(alive)).toEqual(orphans);
    const marked = processesWithEnv(workflowMarker(js));
    for (const pid of orphans) expect(marked).toContain(pid);

    // The reruns check, when they start, that every one of those processes is gone.
    writeFileSync(path.join(state, "watch"), orphans.join("\n"));
    writeFileSync(path.join(state, "sleep-ms"), "0");
    const r = await runToil(["run", FLOWS, "--jobStore", js, "--restart", ...opts, ...args]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('"s0,s1,s2"');
    expect(r.stderr).toMatch(/Stopped \d+ processes a previous leader of this workflow left running/);
    const lines = journal(state);
    expect(lines.filter((l) => l.startsWith("alive "))).toEqual([]);
    // Each sleeper ran twice (the first run was cut) and finished once; the root ran once.
    for (const k of ["s0", "s1", "s2"]) {
      expect(lines.filter((l) => l === `start ${k}`)).toHaveLength(2);
      expect(lines.filter((l) => l === `end ${k}`)).toHaveLength(1);
    }
    expect(lines.filter((l) => l === "start root")).toHaveLength(1);
    expect(orphans.filter(alive)).toEqual([]);
    expect(processesWithEnv(workflowMarker(js))).toEqual([]);
    rmSync(d, { recursive: true, force: true });
  });
});
