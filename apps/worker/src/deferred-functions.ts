/**
 * The deferred-function managers of this process: a run takes one for its coordination directory
 * and gives it back, so a warm worker sets one up once, not per job.
 */
import { existsSync } from "node:fs";
import { DeferredFunctionManager } from "@toil/filestore";
import { importUserModule, runDeferredFunction } from "@toil/job/core";

/** A deferred-function manager and where its failures are logged (the run using it sets that). */
export interface DeferredSlot {
  manager: DeferredFunctionManager;
  log: (message: string) => void;
}

/**
 * Idle deferred-function managers of this process, by coordination dir: a warm worker reuses its
 * manager between jobs instead of setting one up per job. A run takes one out and puts it back.
 */
const idleDeferred = new Map<string, DeferredSlot>();

export function takeDeferred(dir: string, log: (message: string) => void): DeferredSlot {
  let slot = idleDeferred.get(dir);
  if (slot) idleDeferred.delete(dir);
  // Worker cleanup removed the directory since (a later run of the workflow in this process): start afresh.
  if (slot && !existsSync(slot.manager.stateDir)) {
    slot.manager.close();
    slot = undefined;
  }
  if (!slot) {
    const fresh: DeferredSlot = { log, manager: undefined as unknown as DeferredFunctionManager };
    // Deferred functions of this worker go to an owner-named file under <dir>/deferred.
    fresh.manager = new DeferredFunctionManager(dir, {
      runner: (ref) => runDeferredFunction(ref, { importModule: importUserModule }),
      log: (message) => fresh.log(`${message} (ignored)`),
    });
    slot = fresh;
  }
  slot.log = log;
  return slot;
}

export function returnDeferred(dir: string, slot: DeferredSlot): void {
  if (idleDeferred.has(dir)) slot.manager.close();
  else idleDeferred.set(dir, slot);
}
