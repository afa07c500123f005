/**
 * The single-machine batch system of toil-ts.
 *
 * @example
 * import { SingleMachineBatchSystem } from "@toil/batch-local";
 * const bs = new SingleMachineBatchSystem({ workflowId: "wf" }, 2, 2 ** 30, 2 ** 32);
 * const id = await bs.issueBatchJob("true", { jobName: "t", requirements });
 * console.log(await bs.getUpdatedBatchJob(10));
 * await bs.shutdown();
 *
 * @module @toil/batch-local
 */
import { SingleMachineBatchSystem } from "./single-machine.js";

export { SingleMachineBatchSystem } from "./single-machine.js";
export { JOB_MARKER_ENV } from "./local-job.js";
export type { SingleMachineOptions } from "./single-machine-options.js";
export { detectGpus } from "./gpus.js";
export { discardPrestartedHost, prestartWarmHost } from "./prestart.js";

/** The batch system class, as the plugin registry loads it. */
export default SingleMachineBatchSystem;
