/**
 * Slurm batch system for toil-ts, built only on `@toil/batch-core`'s public API.
 *
 * @example
 * // toil run flow.ts --jobStore /shared/js --batchSystem slurm --batchLogsDir /shared/logs
 * import SlurmBatchSystem from "@toil/batch-slurm";
 * const bs = new SlurmBatchSystem({ workflowId: "wf1", batchLogsDir: "/shared/logs" }, 64, 2 ** 40, 2 ** 40);
 *
 * @module @toil/batch-slurm
 */
import { SlurmBatchSystem } from "./slurm-batch-system.js";

export {
  NoSuitablePartitionError,
  SlurmArgsError,
  SlurmCommandError,
  SlurmError,
  SlurmOptionError,
  SlurmTimeFormatError,
  UnknownSlurmStateError,
} from "./errors.js";
export { resolveSlurmSettings, SLURM_OPTIONS, type SlurmSettings, slurmArgsWords } from "./options.js";
export { PartitionSet, parseSinfo, SINFO_ARGS } from "./partitions.js";
export {
  type CommandCounts,
  type CommandResult,
  type CommandRunner,
  type CommandRunOptions,
  countingRunner,
  spawnCommand,
} from "./runner.js";
export {
  escapeSlurmPattern,
  gpuCount,
  type ParsedSlurmArgs,
  type PartitionChooser,
  parseSlurmArgs,
  resourceArgs,
  type SbatchRequest,
  type SbatchSettings,
  slurmJobName,
} from "./sbatch.js";
export { SlurmBatchSystem, type SlurmBatchSystemOptions } from "./slurm-batch-system.js";
export {
  exitStatusFromPair,
  exitStatusFromWaitStatus,
  type JobOutcome,
  jobOutcome,
  NONTERMINAL_SLURM_STATES,
  normalizeState,
  type PartitionInfo,
  parseSacct,
  parseScontrol,
  parseSqueue,
  SACCT_FORMAT,
  SQUEUE_FORMAT,
  type SlurmJobRecord,
  TERMINAL_SLURM_STATES,
} from "./state.js";
export { formatSbatchTime, parsePartitionTimeLimit, parseSlurmTime } from "./time.js";

export default SlurmBatchSystem;
