/**
 * The `JobStore` contract: everything durable about a workflow. {@link FileJobStore} is the embedded
 * implementation; another store (a database, an object store) implements this interface, registers a
 * locator kind (see `registerJobStoreKind`) and runs the shared conformance suite.
 */
import type { Readable, Writable } from "node:stream";
import type { Config, FileID, JobDescription, JobDescriptionJSON } from "@toil/job";

/** Where a new file goes and what its id says. */
export interface WriteFileOptions {
  /** Job the file belongs to. With `cleanup`, the file is deleted when that job is deleted. */
  jobId?: string;
  /** Tie the file's lifetime to `jobId`'s. Default false. */
  cleanup?: boolean;
  /** Words to show in the id (sanitized). */
  hints?: readonly string[];
  /** Basename recorded in the id; default: the local file's name (streams: "stream"). */
  basename?: string;
  /** Executable bit; default: the local file's owner-execute bit (streams: false). */
  executable?: boolean;
}

export interface ReadFileOptions {
  /** A symlink is acceptable (only honoured when the store allows symlinked reads). Default false. */
  symlink?: boolean;
  /** The caller may modify the result: never a link shared with the store. Default true. */
  mutable?: boolean;
}

export interface ImportOptions {
  /** Store as this shared file instead of minting a FileID. */
  sharedFileName?: string;
  /** Allow a symlink to a local source instead of a copy (only when the store links imports). */
  symlink?: boolean;
  /** Allow a hard link to a local source on the same device. Default false. */
  hardlink?: boolean;
  /** Tie the imported file to a job (deleted with it). */
  jobId?: string;
  cleanup?: boolean;
}

/** A handle on the leader lock; `release()` gives it up. */
export interface LeaderLock {
  readonly pid: number;
  readonly host: string;
  /** True while the lock file on disk is still this holder's. */
  isHeld(): Promise<boolean>;
  release(): Promise<void>;
}

/** Who holds (or last held) the leader lock, for operators' tools. */
export interface LeaderLockInfo {
  pid: number;
  host: string;
  /** When the leader took the lock (ms epoch). */
  since: number;
  /** True: running on this machine; false: dead (a stale lock); undefined: another host, cannot tell. */
  alive: boolean | undefined;
  /** The holder runs on this machine. */
  local: boolean;
}

/**
 * The part of a job description that says what state the job is in (what `toil status` counts and
 * draws), without its body, requirements or chain. Field names and meanings as in
 * `JobDescriptionJSON`; `hasBody` replaces `body`.
 */
export interface JobStateRecord {
  id: string;
  jobName: string;
  unitName?: string;
  displayName?: string;
  version: number;
  /** The job still has a body to run. */
  hasBody: boolean;
  remainingTryCount?: number;
  service?: boolean;
  checkpoint?: boolean;
  childIds?: string[];
  followOnIds?: string[];
  adoptedPhases?: string[][];
  serviceTree?: Record<string, string[]>;
  logFileId?: string;
}

/** A message from the logs/stats mailbox as `peekLogs` hands it out. */
export interface MailboxMessage {
  data: Buffer;
  /** When it was written (ms epoch). */
  writtenAt: number;
}

/** The job store interface (Toil's AbstractJobStore, camelCase, one name per thing). */
export interface JobStore {
  /** Canonical locator, e.g. `file:/abs/path`. */
  readonly locator: string;
  /** The workflow configuration (after `initialize` or `resume`). */
  readonly config: Config;

  // ---- lifecycle
  /** Create a new store holding `config`. Fails with JobStoreExistsError if one exists. */
  initialize(config: Config): Promise<void>;
  /** Open an existing store (NoSuchJobStoreError if absent; creates nothing). */
  resume(): Promise<void>;
  /** Delete the store and everything in it. Idempotent; works on a half-written store. */
  destroy(): Promise<void>;
  /** Persist `config` (e.g. after a restart overlaid new options). */
  writeConfig(config: Config): Promise<void>;

