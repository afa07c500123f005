/**
 * What `toil run` prints when its output is not a terminal, through the real CLI in a new project
 * folder: a closed pipe (`| head -2`) never stops the workflow, the text log of every run is at
 * `<jobStore>.log` (JSON lines with `--logJson`), the run ends with one summary line whose figures
 * appear once, plurals are right, and no control character from a job name or an error message
 * reaches the output raw.
 */
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { spawn } from "node:child_process";
import { collect, type RunResult } from "@toil/test-support";
import { HOSTILE_SHOWN, newProject, requireBuiltCli, userEnv } from "./project.js";

const projects: string[] = [];
afterAll(() => {
  for (const p of projects) rmSync(p, { recursive: true, force: true });
});

function project(): string {
  requireBuiltCli();
  const dir = newProject("toil-output-");
  projects.push(dir);
  // One job whose own tool writes to the stdout it inherits, goes on after `head` has had its two
  // lines and left, and fails if it was cut off (a write into a closed pipe kills it with SIGPIPE).
  writeFileSync(
    path.join(dir, "chatty.ts"),
    `import { Job } from "@toil/job";
import { spawnSync } from "node:child_process";
export class Chatty extends Job {
  constructor() { super({ cores: 0.1, memory: "64Mi", disk: "1Mi" }); }
  run() {
    const r = spawnSync("sh", ["-c", "echo child line start; sleep 1; i=0; while [ $i -lt 2000 ]; do echo child line $i; i=$((i+1)); done"], { stdio: "inherit" });
    if (r.status !== 0) throw new Error("the job's tool was stopped: " + (r.signal ?? r.status));
    return "chatty done";
  }
}
export default function main() { return new Chatty(); }
`,
  );
  writeFileSync(
    path.join(dir, "hello.ts"),
    `import { Job, type FileStore } from "@toil/job";
export class Hello extends Job {
  constructor() { super({ cores: 0.1, memory: "64Mi", disk: "1Mi" }); }
  run(fileStore: FileStore) { fileStore.logToLeader("hello from the job"); return "Hello, world!"; }
}
export default function main() { return new Hello(); }
`,
  );
  return dir;
}

/** Run a shell command line in `cwd` with `toil` on the PATH, as a person's shell would. */
function sh(command: string, cwd: string): Promise<RunResult> {
  const env = userEnv();
  env.PATH = `${path.join(cwd, "node_modules", ".bin")}:${env.PATH}`;
  return collect(spawn("bash", ["-c", command], { cwd, env, stdio: ["ignore", "pipe", "pipe"] }), 240_000);
}

const SUMMARY = /^\[\d\d:\d\d:\d\d\] (?:INFO|WARNING) Workflow (completed|failed|stopped): (\d+) jobs? succeeded, (\d+) retried, (\d+) failed in \d+\.\d\d s \([\d.]+ jobs\/s\)\. Log: (\S+)$/m;
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

describe("toil run with its output piped", () => {
  test("`| head -2` closes the pipe: the run still completes, cleans its store and logs to <jobStore>.log", async () => {
    const dir = project();
    const r = await sh('toil run chatty.ts --jobStore ./js 2>&1 | head -2; echo "leader exit ${PIPESTATUS[0]}"', dir);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines, r.stderr).toHaveLength(3);
    expect(lines[2]).toBe("leader exit 0");
    expect(existsSync(path.join(dir, "js")), "the store was cleaned on success").toBe(false);
    const log = readFileSync(path.join(dir, "js.log"), "utf8").trimEnd().split("\n");
    expect(log.at(-1)).toMatch(/ INFO Workflow completed: 1 job succeeded, 0 retried, 0 failed in \d+\.\d\d s \([\d.]+ jobs\/s\)\. Log: \S+js\.log$/);
  });

  test("a failing run piped into `head -2` still fails properly: exit 1, store kept, report in the log", async () => {
    const dir = project();
    const r = await sh('toil run flow.ts --jobStore ./js --retryCount 0 -- fail 2>&1 | head -2; echo "leader exit ${PIPESTATUS[0]}"', dir);
    expect(r.stdout.trimEnd().split("\n").at(-1), r.stderr).toBe("leader exit 1");
    expect(existsSync(path.join(dir, "js", "format.json")), "the store is kept for --restart").toBe(true);
    const log = readFileSync(path.join(dir, "js.log"), "utf8");
    expect(log).toMatch(/ WARNING Workflow failed: 8 jobs succeeded, 0 retried, 2 failed /);
    expect(log).toMatch(/ ERROR toil run: error \[FailedJobsError\]: The workflow in job store \S+ has 2 failed jobs\./);
    expect(log).toContain(`  - ${HOSTILE_SHOWN} (`);
  });
});

