/** The registry side of ./batch-systems.ts, for commands that run workflows (it loads @toil/batch-core). */
import { addBatchSystemFactory } from "@toil/batch-core";
import { BUILTIN_BATCH_SYSTEMS, BUNDLED_BATCH_SYSTEMS } from "./batch-systems.js";

let registered = false;

/** Register the built-in batch systems with the plugin registry (idempotent; loads nothing). */
export function registerBundledBatchSystems(): void {
  if (registered) return;
  registered = true;
  for (const name of BUNDLED_BATCH_SYSTEMS) addBatchSystemFactory(name, BUILTIN_BATCH_SYSTEMS[name]);
}
