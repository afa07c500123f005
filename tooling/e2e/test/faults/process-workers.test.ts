/**
 * Worker faults: worker processes SIGKILLed from outside in the middle of a run, and `--badWorker`
 * (each worker kills itself with probability 0.5). The workflow finishes within its retries with
 * the right result, and the run accounting of process-leader-kill.test.ts holds (a killed job runs
 * again; a committed one never does).
 */
import { existsSync, rmSync } from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";
import type { TotalValue } from "../../fixtures/process/flows.js";
import { recordFigure, runToil, tempDir } from "../../src/index.js";
import { FLOWS, SMALL, checkTree, journal, processesWithEnv, seededRandom, workflowMarker } from "./process-common.js";

const SEED = Number(process.env.TOIL_FAULTS_SEED ?? Math.floor(Math.random() * 2 ** 31));
const LONG = process.env.TOIL_FAULTS_LONG === "1";

describe("worker faults", () => {
  test(`SIGKILL to worker processes mid-run (seed ${SEED})`, async () => {
    const rand = seededRandom(SEED);
    const d = tempDir("toil-worker-kill-");
    const js = path.join(d, "js");
    const state = path.join(d, "state");
    const [branches, leaves] = LONG ? [8, 12] : [4, 6];
    const target = LONG ? 40 : 10;
    let killed = 0;
    let marker: string | undefined;
    let poll: NodeJS.Timeout | undefined;
    let lastKillAt = 0;
    const r = await runToil(
      ["run", FLOWS, "--jobStore", js, ...SMALL, "--clean", "never", "--retryCount", "20", "--", "tree", state, String(branches), String(leaves)],
      {
        onSpawn: () => {
          // Kill one worker (warm host or job process) after every few job starts, until `target`.
          let next = 1 + Math.floor(rand() * 4);
          poll = setInterval(() => {
            if (killed >= target) return clearInterval(poll);
            if (!marker && existsSync(path.join(js, "meta", "config.json"))) {
              try {
                marker = workflowMarker(js);
              } catch {
                return;
              }
            }
            const starts = journal(state).length;
            if (!marker || starts < lastKillAt + next) return;
            const pids = processesWithEnv(marker);
            if (pids.length === 0) return;
            const victim = pids[Math.floor(rand() * pids.length)]!;
            try {
              process.kill(victim, "SIGKILL");
              killed++;
            } catch {
              // it ended meanwhile
            }
            lastKillAt = starts;
            next = 1 + Math.floor(rand() * 4);
          }, 10);
        },
      },
    );
    clearInterval(poll);
    try {
      expect(r.code, r.stderr.slice(-4000)).toBe(0);
      expect(killed).toBeGreaterThan(0);
      const { reruns, verified } = await checkTree(state, js, JSON.parse(r.stdout) as TotalValue, branches, leaves);
      expect(processesWithEnv(workflowMarker(js))).toEqual([]);
      recordFigure({ suite: "faults/process", name: "worker kills survived", value: killed });
      recordFigure({ suite: "faults/process", name: "bytes verified after worker kills", value: verified, unit: "bytes" });
      recordFigure({ suite: "faults/process", name: "job runs cut by worker kills and rerun", value: reruns });
    } catch (err) {
      console.error(`worker-kill: seed ${SEED} (replay with TOIL_FAULTS_SEED=${SEED}); ${killed} kills; work dir ${d}`);
      throw err;
    }
    rmSync(d, { recursive: true, force: true });
  });

  test("--badWorker 0.5: the workflow finishes within its retries", async () => {
    const d = tempDir("toil-bad-worker-");
    const js = path.join(d, "js");
    const state = path.join(d, "state");
    const [branches, leaves] = [3, 4];
    // 20 jobs, each try's worker set to kill itself with probability 0.5 within 10 ms (most of a
    // job's run): 16 retries make a job that fails for good a one in 2^17 event per job.
    const r = await runToil([
      "run",
      FLOWS,
      "--jobStore",
      js,
      ...SMALL,
      "--clean",
      "never",
      "--badWorker",
      "0.5",
      "--badWorkerFailInterval",
      "0.01",
      "--retryCount",
      "16",
      "--",
      "tree",
      state,
      String(branches),
      String(leaves),
    ]);
    expect(r.code, r.stderr.slice(-4000)).toBe(0);
    const { reruns, verified } = await checkTree(state, js, JSON.parse(r.stdout) as TotalValue, branches, leaves);
    // Bad workers did strike: tries ended by SIGKILL and retried. (A kill before the job's
    // function started leaves no rerun in the journal, so the reruns alone may be 0.)
    const kills = (r.stderr.match(/failed \(KILLED, exit status 137\); \d+ (?:try|tries) left/g) ?? []).length;
    expect(kills, r.stderr.slice(-4000)).toBeGreaterThan(0);
    expect(processesWithEnv(workflowMarker(js))).toEqual([]);
    recordFigure({ suite: "faults/process", name: "bad-worker kills survived", value: kills });
    recordFigure({ suite: "faults/process", name: "bad-worker reruns survived", value: reruns });
    recordFigure({ suite: "faults/process", name: "bytes verified after bad workers", value: verified, unit: "bytes" });
    rmSync(d, { recursive: true, force: true });
  });
});
