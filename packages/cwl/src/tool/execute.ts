/**
 * Running a command: standard input, output and error redirected to files (or relayed to the log),
 * a time limit, and the exit code (a signal counts as 128 + its number).
 */
import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { CwlPermanentFailureError } from "../errors.js";

/** How to run one command. */
export interface ExecOptions {
  /** Working directory. */
  cwd: string;
  /** The whole environment of the command. */
  env: Record<string, string>;
  /** File to read standard input from (default: none). */
  stdinPath?: string;
  /** File standard output goes to (default: the log). */
  stdoutPath?: string;
  /** File standard error goes to (default: the log). */
  stderrPath?: string;
  /** Seconds the command may run (0: no limit). */
  timeLimit: number;
  /** Where output lines go. */
  log: (line: string) => void;
  /** What is running, for messages. */
  what: string;
  /** Called when the time limit is reached, besides killing the command (a container is stopped by name). */
  onTimeout?: () => void;
}

/** Run argv; resolves to its exit code (a signal counts as 128 + its number). */
export function execute(argv: string[], o: ExecOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    const fds: number[] = [];
    const openFd = (p: string, flags: string): number => {
      const fd = openSync(p, flags);
      fds.push(fd);
      return fd;
    };
    let stdin: number | "ignore";
    try {
      stdin = o.stdinPath !== undefined ? openFd(o.stdinPath, "r") : "ignore";
    } catch (err) {
      reject(new CwlPermanentFailureError(`${o.what}: cannot open stdin ${o.stdinPath}: ${(err as Error).message}`));
      return;
    }
    const stdout = o.stdoutPath !== undefined ? openFd(o.stdoutPath, "w") : "pipe";
    const stderr = o.stderrPath !== undefined ? openFd(o.stderrPath, "w") : "pipe";
    const child = spawn(argv[0]!, argv.slice(1), { cwd: o.cwd, env: o.env, stdio: [stdin, stdout, stderr] });
    for (const fd of fds) closeSync(fd);
    const relay = (stream: NodeJS.ReadableStream | null): void => {
      if (!stream) return;
      let pending = "";
      stream.setEncoding("utf8");
      stream.on("data", (chunk: string) => {
        pending += chunk;
        const lines = pending.split("\n");
        pending = lines.pop() ?? "";
        for (const l of lines) o.log(l);
      });
      stream.on("end", () => {
        if (pending) o.log(pending);
      });
    };
    relay(child.stdout);
    relay(child.stderr);
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    if (o.timeLimit > 0) {
      timer = setTimeout(() => {
        timedOut = true;
        o.onTimeout?.();
        child.kill("SIGKILL");
      }, o.timeLimit * 1000);
    }
    child.on("error", (err) => {
      if (timer) clearTimeout(timer);
      const code = (err as NodeJS.ErrnoException).code;
      reject(
        new CwlPermanentFailureError(
          code === "ENOENT" ? `${o.what}: command not found: ${argv[0]} (is it installed and on PATH?)` : `${o.what}: cannot run ${argv[0]}: ${err.message}`,
        ),
      );
    });
    child.on("close", (exitCode, signal) => {
      if (timer) clearTimeout(timer);
      if (timedOut) {
        reject(new CwlPermanentFailureError(`${o.what}: the tool ran longer than its time limit of ${o.timeLimit} s and was stopped.`));
        return;
      }
      if (exitCode !== null) resolve(exitCode);
      else resolve(128 + (signal ? signalNumber(signal) : 0));
    });
  });
}

function signalNumber(signal: NodeJS.Signals): number {
  const table: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGTERM: 15 };
  return table[signal] ?? 0;
}

