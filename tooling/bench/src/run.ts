/** Running processes under measurement: the toil CLI, `node -e ""`, `cp`. */
import { spawn, spawnSync } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type TreeStats, TreeSampler, isAlive } from "./proc.js";

/** The repository root (the directory holding pnpm-workspace.yaml). */
export const REPO_ROOT = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "pnpm-workspace.yaml"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("cannot find the repository root (no pnpm-workspace.yaml above the bench suite)");
    dir = up;
  }
  return dir;
})();

export const CLI = join(REPO_ROOT, "apps/leader/dist/cli.js");
export const WORKFLOWS = resolve(dirname(fileURLToPath(import.meta.url)), "../workflows");

export interface RunOptions {
  /** Arguments after `node [nodeArgs] cli.js`. */
  args: string[];
  /** Directory for this run's stdout/stderr files. */
  logDir: string;
  label: string;
  timeoutMs: number;
  nodeArgs?: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  sampleMs?: number;
  /** Polled every 100 ms; when it returns true the leader (only) is killed with SIGKILL. */
  killWhen?: () => boolean;
  /** Polled every 100 ms with the elapsed time (e.g. to watch for the first job). */
  onTick?: (elapsedMs: number) => void;
}

export interface RunResult {
  label: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  wallMs: number;
  stdout: string;
  stderr: string;
  tree: TreeStats;
  timedOut: boolean;
  killedHalfway: boolean;
  startedAt: number;
  /** Descendants (not the leader) still alive right after the leader exited. */
  survivors: number[];
}

let active: { pid: number; pids: () => number[] } | undefined;

/** Kill whatever run is in progress (Ctrl-C of the harness). */
export function killActive(): void {
  if (active === undefined) return;
  for (const pid of active.pids()) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
}

/** Kill these pids (processes this harness started, directly or through the leader). */
export function killPids(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

/** Run `node cli.js ...args` and measure it. */
export function runToil(opts: RunOptions): Promise<RunResult> {
  const outPath = join(opts.logDir, `${opts.label}.stdout`);
  const errPath = join(opts.logDir, `${opts.label}.stderr`);
  const out = openSync(outPath, "w");
  const err = openSync(errPath, "w");
  const startedAt = Date.now();
  const t0 = performance.now();
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), CLI, ...opts.args], {
    cwd: opts.cwd ?? opts.logDir,
    env: { ...process.env, ...opts.env },
    stdio: ["ignore", out, err],
  });
  closeSync(out);
  closeSync(err);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${CLI}`);
  const sampler = new TreeSampler(pid, opts.sampleMs ?? 50);
  active = { pid, pids: () => sampler.pids() };
  let timedOut = false;
  let killedHalfway = false;
  const poll = setInterval(() => {
    opts.onTick?.(performance.now() - t0);
    if (!killedHalfway && opts.killWhen?.()) {
      killedHalfway = true;
      sampler.sample();
      process.kill(pid, "SIGKILL");
    }
  }, 100);
  const timer = setTimeout(() => {
    timedOut = true;
    killPids(sampler.pids());
  }, opts.timeoutMs);
  return new Promise((resolvePromise, reject) => {
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      const wallMs = performance.now() - t0;
      clearInterval(poll);
      clearTimeout(timer);
      const pids = sampler.pids().filter((p) => p !== pid);
      const tree = sampler.stop();
      active = undefined;
      resolvePromise({
        label: opts.label,
        code,
        signal,
        wallMs,
        stdout: readFileSync(outPath, "utf8"),
        stderr: readFileSync(errPath, "utf8"),
        tree,
        timedOut,
        killedHalfway,
        startedAt,
        survivors: pids.filter(isAlive),
      });
    });
  });
}

/** Short description of a failed run for the results table. */
export function failureNote(r: RunResult): string {
  const why = r.timedOut ? `timed out after ${(r.wallMs / 1000).toFixed(0)} s` : `exit ${r.code ?? r.signal}`;
  const tail = (r.stderr.trim() || r.stdout.trim()).split("\n").slice(-3).join(" | ").slice(0, 300);
  return `${why}${tail ? `: ${tail}` : ""}`;
}

/** Wall time (ms) of a command run to completion, or throw. */
export function timeCommand(cmd: string, args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${r.stderr?.toString() ?? r.status}`);
  return ms;
}

/** Median of numbers. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** Count entries of a directory (0 if missing). */
export function countEntries(dir: string): number {
  try {
    return readdirSync(dir).length;
  } catch {
    return 0;
  }
}