describe("the run's log and its last line", () => {
  test("a text log by default, owner-only, kept after the store is cleaned; one summary line, each figure once", async () => {
    const dir = project();
    const r = await sh("toil run hello.ts --jobStore ./js", dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('"Hello, world!"\n');
    const summary = SUMMARY.exec(r.stderr);
    expect(summary, r.stderr).not.toBeNull();
    expect(summary!.slice(1, 5)).toEqual(["completed", "1", "0", "0"]);
    expect(summary![5]).toBe(path.join(dir, "js.log"));
    // The figures are said once: no `jobs=1 seconds=…` tail, no second progress line repeating them.
    expect(summary![0]).not.toMatch(/\w=\S/);
    expect(r.stderr).not.toMatch(/Progress:|Finished the workflow/);
    expect(r.stderr, "no escape sequence when stderr is not a terminal").not.toMatch(RAW_CONTROL);
    expect(existsSync(path.join(dir, "js"))).toBe(false);
    const logFile = path.join(dir, "js.log");
    expect(statSync(logFile).mode & 0o777).toBe(0o600);
    const lines = readFileSync(logFile, "utf8").trimEnd().split("\n");
    for (const line of lines) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (INFO|WARNING|ERROR|DEBUG) /);
    expect(lines.some((l) => / INFO Got message from job 'Hello' \S+: hello from the job$/.test(l))).toBe(true);
    expect(lines.at(-1)).toContain("Workflow completed: 1 job succeeded");

    // A second run on the same store path appends to the same log.
    const again = await sh("toil run hello.ts --jobStore ./js", dir);
    expect(again.code, again.stderr).toBe(0);
    expect(readFileSync(logFile, "utf8").match(/Workflow completed/g)).toHaveLength(2);
  });

  test("--logFile PATH --logJson writes JSON lines; the summary's figures are fields", async () => {
    const dir = project();
    const r = await sh("toil run hello.ts --jobStore ./js --logFile ./logs/run.jsonl --logJson", dir);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(path.join(dir, "js.log")), "--logFile replaces the default path").toBe(false);
    const records = readFileSync(path.join(dir, "logs", "run.jsonl"), "utf8").trimEnd().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    const last = records.at(-1)!;
    expect(last.msg).toMatch(/^Workflow completed: 1 job succeeded/);
    expect(last.summary).toMatchObject({ outcome: "completed", succeeded: 1, retried: 0, failed: 0, logFile: path.join(dir, "logs", "run.jsonl") });
  });
});

describe("control characters in names and messages", () => {
  test("toil run and toil status --logs show them escaped (cat -v), never raw", async () => {
    const dir = project();
    const run = await sh("toil run flow.ts --jobStore ./js --retryCount 0 --disableProgress -- fail", dir);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).not.toMatch(RAW_CONTROL);
    expect(run.stderr).toContain(`Job 'Step' ${HOSTILE_SHOWN} `);
    expect(run.stderr).toContain("failed on purpose: ^[[31mred^[[0m and ^[]0;pwned^G");
    const log = readFileSync(path.join(dir, "js.log"), "utf8");
    expect(log).not.toMatch(RAW_CONTROL);

    const status = await sh("toil status ./js --logs --perJob", dir);
    expect(status.stdout + status.stderr).not.toMatch(RAW_CONTROL);
    expect(status.stdout).toMatch(new RegExp(`^=== log of .*${HOSTILE_SHOWN.replace(/[[\]^]/g, "\\$&")}`, "m"));
    // Plurals: "2 jobs", never "1 jobs"-style counts, anywhere (a rate such as "1.1 jobs/s" is not a count).
    for (const text of [run.stderr, status.stdout]) expect(text).not.toMatch(/(?<![\d.])1 (jobs|runs|tries|services|cores)\b/);
  });
});