  // ---- jobs
  /** Give a description with a temporary id its permanent id. */
  assignJobId(job: JobDescription): void;
  createJob(job: JobDescription): Promise<JobDescription>;
  /** Create many jobs at once (one durability flush for the whole group). */
  createJobs(jobs: Iterable<JobDescription>): Promise<void>;
  /**
   * Run `fn` buffering every create/update and result it makes; they are written together at the end
   * (results first, then the jobs in call order), with one durability flush for the whole group.
   * Until the batch ends, none of them is visible to readers.
   */
  batch<T>(fn: () => Promise<T>): Promise<T>;
  jobExists(jobId: string): Promise<boolean>;
  /** NoSuchJobError if missing. */
  loadJob(jobId: string): Promise<JobDescription>;
  /** Atomically replace the stored description (bumps its version). */
  updateJob(job: JobDescription): Promise<void>;
  /** Delete the job and the files tied to it. Idempotent. */
  deleteJob(jobId: string): Promise<void>;
  /** Every stored job (skips ones deleted while iterating). */
  jobs(): AsyncIterable<JobDescription>;
  setRootJob(jobId: string): Promise<void>;
  /** Root job id, or undefined if none was set. */
  rootJobId(): Promise<string | undefined>;
  /** NoSuchJobError if there is no root job (never set, or finished). */
  loadRootJob(): Promise<JobDescription>;
  /** Serialized return value of a finished job (for promises). */
  writeResult(jobId: string, value: string): Promise<void>;
  /** NoSuchFileError if the job has no stored result. */
  readResult(jobId: string): Promise<string>;
  hasResult(jobId: string): Promise<boolean>;
  deleteResult(jobId: string): Promise<void>;
  /** The root job's stored result. */
  getRootJobReturnValue(): Promise<string>;
  /**
   * Restart housekeeping: delete jobs unreachable from the root, replay pending `filesToDelete`
   * journals, drop references to successors that no longer exist. Returns the root description, or
   * undefined when the workflow has no root job left.
   */
  clean(jobCache?: Map<string, JobDescription>): Promise<JobDescription | undefined>;

  // ---- files
  writeFile(localPath: string, options?: WriteFileOptions): Promise<FileID>;
  writeFileStream(write: (stream: Writable) => void | Promise<void>, options?: WriteFileOptions): Promise<FileID>;
  getEmptyFileStoreId(options?: WriteFileOptions): Promise<FileID>;
  readFile(fileId: string, localPath: string, options?: ReadFileOptions): Promise<void>;
  readFileStream(fileId: string): Promise<Readable>;
  /** Atomic: a failure keeps the old content. Returns the id with the new size. */
  updateFile(fileId: string, localPath: string): Promise<FileID>;
  updateFileStream(fileId: string, write: (stream: Writable) => void | Promise<void>): Promise<FileID>;
  /** Idempotent. */
  deleteFile(fileId: string): Promise<void>;
  fileExists(fileId: string): Promise<boolean>;
  /** Current size in bytes, 0 if the file does not exist. */
  getFileSize(fileId: string): Promise<number>;
  getPublicUrl(fileId: string): Promise<string>;

  // ---- shared files (small named files: the user's, and the store's own bookkeeping)
  writeSharedFile(name: string, data: string | Uint8Array): Promise<void>;
  writeSharedFileStream(name: string, write: (stream: Writable) => void | Promise<void>): Promise<void>;
  readSharedFile(name: string): Promise<Buffer>;
  readSharedFileStream(name: string): Promise<Readable>;
  sharedFileExists(name: string): Promise<boolean>;
  getSharedPublicUrl(name: string): Promise<string>;

  // ---- logs/stats mailbox
  /** Post a message (a worker's stats and log JSON) for the leader. */
  writeLogs(message: string | Uint8Array): Promise<void>;
  /** Hand unread messages to `callback` (each only once), or every message ever written with `readAll`. */
  readLogs(callback: (message: Buffer) => void, readAll?: boolean): Promise<number>;

  /**
   * Every message ever written to the mailbox, in write order, WITHOUT claiming any (a running leader
   * still receives them through readLogs). For tools such as `toil stats`.
   */
  peekLogs(callback: (message: MailboxMessage) => void): Promise<number>;

  // ---- cheap scans for tools (status, stats, debug-job)
  /** The state of every stored job, from the store's job-state index when it has one (one read). */
  jobStates(): AsyncIterable<JobStateRecord>;
  /** Every stored job description as its JSON document (no job is rebuilt); skips unreadable ones. */
  jobDocuments(): AsyncIterable<JobDescriptionJSON>;

  // ---- leader bookkeeping
  acquireLeaderLock(): Promise<LeaderLock>;
  /** Who holds the leader lock (undefined when no leader holds it). */
  readLeaderLock(): Promise<LeaderLockInfo | undefined>;
  writeLeaderPid(): Promise<void>;
  readLeaderPid(): Promise<{ pid: number; host: string } | undefined>;
  writeKillFlag(kill?: boolean): Promise<void>;
  readKillFlag(): Promise<boolean>;
  /** Environment variables workers need to reach this store (none for the file store). */
  getEnv(): Record<string, string>;
  /** Whether file stores should cache by default with this kind of store. */
  defaultCaching(): boolean;

  // ---- import/export
  importFile(srcUrl: string, options?: ImportOptions): Promise<FileID | undefined>;
  exportFile(fileId: string, dstUrl: string): Promise<void>;
}
