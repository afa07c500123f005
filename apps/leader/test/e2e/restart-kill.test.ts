/**
 * Kill the leader with SIGKILL at random moments, restart, and repeat: the workflow must finish
 * with the right result, and no job whose completion was committed may run again. A job's
 * successors are only issued after its commit, so the journal proves it: every run of a job
 * comes before the first run of any of its children, and every run of a child before the first
 * run of its parent's follow-on.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { FIXTURES, SMALL, runToil, tempDir } from "./helpers.js";

const FLOW = path.join(FIXTURES, "scenarios.ts");
const KILLS = Number(process.env.TOIL_TEST_KILLS ?? 20);

describe("restart after kill -9 of the leader", () => {
  test(`finishes correctly after ${KILLS} kills at random points and never reruns committed jobs`, { timeout: 1_200_000 }, async () => {
    const d = tempDir();
    const js = path.join(d, "js");
    const state = path.join(d, "state");
    const opts = [...SMALL, "--retryBackoffSeconds", "0", "--logLevel", "warning"];
    let kills = 0;
    let attempts = 0;
    let done = false;
    let result = "";
    while (!done) {
      const restart = existsSync(js) ? ["--restart"] : [];
      const killAfter = kills < KILLS ? 300 + Math.random() * 2500 : undefined;
      let timer: NodeJS.Timeout | undefined;
      const r = await runToil(["run", FLOW, "--jobStore", js, ...restart, ...opts, "--", "counted", state, "3", "3"], {
        onSpawn: (pid) => {
          if (killAfter !== undefined) timer = setTimeout(() => process.kill(pid, "SIGKILL"), killAfter);
        },
      });
      clearTimeout(timer);
      attempts++;
      if (r.signal === "SIGKILL") {
        kills++;
        continue;
      }
      if (r.code === 2 && /never started|does not exist/.test(r.stderr)) {
        // Killed while the store was being created, before the root job was saved: start afresh.
        rmSync(js, { recursive: true, force: true });
        continue;
      }
      expect(r.code, r.stderr).toBe(0);
      result = r.stdout.trim();
      done = true;
      expect(attempts).toBeLessThan(KILLS + 10);
    }
    expect(kills).toBe(KILLS);
    expect(Number(result)).toBe(27);

    const journal = readFileSync(path.join(state, "journal"), "utf8").trim().split("\n");
    const firstIndex = new Map<string, number>();
    const lastIndex = new Map<string, number>();
    journal.forEach((line, i) => {
      if (!firstIndex.has(line)) firstIndex.set(line, i);
      lastIndex.set(line, i);
    });
    const keys = [...new Set(journal.filter((l) => l.startsWith("start ")).map((l) => l.slice(6)))];
    expect(keys).toHaveLength(1 + 3 + 9 + 27);
    for (const key of keys) {
      const depth = key.split(".").length - 1;
      if (depth === 3) continue;
      const lastRun = lastIndex.get(`start ${key}`)!;
      for (let i = 0; i < 3; i++) {
        const child = `${key}.${i}`;
        // The parent's commit precedes its children: it never runs again once a child started.
        expect(lastRun, `${key} ran again after its child ${child} started`).toBeLessThan(firstIndex.get(`start ${child}`)!);
        // The children's commits precede the follow-on.
        expect(lastIndex.get(`start ${child}`)!, `${child} ran again after ${key}'s follow-on started`).toBeLessThan(
          firstIndex.get(`total ${key}`)!,
        );
      }
    }
  });
});
