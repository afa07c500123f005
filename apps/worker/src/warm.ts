/**
 * Entry points of `toil-worker` other than `runWorker`: the warm worker protocol and the script
 * body. They live in a module of their own: the package index, the worker's `cli` script and the
 * leader's copy of the script all use them, and a script passes its own `import.meta.url`, so the
 * entry-point check stays right when a bundler moves this code into a shared chunk.
 */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { onProcessUnfit } from "./job-faults.js";
import { closeOpenStores, runWorker, type WorkerIO } from "./worker.js";

/**
 * Warm worker protocol: run the command `argv` (`[node, <this script>, jobStore, jobId]`) in this
 * process and resolve to its exit code. `io.retire`, when given, is called once if the process
 * becomes unfit for more jobs (a job's code left an error unhandled, now or after it finished): the
 * host should then run no further job and be replaced. `io.release`, when given, is called once only
 * the job's commit is being synced (the host may start its next job).
 */
export async function runWarmCommand(
  argv: string[],
  io: {
    env: Record<string, string>;
    cwd: string;
    stdoutPath?: string;
    stderrPath?: string;
    retire?: (reason: string) => void;
    release?: () => void;
  },
): Promise<number> {
  if (io.retire) onProcessUnfit(io.retire);
  const workerIO: WorkerIO = { env: io.env, cwd: io.cwd };
  if (io.stdoutPath) workerIO.stdoutPath = io.stdoutPath;
  if (io.stderrPath) workerIO.stderrPath = io.stderrPath;
  if (io.release) workerIO.release = io.release;
  return runWorker(argv.slice(2), workerIO);
}

/**
 * Whether this process was started as `node <the module at moduleUrl> ...` (symlinks resolved), as
 * opposed to the module being imported (by a warm host, a test, a bundle's other entry).
 */
export function isMainModule(moduleUrl: string, argv: readonly string[] = process.argv): boolean {
  const entry = argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}

/**
 * The body of a `toil-worker` script: `await runWorkerIfMain(import.meta.url)`. When the script is
 * the process's entry point, runs the worker on the command line's arguments and exits with its code
 * right away (a job may leave timers or handles behind); otherwise does nothing.
 */
export async function runWorkerIfMain(moduleUrl: string): Promise<void> {
  if (!isMainModule(moduleUrl)) return;
  const code = await runWorker(process.argv.slice(2), { env: process.env, cwd: process.cwd() });
  // Release this process's commit log for the next process on the machine (see @toil/filestore).
  await closeOpenStores().catch(() => undefined);
  process.exit(code);
}
