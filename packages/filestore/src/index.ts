/**
 * @toil/filestore: the durable state of a toil-ts workflow (the job store), the per-job file access
 * a job's `run(fileStore)` receives (file stores), and deferred functions.
 *
 * ```ts
 * import { openJobStore } from "@toil/filestore";
 * const store = openJobStore("./my-store");      // file: store, path made absolute
 * await store.initialize(config);                 // or: await store.resume()
 * store.assignJobId(desc);
 * await store.createJob(desc);
 * const id = await store.writeFile("/tmp/input.txt");
 * ```
 *
 * @module @toil/filestore
 */
export {
  JobStoreError,
  JobStoreExistsError,
  NoSuchJobStoreError,
  JobStoreVersionError,
  NoSuchJobError,
  DamagedJobError,
  DamagedJobStoreFileError,
  JobStoreFullError,
  JobStoreCreateError,
  NoSuchFileError,
  InvalidIdError,
  UnknownJobStoreKindError,
  InvalidImportExportUrlError,
  LeaderLockedError,
  IllegalDeletionCacheError,
  CacheUnbalancedError,
  FileStoreStateError,
} from "./errors.js";
export type {
  JobStore,
  BatchOptions,
  WriteFileOptions,
  ReadFileOptions,
  ImportOptions,
  LeaderLock,
  LeaderLockInfo,
  JobStateRecord,
  MailboxMessage,
} from "./job-store.js";
export {
  parseLocator,
  openJobStore,
  registerJobStoreKind,
  knownJobStoreKinds,
  type ParsedLocator,
  type JobStoreFactory,
} from "./locator.js";
export { FileJobStore, FILE_JOB_STORE_VERSION, jobStateRecordOf, type FileJobStoreOptions } from "./file-job-store.js";
export {
  parseFileId,
  mintFileId,
  isFileId,
  sanitizeName,
  assertJobId,
  assertSharedFileName,
  type ParsedFileId,
  type MintFileIdInput,
} from "./ids.js";
export {
  registerUrlAccess,
  knownUrlSchemes,
  normalizeUrl,
  type UrlAccess,
  type UrlSource,
} from "./url-access.js";
export { writeLogFiles, logFileStem, type WriteLogFilesOptions } from "./log-files.js";
export {
  DeferredFunctionManager,
  type DeferredRunner,
  type DeferredFunctionManagerOptions,
} from "./deferred.js";
export {
  AbstractFileStore,
  NonCachingFileStore,
  CachingFileStore,
  createFileStore,
  duBytes,
  type FileStoreOptions,
  type CachingFileStoreOptions,
  type LeaderLogLine,
  type LeaderLogMessage,
  type LocalTempDir,
} from "./file-store/index.js";
