/**
 * @toil/leader: run toil-ts workflows. The `toil` CLI, the `Toil` scope for scripts, and the leader loop.
 *
 * ```ts
 * import { Toil } from "@toil/leader";
 * import * as self from "./my-script.js";
 * if (Toil.isMain(import.meta.url, self)) {
 *   const options = Toil.parseArgs(process.argv.slice(2));
 *   await using toil = await Toil.open(options);
 *   console.log(options.restart ? await toil.restart() : await toil.start(new MyRootJob()));
 * }
 * ```
 *
 * @module @toil/leader
 */
export { Toil, normalizeUri, type ToilOptions, type ParsedToilArgs } from "./toil.js";
export { getStatus, getPIDStatus, type ToilWorkflowStatus, type ToilLeaderStatus } from "./workflow-status.js";
export { Leader, type LeaderOptions, type LeaderCounts } from "./leader/leader.js";
export type { LeaderStore, WorkerMessage } from "./leader/store.js";
export {
  FailedJobsError,
  DeadlockError,
  WorkflowInterruptedError,
  WorkflowKilledError,
  ToilContextError,
  JobStoreStateError,
  WorkflowFileError,
  type FailedJob,
} from "./leader/errors.js";
export type { WorkflowContext, WorkflowMain } from "./commands/run.js";
export { loadWorkflowFile } from "./commands/run.js";
export { resolveConfig, readConfigFile, normalizeJobStoreLocator, type ResolveInput, type ResolvedConfig, type OptionSource } from "./config/resolve.js";
export { writeConfigFile } from "./config/file.js";
export { parseToilArgs } from "./cli/parse-args.js";
export { main as toilMain, EXIT, type CliIO } from "./cli/program.js";
export { workerArgv, workerCommand, workerScriptPath } from "./worker-command.js";
