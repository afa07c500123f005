/**
 * Running conformance tests the way the reference driver does: for each test, the runner is called
 * as `RUNNER [runner args] --outdir=<fresh temp dir> --quiet TOOL [JOB]` from the suite's directory;
 * it prints the output object as JSON on stdout. Exit 33 means "unsupported feature" (a failure
 * for a `required` test); any non-zero exit passes a `should_fail` test; a test that runs past its
 * time limit is killed (with its process group) and fails.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { compare } from "./compare.js";
import { requiresDocker } from "./containers.js";
import type { ConformanceTest } from "./suite.js";

/** Exit code of a runner for "unsupported feature". */
const UNSUPPORTED_FEATURE = 33;

/** How to call the runner under test. */
export interface RunnerCommand {
  command: string;
  args: readonly string[];
}

/** Driver settings. */
export interface DriverOptions {
  runner: RunnerCommand;
  /** Working directory of every runner call (the suite's directory). */
  cwd: string;
  /** Tests run at once. */
  parallel: number;
  /** Seconds a test may take (the reference default is 600). */
  timeoutSeconds: number;
  /** A container engine that answers, if any (tests that require Docker are skipped without one). */
  containerEngine: string | undefined;
  /** Why there is no engine (for skip messages). */
  noEngineReason?: string;
  /** Keep each test's output directory. */
  keepOutdirs?: boolean;
  /** Called as each test finishes. */
  onResult?: (result: TestResult, done: number, total: number) => void;
}

/** How a test ended. */
export type TestStatus = "passed" | "failed" | "unsupported" | "skipped";

/** One test's result. */
export interface TestResult {
  test: ConformanceTest;
  status: TestStatus;
  /** Wall time of the runner call. */
  seconds: number;
  /** Why it failed, was skipped, or was unsupported (the runner's last stderr line for 33). */
  message?: string;
  exitCode?: number | null;
  /** The runner's stderr (end of it), for failures. */
  stderr?: string;
  command?: string[];
}

function lastLine(text: string): string {
  const lines = text.split("\n").map((l) => l.trim()).filter(Boolean);
  return lines[lines.length - 1] ?? "";
}

/** The most telling line of a failed run's stderr: the error a job raised, else the runner's own error line. */
function reasonLine(text: string): string {
  const lines = text.split("\n").map((l) => l.replace(/^\|\s*/, "").trim()).filter(Boolean);
  const jobError = lines.filter((l) => /^[A-Za-z]*Error: /.test(l) && !l.startsWith("FailedJobsError"));
  if (jobError.length > 0) return jobError[jobError.length - 1]!;
  const runnerError = lines.filter((l) => /error \[/.test(l));
  return runnerError[runnerError.length - 1] ?? lastLine(text);
}

function relativeToCwd(p: string, cwd: string): string {
  const [file, frag] = p.split("#") as [string, string?];
  const rel = path.relative(cwd, file);
  const shown = rel.startsWith("..") ? file : rel;
  return frag !== undefined ? `${shown}#${frag}` : shown;
}

/** Run one test. */
async function runTest(test: ConformanceTest, o: DriverOptions): Promise<TestResult> {
  const required = test.tags.includes("required");
  if (o.containerEngine === undefined && requiresDocker(test.tool)) {
    return { test, status: "skipped", seconds: 0, message: `needs a container engine (DockerRequirement under requirements); ${o.noEngineReason ?? "none found"}` };
  }
  const outdir = mkdtempSync(path.join(os.tmpdir(), "cwl-conformance-"));
  const args = [...o.runner.args, `--outdir=${outdir}`, "--quiet", relativeToCwd(test.tool, o.cwd)];
  if (test.job !== undefined) args.push(relativeToCwd(test.job, o.cwd));
  const started = performance.now();
  const { code, stdout, stderr, timedOut } = await new Promise<{ code: number | null; stdout: string; stderr: string; timedOut: boolean }>((resolve) => {
    const child = spawn(o.runner.command, args, { cwd: o.cwd, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    let timedOut = false;
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      err += d;
      if (err.length > 256 * 1024) err = err.slice(-128 * 1024);
    });
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
    }, o.timeoutSeconds * 1000);
    child.on("error", (e) => {
      clearTimeout(timer);
      resolve({ code: null, stdout: out, stderr: `${err}\n${e.message}`, timedOut });
    });
    child.on("close", (c) => {
      clearTimeout(timer);
      resolve({ code: c, stdout: out, stderr: err, timedOut });
    });
  });
  const seconds = (performance.now() - started) / 1000;
  const base = { test, seconds, exitCode: code, command: [o.runner.command, ...args] };
  const done = (status: TestStatus, message?: string, withStderr = false): TestResult => {
    if (!o.keepOutdirs) rmSync(outdir, { recursive: true, force: true });
    return { ...base, status, ...(message !== undefined ? { message } : {}), ...(withStderr ? { stderr: stderr.slice(-16 * 1024) } : {}) };
  };
  if (timedOut) return done("failed", `timed out after ${o.timeoutSeconds} s`, true);
  if (code === UNSUPPORTED_FEATURE) {
    if (required) return done("failed", `unsupported feature in a required test: ${lastLine(stderr)}`, true);
    return done("unsupported", lastLine(stderr));
  }
  if (code !== 0) {
    if (test.shouldFail) return done("passed");
    return done("failed", `exit ${code}: ${reasonLine(stderr)}`, true);
  }
  if (test.shouldFail) return done("failed", "returned 0 but the test should fail", true);
  let actual: unknown;
  try {
    actual = stdout.trim() === "" ? {} : JSON.parse(stdout);
  } catch {
    return done("failed", `output is not a valid JSON document: ${JSON.stringify(stdout.slice(0, 500))}`, true);
  }
  try {
    compare(test.output ?? {}, actual);
  } catch (err) {
    const full = (err as Error).message;
    const at = full.lastIndexOf("caused by: ");
    const cause = at >= 0 ? full.slice(at + "caused by: ".length).split("\n")[0]! : "outputs differ";
    return done("failed", `${cause}\n${full}`, true);
  }
  return done("passed");
}

/** Run tests, `parallel` at a time; results in suite order. */
export async function runTests(tests: readonly ConformanceTest[], o: DriverOptions): Promise<TestResult[]> {
  const results: TestResult[] = new Array(tests.length);
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= tests.length) return;
      const r = await runTest(tests[i]!, o);
      results[i] = r;
      done++;
      o.onResult?.(r, done, tests.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(o.parallel, tests.length)) }, worker));
  return results;
}
