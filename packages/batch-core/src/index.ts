/**
 * The batch-system contract of toil-ts.
 *
 * @example
 * import { getBatchSystem } from "@toil/batch-core";
 * const BatchSystem = await getBatchSystem("@toil/batch-local");
 * const bs = new BatchSystem({ workflowId: "wf1" }, 2, 4 * 2 ** 30, 10 * 2 ** 30);
 * const id = await bs.issueBatchJob("echo hi", { jobName: "hello", requirements });
 * const done = await bs.getUpdatedBatchJob(10); // { jobId: id, exitStatus: 0, ... }
 * await bs.shutdown();
 *
 * @module @toil/batch-core
 */
export type {
  BatchJobDescription,
  BatchMessageBus,
  BatchSystem,
  BatchSystemClass,
  BatchSystemConfig,
  Environment,
  NodeInfo,
  ScalableBatchSystem,
  WorkerContextDescriptor,
} from "./batch-system.js";
export { BATCH_SYSTEM_METHODS, isScalableBatchSystem } from "./batch-system.js";
export { batchJobArgv, checkArgv, checkEnvironment, shellCommand } from "./command.js";
export { plainCommandWords, shellQuote, singleQuote, splitShellWords } from "./shell-words.js";
export {
  AcquisitionTimeoutException,
  BatchCommandError,
  BatchSystemError,
  BatchSystemOptionError,
  BatchSystemPluginLoadError,
  BatchSystemShutdownError,
  InsufficientSystemResources,
  type InsufficientSystemResourcesInit,
  InvalidBatchSystemPluginError,
  UnknownBatchSystemError,
} from "./errors.js";
export {
  BATCH_JOB_EXIT_REASONS,
  BatchJobExitReason,
  EXIT_STATUS_UNAVAILABLE_VALUE,
  isBatchJobExitReason,
  type UpdatedBatchJobInfo,
  updatedBatchJobInfo,
} from "./exit.js";
export { memoize } from "./memoize.js";
export { FifoQueue, MinHeap } from "./queues.js";
export {
  type BatchSystemOptionKind,
  type BatchSystemOptionSpec,
  resolveBatchSystemOptions,
  validateBatchSystemOptionSpecs,
} from "./options.js";
export {
  addBatchSystemFactory,
  addBatchSystemSearchPath,
  type BatchSystemFactory,
  type BatchSystemName,
  type GetBatchSystemOptions,
  getBatchSystem,
  getBatchSystemNames,
  getBatchSystemOptionSpecs,
  hasBatchSystem,
  loadBatchSystemPackage,
  PLUGIN_PACKAGE_PREFIX,
  removeBatchSystemFactory,
  resetBatchSystemRegistry,
  resolvePackageEntry,
  validateBatchSystemClass,
} from "./registry.js";
export type { AcceleratorRequirement, Requirements } from "./requirements.js";
export { type ResourceLease, ResourcePool, ResourceSet } from "./resources.js";
export { BatchSystemSupport, describeAccelerator, type WorkerCleanupInfo, workflowDirName } from "./support.js";
