import { spawn } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
/** The leader app's directory. */
export const LEADER_DIR = path.resolve(here, "..", "..");
/** The repository root. */
export const REPO_ROOT = path.resolve(LEADER_DIR, "..", "..");
/** The built `toil` CLI (the tests run the real bundle, as users do). */
export const TOIL_CLI = path.join(LEADER_DIR, "dist", "cli.js");
/** Workflow files used by the scenario tests. */
export const FIXTURES = path.join(here, "..", "fixtures");

export function requireBuild(): void {
  if (!existsSync(TOIL_CLI)) {
    throw new Error(`${TOIL_CLI} is missing: build first (pnpm build, or pnpm --filter @toil/leader build).`);
  }
}

export function tempDir(prefix = "toil-e2e-"): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  pid: number;
}

/** Run `toil <args>` as a real process. */
export function runToil(
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number; onSpawn?: (pid: number) => void } = {},
): Promise<RunResult> {
  requireBuild();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TOIL_CLI, ...args], {
      cwd: options.cwd ?? LEADER_DIR,
      env: { ...process.env, NO_COLOR: "1", ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    options.onSpawn?.(child.pid!);
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 120_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, pid: child.pid! });
    });
  });
}

/** Options every scenario uses: small defaults so many jobs fit on a small machine. */
export const SMALL = ["--defaultMemory", "64Mi", "--defaultDisk", "1Mi", "--defaultCores", "0.1", "--disableProgress", "--logLevel", "info"];
