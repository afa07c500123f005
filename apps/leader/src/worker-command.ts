import { shellCommand } from "@toil/batch-core";
import { workerScriptPath } from "./worker-script.js";

export { workerScriptPath };

/**
 * The argument array that runs one job: `[node, <worker script>, <jobStore locator>, <jobId>]`.
 * The leader issues it as `jobDesc.argv`; batch systems execute it without a shell, so a job
 * store path with spaces, quotes, `;` or `$(...)` reaches the worker unchanged.
 */
export function workerArgv(locator: string, jobId: string, script = workerScriptPath()): string[] {
  return [process.execPath, script, locator, jobId];
}

/** The display (and POSIX shell) form of {@link workerArgv}: every word quoted. */
export function workerCommand(locator: string, jobId: string, script = workerScriptPath()): string {
  return shellCommand(workerArgv(locator, jobId, script));
}
