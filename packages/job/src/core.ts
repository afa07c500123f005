/**
 * @toil/job: the workflow author's API of toil-ts (jobs, edges, services, typed promises,
 * requirements) and the job descriptions the leader, worker and job store exchange.
 *
 * `@toil/job/core` is all of `@toil/job` but the configuration schema and what validates with it
 * (`parseConfig`, `defaultConfig`, `configFromJSON`, ...): the import graph of a worker, which reads
 * the stored configuration without the schema (`readStoredConfig`). Both entries share one copy of
 * every class, so a job built from either is the same job.
 *
 * @module @toil/job/core
 */

// errors
export {
  ToilError,
  type ToilErrorOptions,
  isToilError,
  InvalidRequirementError,
  JobGraphDeadlockError,
  ConflictingPredecessorError,
  JobUsageError,
  JobPromiseConstraintError,
  UnresolvedPromiseError,
  JobSerializationError,
  JobRebuildError,
  JobDescriptionFormatError,
  JobVersionError,
  cannotSucceedOnRetry,
  PermanentJobFailureError,
} from "./errors.js";

// requirements
export {
  type AcceleratorRequirement,
  type Requirements,
  type RequirementsInput,
  type RequirementDefaults,
  type RequirementContext,
  type SizeInput,
  type AcceleratorInput,
  DEFAULT_REQUIREMENTS,
  parseSize,
  parseCores,
  parseAccelerator,
  parseRequirements,
  resolveRequirements,
  requirementsString,
  formatSize,
} from "./requirements.js";

// files
export { FileID, asFileID } from "./fileid.js";
export type {
  FileStore,
  JobStoreView,
  WriteFileOptions,
  ReadFileOptions,
  ImportOptions,
  LogLevel,
  WriteGlobalFileOptions,
  ReadGlobalFileOptions,
  ReadGlobalFileStreamOptions,
  ImportFileOptions,
  DeferredFunctionRef,
} from "./filestore.js";

// job descriptions
export {
  JobDescription,
  type JobDescriptionJSON,
  type JobDescriptionOptions,
  type JobDescriptionConfig,
  type StoredJobDescriptionJSON,
  type ChainLink,
  MAX_CHAIN_LINKS_KEPT,
  type ServiceFlags,
  JOB_DESCRIPTION_FORMAT,
  TEMPORARY_ID_PREFIX,
  newJobId,
  newTemporaryJobId,
  isTemporaryJobId,
} from "./description.js";
export {
  type JobBody,
  JobBodyText,
  type StoredJobBody,
  BODY_TEXT_MIN_BYTES,
  readJobDocument,
  jobDocumentData,
} from "./stored-document.js";

// why a batch job stopped (re-exported by @toil/batch-core)
export { BATCH_JOB_EXIT_REASONS, BatchJobExitReason, isBatchJobExitReason } from "./exit-reason.js";

// workflow configuration (owned by the leader app team): what a worker needs without the schema
export type { Config, ConfigInput, ConfigKey, CleanPolicy, ConfigLogLevel, ConfigOptionSpec, OptionKind } from "./config/index.js";
export { CONFIG_FORMAT_VERSION, CONFIG_SCHEMA_ID, ConfigError, configToJSON, trustedStoredConfig } from "./config/stored.js";
export { readStoredConfig } from "./config/read-stored.js";
export { tryParseConfigSize, formatConfigSize } from "./config/size.js";

// jobs, services, promises
export {
  Job,
  FunctionWrappingJob,
  JobFunctionWrappingJob,
  EncapsulatedJob,
  NoopJob,
  Service,
  ServiceHostJob,
  type JobOptions,
  type FunctionJobOptions,
  type PromisableRequirements,
  type SaveOptions,
  isJob,
  saveJobGraph,
} from "./job.js";
export {
  JobPromise,
  PromisedRequirement,
  promisedRequirement,
  resolved,
  isJobPromise,
  type Promised,
  type PromisedArgs,
  type Resolved,
  type ResultOf,
  type KeyOf,
  type At,
  type PathKey,
} from "./promise.js";

// job data and user modules (Resource / ModuleDescriptor)
export {
  serializable,
  serializeValue,
  deserializeValue,
  type SerializableCodec,
  type SerializedValue,
  type SerializeOptions,
  type DeserializeOptions,
  type PromiseResolver,
} from "./serialize.js";
export {
  registerModule,
  registerExport,
  findExport,
  registeredModuleUrls,
  type ExportRef,
  type ModuleImporter,
} from "./registry.js";
export { importUserModule, importModule, importWorkflowModule, resolveExport, unwrapCommonJsNamespace, userModuleLoadPath } from "./loader.js";
export { createServiceFlags } from "./service-flags.js";
export { jobStoreResultResolver, type StoredResults } from "./stored-results.js";
export { workerWorkflowDir, workerCoordinationDir } from "./worker-dirs.js";
export { checkModuleReference, TRUSTED_MODULE_ROOTS_ENV, trustedModuleRootsFor, UntrustedModuleError } from "./trust.js";

// worker runtime and scheduling helpers
export {
  loadJob,
  runJob,
  executeJob,
  runServiceHost,
  runDeferredFunction,
  readJobResult,
  chainingBlocker,
  nextChainable,
  type RuntimeOptions,
  type JobRunOutcome,
  type ServiceHostHooks,
  type ChainingOptions,
} from "./runtime.js";
