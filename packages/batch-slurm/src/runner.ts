import { spawn } from "node:child_process";
import { SlurmCommandError } from "./errors.js";

/** What a finished command printed and how it exited. */
export interface CommandResult {
  /** What the command wrote to stdout. */
  stdout: string;
  /** What it wrote to stderr. */
  stderr: string;
  /** Exit status (a process killed by a signal reports 128 + signal). */
  exitCode: number;
}

/** Options of one command run. */
export interface CommandRunOptions {
  /** Environment of the command (default: the leader's). */
  env?: NodeJS.ProcessEnv;
  /** Text written to the command's standard input. */
  input?: string;
}

/**
 * Runs a Slurm command from an argument array (never through a shell). Resolves with the
 * output whatever the exit status; rejects with {@link SlurmCommandError} only when the
 * command could not be started (its `spawnCode` is then e.g. `ENOENT` or `E2BIG`).
 * Replace it (see `SlurmBatchSystem` options) to count or log calls.
 */
export type CommandRunner = (
  command: string,
  args: readonly string[],
  options?: CommandRunOptions,
) => Promise<CommandResult>;

/** The default {@link CommandRunner}: `child_process.spawn` without a shell. */
export const spawnCommand: CommandRunner = (command, args, options = {}) =>
  new Promise<CommandResult>((resolvePromise, reject) => {
    const fail = (err: NodeJS.ErrnoException): void => {
      const what = err.code === "ENOENT" ? `${command} is not installed or not on PATH` : err.message;
      reject(
        new SlurmCommandError(`Cannot run ${command}: ${what}.`, command, args, null, "", {
          cause: err,
          spawnCode: err.code,
        }),
      );
    };
    let child;
    try {
      child = spawn(command, args, {
        env: options.env ?? process.env,
        stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      });
    } catch (err) {
      fail(err as NodeJS.ErrnoException);
      return;
    }
    const out: Buffer[] = [];
    const errs: Buffer[] = [];
    child.stdout?.on("data", (b: Buffer) => out.push(b));
    child.stderr?.on("data", (b: Buffer) => errs.push(b));
    child.on("error", fail);
    child.on("close", (code, signal) => {
      resolvePromise({
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(errs).toString("utf8"),
        exitCode: code ?? 128 + (signal ? signalNumber(signal) : 0),
      });
    });
    if (options.input !== undefined && child.stdin) {
      child.stdin.on("error", () => {
        /* the command may exit before reading everything; its exit status tells */
      });
      child.stdin.end(options.input);
    }
  });

function signalNumber(signal: NodeJS.Signals): number {
  const n = (
    { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGTERM: 15 } as Record<string, number>
  )[signal];
  return n ?? 0;
}

/** Calls of each command made through a {@link countingRunner}. */
export type CommandCounts = Record<string, number>;

/**
 * Wraps a runner to count calls per command name (for benchmarks and tests).
 *
 * @example
 * const { runner, counts } = countingRunner();
 * new SlurmBatchSystem(config, cores, mem, disk, { runner });
 * // later: counts.sbatch, counts.squeue, counts.sacct
 */
export function countingRunner(inner: CommandRunner = spawnCommand): {
  /** The runner to use: counts each call, then runs it with `inner`. */
  runner: CommandRunner;
  /** Calls so far, by command name. */
  counts: CommandCounts;
} {
  const counts: CommandCounts = {};
  const runner: CommandRunner = (command, args, options) => {
    counts[command] = (counts[command] ?? 0) + 1;
    return inner(command, args, options);
  };
  return { runner, counts };
}
