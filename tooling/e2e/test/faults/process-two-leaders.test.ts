/**
 * Two leaders on one job store: exactly one runs; the other gets a clear error and changes nothing
 * (the store's tree, every file's path, size and bytes, is the same before and after it).
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { runToil, tempDir } from "../../src/index.js";
import { FLOWS, SMALL, journal, until } from "./process-common.js";

/** Every file under `root`: relative path -> size and content hash (directories as entries too). */
function tree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const abs = path.join(dir, name);
      const rel = path.relative(root, abs);
      const st = statSync(abs);
      if (st.isDirectory()) {
        out[`${rel}/`] = "dir";
        walk(abs);
      } else {
        out[rel] = `${st.size} ${createHash("sha256").update(readFileSync(abs)).digest("hex")} ${st.mode.toString(8)}`;
      }
    }
  };
  walk(root);
  return out;
}

describe("two leaders on one job store", () => {
  test("a second leader, with or without --restart, is refused while the first runs, and changes nothing", async () => {
    const d = tempDir("toil-two-leaders-");
    const js = path.join(d, "js");
    const state = path.join(d, "state");
    const args = ["--", "sleepers", state, "1", "600000"];
    let first: ReturnType<typeof runToil> | undefined;
    let leaderPid = 0;
    const started = new Promise<void>((resolve) => {
      first = runToil(["run", FLOWS, "--jobStore", js, ...SMALL, "--clean", "never", ...args], {
        onSpawn: (child) => {
          leaderPid = child.pid!;
          void until("the first job to start", () => existsSync(path.join(state, "pids", "s0")), { timeoutMs: 300_000, intervalMs: 20 }).then(resolve);
        },
      });
    });
    await started;
    // The first leader is idle now (its one job sleeps): the store holds still.
    const before = tree(js);
    const restart = await runToil(["run", FLOWS, "--jobStore", js, "--restart", ...SMALL, ...args]);
    expect(restart.code).toBe(2);
    expect(restart.stderr).toMatch(new RegExp(`pid ${leaderPid}\\b`));
    const fresh = await runToil(["run", FLOWS, "--jobStore", js, ...SMALL, ...args]);
    expect(fresh.code).toBe(2);
    expect(fresh.stderr).toMatch(/already holds a workflow.*--restart/s);
    expect(tree(js)).toEqual(before);
    // Neither ran a job.
    expect(journal(state).filter((l) => l.startsWith("start "))).toEqual(["start root", "start s0"]);

    // The first leader is still in charge: stop it, then finish with --restart.
    process.kill(leaderPid, "SIGTERM");
    expect((await first!).code).toBe(3);
    writeFileSync(path.join(state, "sleep-ms"), "0");
    const done = await runToil(["run", FLOWS, "--jobStore", js, "--restart", ...SMALL, ...args]);
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout.trim()).toBe('"s0"');
    rmSync(d, { recursive: true, force: true });
  });

  test("two leaders started at once on a new store: exactly one runs the workflow", async () => {
    const d = tempDir("toil-two-starts-");
    const js = path.join(d, "js");
    const [a, b] = await Promise.all(
      ["a", "b"].map((name) =>
        runToil(["run", FLOWS, "--jobStore", js, ...SMALL, "--logLevel", "info", "--clean", "never", "--", "tree", path.join(d, name), "2", "2"]),
      ),
    );
    const results = [a!, b!];
    const winners = results.filter((r) => r.code === 0);
    const losers = results.filter((r) => r.code !== 0);
    expect(winners, results.map((r) => r.stderr).join("\n----\n")).toHaveLength(1);
    expect(losers[0]!.code).toBe(2);
    expect(losers[0]!.stderr).toMatch(/already holds a workflow|is in use|leader/i);
    const winnerState = path.join(d, results[0]!.code === 0 ? "a" : "b");
    const loserState = path.join(d, results[0]!.code === 0 ? "b" : "a");
    // The loser ran no job; the winner ran each job of its workflow.
    expect(journal(loserState)).toEqual([]);
    expect(new Set(journal(winnerState)).size).toBe(1 + 2 + 4 + 2 + 1);
    expect(JSON.parse(winners[0]!.stdout).sums).toHaveLength(2);
    // The store holds the winner's workflow only: its configuration, and its restart returns the stored result.
    const winnerId = /Running workflow (\S+)/.exec(winners[0]!.stderr)?.[1];
    expect(winnerId).toBeDefined();
    expect(JSON.parse(readFileSync(path.join(js, "meta", "config.json"), "utf8")).config.workflowId).toBe(winnerId);
    const again = await runToil(["run", FLOWS, "--jobStore", js, "--restart", ...SMALL, "--", "tree", winnerState, "2", "2"]);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual(JSON.parse(winners[0]!.stdout));
    rmSync(d, { recursive: true, force: true });
  });
});
