/**
 * Toil's worker cleanup at batch-system shutdown, for batch systems whose workers run on the
 * leader's machine: the deferred functions of workers that died (SIGKILL, out of memory) are run
 * by the next worker that starts on the machine, and when none does (the killed job was the last,
 * or was not retried), by the leader here, before it shuts the batch system down.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { BatchSystem, BatchSystemClass } from "@toil/batch-core";
import { DeferredFunctionManager } from "@toil/filestore";
import {
  importUserModule,
  registeredModuleUrls,
  runDeferredFunction,
  trustedModuleRootsFor,
  UntrustedModuleError,
  workerCoordinationDir,
  type Config,
  type DeferredFunctionRef,
} from "@toil/job";
import type { Logger } from "pino";

/**
 * Run the deferred functions left by dead workers of this workflow on this machine. Does nothing
 * for batch systems that run workers elsewhere (their `supportsWorkerCleanup()` is false). As in a
 * worker, a function is imported only from the directories of the workflow's own modules; failures
 * are logged. Returns how many functions ran.
 */
export async function runDeadWorkersDeferredFunctions(config: Config, batchSystem: BatchSystem, log: Logger): Promise<number> {
  const cls = batchSystem.constructor as Partial<BatchSystemClass>;
  if (typeof cls.supportsWorkerCleanup !== "function" || !cls.supportsWorkerCleanup()) return 0;
  const roots = trustedModuleRootsFor(registeredModuleUrls());
  const runner = async (ref: DeferredFunctionRef): Promise<void> => {
    if (ref.module.startsWith("file:") && !roots.some((root) => isWithin(root, fileURLToPath(ref.module)))) {
      throw new UntrustedModuleError(ref.module, ref.exportName, `it lies outside the workflow's module directories (${roots.join(", ")})`);
    }
    await runDeferredFunction(ref, { importModule: importUserModule });
  };
  try {
    const ran = await DeferredFunctionManager.cleanupWorker(workerCoordinationDir(config), { runner, log: (message) => log.warn(message) });
    if (ran > 0) log.info(`Ran ${ran} deferred function(s) of workers that died`);
    return ran;
  } catch (err) {
    log.warn({ err }, "Could not run the deferred functions of workers that died");
    return 0;
  }
}

function isWithin(root: string, file: string): boolean {
  const relative = path.relative(root, file);
  return relative !== "" && !relative.startsWith("..") && !path.isAbsolute(relative);
}
