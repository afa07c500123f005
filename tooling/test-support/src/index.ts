/**
 * What the workspace's test suites share, in one place: temporary directories, waiting until a
 * condition holds (vitest's `expect.poll`, so a timeout names what was awaited), and running the
 * built `toil` CLI as a real process, as users run it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";

/** The repository's root directory. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
/** The built `toil` CLI: suites run the real build, as users do. */
export const TOIL_CLI = path.join(REPO_ROOT, "apps", "leader", "dist", "cli.js");

/** Throw a clear error when the CLI has not been built. */
export function requireBuild(): void {
  if (!existsSync(TOIL_CLI)) {
    throw new Error(`${TOIL_CLI} is missing: build first (pnpm build, or pnpm --filter @toil/leader... build).`);
  }
}

/** A new empty directory under the system's temporary directory. */
export function tempDir(prefix = "toil-test-"): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

/** Options of {@link until}. */
export interface UntilOptions {
  /** Give up after this long (default 60 s). */
  timeoutMs?: number;
  /** Probe this often (default 50 ms). */
  intervalMs?: number;
}

/** Resolve once `probe()` returns true; fail naming `what` after the timeout. */
export async function until(what: string, probe: () => boolean | Promise<boolean>, options: UntilOptions = {}): Promise<void> {
  await expect
    .poll(probe, { timeout: options.timeoutMs ?? 60_000, interval: options.intervalMs ?? 50, message: `timed out waiting for ${what}` })
    .toBe(true);
}

/** How a process run by {@link runToil} ended, and what it printed. */
export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  pid: number;
}

/** Options of {@link runToil} and {@link startToil}. */
export interface RunOptions {
  /** Working directory (default: the repository's root). */
  cwd?: string;
  /** Added to this process's environment (NO_COLOR is set). */
  env?: NodeJS.ProcessEnv;
  /** The process is SIGKILLed after this long (default 300 s). */
  timeoutMs?: number;
  /** Called with the process as soon as it is started. */
  onSpawn?: (child: ChildProcess) => void;
}

/** Start `node <script> <args>` with piped output; wait for it with {@link collect}. */
export function startScript(script: string, args: readonly string[], options: Omit<RunOptions, "timeoutMs" | "onSpawn"> = {}): ChildProcess {
  return spawn(process.execPath, [script, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: { ...process.env, NO_COLOR: "1", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** Start `toil <args>` with piped output; wait for it with {@link collect}. */
export function startToil(args: readonly string[], options: Omit<RunOptions, "timeoutMs" | "onSpawn"> = {}): ChildProcess {
  requireBuild();
  return startScript(TOIL_CLI, args, options);
}

/** Collect a started process's output until it ends (SIGKILLed after `timeoutMs`, default 300 s). */
export function collect(child: ChildProcess, timeoutMs = 300_000): Promise<RunResult> {
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr?.on("data", (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, pid: child.pid! });
    });
  });
}

/** Run `toil <args>` as a real process and collect its output. */
export function runToil(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const child = startToil(args, options);
  options.onSpawn?.(child);
  return collect(child, options.timeoutMs);
}
