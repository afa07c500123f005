/**
 * The warm worker protocol's entry, in a module of its own: the package index and the `cli` script
 * both export it, and keeping it out of `cli.ts` keeps the script's entry-point check in the
 * script's own bundle (a shared chunk would see another module URL and never run the job).
 */
import { runWorker, type WorkerIO } from "./worker.js";

/**
 * Warm worker protocol: run the command `argv` (`[node, <this script>, jobStore, jobId]`) in this
 * process and resolve to its exit code.
 */
export async function runWarmCommand(
  argv: string[],
  io: { env: Record<string, string>; cwd: string; stdoutPath?: string; stderrPath?: string },
): Promise<number> {
  const workerIO: WorkerIO = { env: io.env, cwd: io.cwd };
  if (io.stdoutPath) workerIO.stdoutPath = io.stdoutPath;
  if (io.stderrPath) workerIO.stderrPath = io.stderrPath;
  return runWorker(argv.slice(2), workerIO);
}
