// The job pack runner (runtime/pack-runner.mjs) on its own, as a process on this machine, with a
// manifest written the way the batch system writes it: no Slurm needed.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
const RUNNER = join(here, "..", "runtime", "pack-runner.mjs");
const WARM = join(here, "fixtures", "warm-job.mjs");

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Runs a pack of warm-job.mjs jobs (`[code, mode?]` each); returns the pids they ran in and their statuses. */
function runPack(jobs: [string, string?][]): { runner: number; pids: number[]; statuses: string[] } {
  const dir = mkdtempSync(join(tmpdir(), "toil-pack-"));
  dirs.push(dir);
  const pids = join(dir, "pids");
  const manifest = {
    dir,
    jobs: jobs.map(([code, mode], i) => {
      const argv = [process.execPath, WARM, pids, code, ...(mode ? [mode] : [])];
      return { id: i + 1, argv, command: argv.join(" "), out: join(dir, `${i + 1}.%T.out`), err: join(dir, `${i + 1}.%T.err`) };
    }),
  };
  writeFileSync(join(dir, "manifest.json"), JSON.stringify(manifest));
  // The runner prints its own pid first (a job's pid equals it when the job ran in its process).
  const res = spawnSync(process.execPath, ["--import", `data:text/javascript,console.error("runner " + process.pid)`, RUNNER, join(dir, "manifest.json")], {
    encoding: "utf8",
    env: { ...process.env, SLURM_ARRAY_JOB_ID: "3", SLURM_ARRAY_TASK_ID: "0" },
    timeout: 60_000,
  });
  expect(res.status, res.stderr).toBe(0);
  const runner = Number(/runner (\d+)/.exec(res.stderr)?.[1]);
  return {
    runner,
    pids: readFileSync(pids, "utf8").trim().split("\n").map(Number),
    statuses: manifest.jobs.map((j) => readFileSync(join(dir, `${j.id}.status`), "utf8")),
  };
}

describe("job pack runner (runtime/pack-runner.mjs)", () => {
  it("runs warm jobs in its own process, one after another, each with its status", () => {
    const r = runPack([["0"], ["3"]]);
    expect(r.statuses).toEqual(["0", "3"]);
    expect(r.pids).toEqual([r.runner, r.runner]);
  });

  it("after a job retires the process (its code left an error unhandled), the jobs after it run as processes of their own", () => {
    const r = runPack([["0"], ["4", "retire"], ["0"], ["2"]]);
    expect(r.statuses).toEqual(["0", "4", "0", "2"]);
    expect(r.pids.slice(0, 2)).toEqual([r.runner, r.runner]);
    expect(r.pids[2]).not.toBe(r.runner);
    expect(r.pids[3]).not.toBe(r.runner);
    expect(r.pids[2]).not.toBe(r.pids[3]);
  });
});
