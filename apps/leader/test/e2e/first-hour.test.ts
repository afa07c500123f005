/**
 * What a new user meets in the first hour, through the real `toil` command: --version, the help of
 * `toil run`, errors that fit on one line without stack traces, a job class that is not exported
 * (fails at once, without spending its retries), and `debug-job` printing the failure once with
 * the user's frames only.
 */
import * as fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FIXTURES, LEADER_DIR, runToil, tempDir } from "./helpers.js";

const FLOW = path.join(FIXTURES, "first-hour.ts");
const tmp = tempDir("toil-first-hour-");
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const STACK_FRAME = /^\s+at .+:\d+:\d+\)?$/m;

describe("toil --version and toil run --help", () => {
  it("--version and -V print the version", async () => {
    const version = (JSON.parse(fs.readFileSync(path.join(LEADER_DIR, "package.json"), "utf8")) as { version: string }).version;
    for (const flag of ["--version", "-V"]) {
      const r = await runToil([flag]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe(version);
    }
  });

  it("toil run --help shows each option's default, the exit codes and examples", async () => {
    const r = await runToil(["run", "--help"]);
    expect(r.code).toBe(0);
    const help = r.stdout.replace(/\s+/g, " ");
    for (const [flag, value] of [
      ["--retryCount", "1"],
      ["--clean", "onSuccess"],
      ["--defaultMemory", "2Gi"],
      ["--defaultCores", "1"],
      ["--logLevel", "info"],
      ["--batchSystem", "single_machine"],
      ["--maxLogFileSize", "100Mi"],
    ] as const) {
      // The default is in the option's own help, before the next option.
      expect(help, flag).toMatch(new RegExp(`${flag} <\\w+> (?:(?! --\\w).)*\\(default: ${value}\\)`));
    }
    expect(r.stdout).toContain("Exit codes:");
    for (const code of ["0", "1", "2", "3"]) expect(r.stdout).toMatch(new RegExp(`^  ${code}  \\S`, "m"));
    expect(r.stdout).toContain("Examples:");
    expect(r.stdout.match(/^ {2}\$ toil run /gm)?.length ?? 0).toBeGreaterThanOrEqual(2);
  });
});

describe("errors are one line, without stack traces", () => {
  const cases: [string, string[], string][] = [
    ["a bad size", ["run", FLOW, "--jobStore", path.join(tmp, "a"), "--defaultMemory", "2Gx"], "ConfigError"],
    ["a misspelled flag", ["run", FLOW, "--jobStor", path.join(tmp, "b")], "UsageError"],
    ["--restart on a store that does not exist", ["run", FLOW, "--jobStore", "./no-such-store", "--restart"], "JobStoreStateError"],
    ["a job store the system refuses to create", ["run", FLOW, "--jobStore", "/sys/toil-cannot-create-this", "--", "sleep", "1"], "(JobStoreCreateError|ConfigError)"],
    ["a workflow file without a default export", ["run", path.join(FIXTURES, "bad", "no-default.ts"), "--jobStore", path.join(tmp, "c")], "WorkflowFileError"],
    ["status of a missing store", ["status", path.join(tmp, "none")], "OpsUsageError"],
  ];
  for (const [what, args, name] of cases) {
    it(what, async () => {
      const r = await runToil(args, { cwd: tmp });
      expect(r.code, r.stderr).toBe(2);
      const lines = r.stderr.trimEnd().split("\n");
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^toil [\\w-]+: error \\[${name}\\]: \\S`));
      expect(r.stderr).not.toMatch(STACK_FRAME);
    });
  }

  it("a job store already in use: one line, and no advice about relative paths that does not apply", async () => {
    const store = path.join(tmp, "kept");
    const first = await runToil(["run", FLOW, "--jobStore", store, "--clean", "never", "--disableProgress", "--", "sleep", "0"], { cwd: tmp });
    expect(first.code, first.stderr).toBe(0);
    const again = await runToil(["run", FLOW, "--jobStore", "./kept", "--", "sleep", "0"], { cwd: tmp });
    expect(again.code).toBe(2);
    expect(again.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(again.stderr).toContain("[JobStoreStateError]: Job store");
    expect(again.stderr).not.toContain("resolved against the current directory");
  });
});

describe("a job class that is not exported", () => {
  it("fails at once, not after its retries, saying why and what to do", async () => {
    const store = path.join(tmp, "hidden");
    const r = await runToil(["run", FLOW, "--jobStore", store, "--retryCount", "3", "--retryBackoffSeconds", "30", "--disableProgress", "--", "hidden"]);
    expect(r.code).toBe(1);
    // One attempt: one log, no retry scheduled.
    expect(r.stderr.match(/Log from job /g)).toHaveLength(1);
    expect(r.stderr).not.toContain("will be retried");
    expect(r.stderr).toMatch(/Job 'AddsHidden' \S+ v\d+ failed \(FAILED, exit status 1\); 0 tries left/);
    expect(r.stderr).toContain("Job class 'Hidden' (job 'Hidden') cannot be found again by a worker");
    expect(r.stderr).toContain("the job is not retried: fix the code, then run again with --restart");
    expect(r.stderr).toMatch(/at AddsHidden\.run \(.*first-hour\.ts:\d+:\d+\)/);
    expect(r.stderr).not.toMatch(/at (bodyRef|validateJob|addSuccessor|runJob|executeJob|runWorker) \(/);
  }, 180_000);
});

describe("debug-job", () => {
  it("prints the failure and its stack once, with the user's frames only", async () => {
    const store = path.join(tmp, "debug");
    const failed = await runToil(["run", FLOW, "--jobStore", store, "--retryCount", "0", "--disableProgress", "--", "hidden"]);
    expect(failed.code).toBe(1);
    const r = await runToil(["debug-job", store, "AddsHidden"]);
    expect(r.code).toBe(1);
    const out = r.stdout + r.stderr;
    expect(out.match(/cannot be found again by a worker/g)).toHaveLength(1);
    expect(out.match(/at AddsHidden\.run \(/g)).toHaveLength(1);
    expect(out).not.toMatch(/at (debugJobCommand|runWorker|executeJob|Command\.parseAsync) \(/);
    expect(r.stderr).toContain("Job AddsHidden failed (worker exit code 1)");
  }, 180_000);
});
