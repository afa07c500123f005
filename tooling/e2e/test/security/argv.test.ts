/**
 * No shell: a whole workflow runs with a job store path, a work directory, a job name, an
 * environment value (--setEnv) and --slurmArgs full of shell syntax, on the single-machine batch
 * system (warm hosts; fresh processes are checked by the conformance kit's hostile test that
 * @toil/batch-local runs cold and warm) and on a real Slurm cluster (arrays, packs; single
 * submissions are checked by the conformance kit's hostile test that @toil/batch-slurm runs).
 * Every value must arrive literally and no shell may act on it (a canary file must never appear).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { recordFigure, REPO_ROOT, runToil, tempDir } from "../../src/index.js";

const SUITE = "security/argv";
const FLOW = path.join(REPO_ROOT, "tooling", "e2e", "fixtures", "security", "flow.ts");
const base = tempDir("toil-sec-argv-");
let literal = 0;

/** The gate of @toil/batch-slurm/testing (same rules): run with sbatch, skip visibly without, fail under TOIL_TEST_REQUIRE_SLURM=1. */
function describeSlurm(name: string, fn: () => void): void {
  if (spawnSync("sbatch", ["--version"], { stdio: "ignore" }).status === 0) describe(name, fn);
  else if (process.env.TOIL_TEST_REQUIRE_SLURM === "1") {
    describe(name, () => it("needs a Slurm cluster", () => {
      throw new Error("TOIL_TEST_REQUIRE_SLURM=1 but sbatch is not on PATH.");
    }));
  } else describe.skip(`${name} [skipped: sbatch is not on PATH]`, fn);
}

afterAll(() => {
  recordFigure({ suite: SUITE, name: "hostile names passed literally", value: literal });
  rmSync(base, { recursive: true, force: true });
});

/** Shell syntax that would create `CANARY` (relative: in the directory a shell runs in) if evaluated. */
const HOSTILE = "a; touch CANARY $(touch CANARY) `touch CANARY` 'q' \"dq\" \\ * ~ $HOME\nline two";

function canaries(dir: string): string[] {
  const found: string[] = [];
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) if (e.name === "CANARY") found.push(path.join(e.parentPath, e.name));
  return found;
}

async function runHostile(name: string, extra: string[], env: Record<string, string> = {}) {
  const dir = path.join(base, name);
  mkdirSync(dir, { recursive: true });
  // The job store and work directory names are themselves hostile.
  const store = path.join(dir, `js ${HOSTILE.replace(/\//g, "_")}`);
  const work = path.join(dir, `work ${HOSTILE.replace(/\//g, "_")}`);
  mkdirSync(work, { mode: 0o700 });
  const out = path.join(dir, "out.json");
  const messages = path.join(dir, "bus.jsonl");
  const r = await runToil(
    ["run", FLOW, "--jobStore", store, "--workDir", work, "--setEnv", `TOIL_SEC_VALUE=${HOSTILE}`, "--writeMessages", messages, "--disableProgress", "--logLevel", "info", ...extra, "--", out],
    { cwd: dir, env },
  );
  return { ...r, dir, out, messages };
}

function expectLiteral(res: Awaited<ReturnType<typeof runHostile>>): void {
  expect(res.code, res.stdout + res.stderr).toBe(0);
  const seen = JSON.parse(readFileSync(res.out, "utf8")) as { env: string; text: string };
  expect(seen.env).toBe(HOSTILE); // the environment value
  expect(seen.text).toBe("payload; $(x) `y` 'z' \"w\"\n"); // file contents through the store
  expect(res.stderr).toContain("touch CANARY $(touch CANARY)"); // the job name, as a name in the leader's log
  expect(canaries(res.dir)).toEqual([]);
  expect(existsSync(path.join(REPO_ROOT, "CANARY"))).toBe(false);
  literal += 4; // job store path, work dir path, environment value, job name
}

describe("single machine", () => {
  it("warm worker hosts: hostile store path, work dir, job name and environment value arrive literally", async () => {
    expectLiteral(await runHostile("warm", ["--batchSystem", "single_machine"]));
  }, 180_000);
});

describeSlurm("slurm (real cluster)", () => {
  const COMMENT = "c; touch CANARY $(touch CANARY) `touch CANARY` 'q'";
  // --slurmArgs is split with shell quoting rules (the double quotes group the words), never evaluated.
  const slurmArgs = `--comment="${COMMENT.replace(/[\\"$`]/g, "\\$&")}"`;
  /** Slurm forbids a backslash in log paths (see the last test): the logs go to a hostile directory without one. */
  const logsDir = (name: string) => path.join(base, name, `slurm logs ${HOSTILE.replace(/[\\/]/g, "_")}`);

  /** The Comment Slurm recorded for the jobs the workflow submitted (from the ExternalBatchId messages). */
  function comments(messages: string): string[] {
    const keys = readFileSync(messages, "utf8")
      .split("\n")
      .filter((l) => l.includes("ExternalBatchId"))
      .map((l) => (JSON.parse(l) as { externalBatchId: string }).externalBatchId);
    expect(keys.length).toBeGreaterThan(0);
    return keys.map((k) => {
      const shown = spawnSync("scontrol", ["show", "job", "-o", k], { encoding: "utf8" }).stdout;
      return /Comment=(.*?) (?:StdErr|Reservation|OverSubscribe|Requeue|[A-Z][A-Za-z]+=)/.exec(shown)?.[1] ?? shown;
    });
  }

  // Single submissions (--wrap) are covered by the conformance kit's hostile test in @toil/batch-slurm.
  it("worker hosts (the default): hostile values and --slurmArgs arrive literally", async () => {
    const res = await runHostile("slurm-hosts", ["--batchSystem", "slurm", "--statePollingWait", "0.5", "--batchLogsDir", logsDir("slurm-hosts"), "--slurmArgs", slurmArgs]);
    expectLiteral(res);
    for (const c of comments(res.messages)) expect(c.trim()).toBe(COMMENT);
    literal += 2; // --slurmArgs, batch logs directory
  }, 180_000);

  it("job arrays: hostile values and --slurmArgs arrive literally", async () => {
    const res = await runHostile("slurm", ["--batchSystem", "slurm", "--no-slurmWorkers", "--statePollingWait", "0.5", "--slurmArrayMinJobs", "1", "--batchLogsDir", logsDir("slurm"), "--slurmArgs", slurmArgs]);
    expectLiteral(res);
    for (const c of comments(res.messages)) expect(c.trim()).toBe(COMMENT);
    literal += 2; // --slurmArgs, batch logs directory
  }, 180_000);

  it("job packs: the pack runner executes the argv without a shell", async () => {
    const res = await runHostile("slurm-packs", ["--batchSystem", "slurm", "--statePollingWait", "0.5", "--batchLogsDir", logsDir("slurm-packs"), "--slurmPackJobs", "4", "--slurmArgs", slurmArgs]);
    expectLiteral(res);
    literal += 2;
  }, 180_000);

  it("a batch logs directory with a backslash is refused with a clear error before anything is submitted", async () => {
    const res = await runHostile("slurm-backslash", ["--batchSystem", "slurm"]);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/contains a backslash.*--batchLogsDir/s);
  }, 180_000);
});
