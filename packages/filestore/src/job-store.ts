/**
 * The `JobStore` contract: everything durable about a workflow. {@link FileJobStore} is the embedded
 * implementation; another store (a database, an object store) implements this interface, registers a
 * locator kind (see `registerJobStoreKind`) and runs the shared conformance suite.
 */
import type { Config, JobDescription, JobDescriptionJSON, JobStoreView } from "@toil/job/core";

export type { WriteFileOptions, ReadFileOptions, ImportOptions } from "@toil/job/core";

/** How {@link JobStore.batch} commits its group. */
export interface BatchOptions {
  /**
   * Wait until the group is durable (default true). With false the group is visible to every
   * reader when `batch` returns, and durable after the next {@link JobStore.sync}: a worker commits
   * each link of a chain this way and syncs once before it reports.
   */
  sync?: boolean;
}

/** A handle on the leader lock; `release()` gives it up. */
export interface LeaderLock {
  /** Process id of the holder (this process). */
  readonly pid: number;
  /** Host name of the holder. */
  readonly host: string;
  /** True while the lock file on disk is still this holder's. */
  isHeld(): Promise<boolean>;
  /** Gives the lock up (removes the lock file if it is still this holder's). */
  release(): Promise<void>;
}

/** Who holds (or last held) the leader lock, for operators' tools. */
export interface LeaderLockInfo {
  /** Process id of the holder. */
  pid: number;
  /** Host name of the holder. */
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
  /** The job's id. */
  id: string;
  /** The job's name (class or function name). */
  jobName: string;
  /** Extra name, when set. */
  unitName?: string;
  /** Name shown in logs, when it differs from `jobName`. */
  displayName?: string;
  /** How many times the description was written. */
  version: number;
  /** The job still has a body to run. */
  hasBody: boolean;
  /** Tries left, when it differs from the configured count. */
  remainingTryCount?: number;
  /** True for a service host job. */
  service?: boolean;
  /** True for a checkpoint job. */
  checkpoint?: boolean;
  /** Ids of its children. */
  childIds?: string[];
  /** Ids of its follow-ons. */
  followOnIds?: string[];
  /** Successor phases adopted from chained jobs. */
  adoptedPhases?: string[][];
  /** Service host id to the ids of its child service hosts. */
  serviceTree?: Record<string, string[]>;
  /** File holding the log of its last failed attempt. */
  logFileId?: string;
}

/** A message from the logs/stats mailbox as `peekLogs` hands it out. */
export interface MailboxMessage {
  /** The message as written. */
  data: Buffer;
  /** When it was written (ms epoch). */
  writtenAt: number;
}

/**
 * The job store interface (Toil's AbstractJobStore, camelCase, one name per thing). The part a running
 * job may use (files, shared files, configuration) is declared in @toil/job as `JobStoreView`, so
 * `fileStore.jobStore` is typed without this package.
 */
export interface JobStore extends JobStoreView {
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
  /** Creates one job (see {@link createJobs}) and returns it. */
  createJob(job: JobDescription): Promise<JobDescription>;
  /** Create many jobs at once (one durability flush for the whole group). */
  createJobs(jobs: Iterable<JobDescription>): Promise<void>;
  /**
   * Run `fn` buffering every create/update and result it makes; they are written together at the end
   * (results first, then the jobs in call order), with one durability flush for the whole group.
   * Until the batch ends, none of them is visible to readers.
   */
  batch<T>(fn: () => Promise<T>, options?: BatchOptions): Promise<T>;
  /**
   * Make every change this instance made durable (those of batches run with `sync: false`, and
   * deletions and mailbox messages, which are not synced on their own).
   */
  sync(): Promise<void>;
  /** Sync and release what this instance holds open (it may still be used afterwards). */
  close(): Promise<void>;
  /** Whether a job with this id is stored. */
  jobExists(jobId: string): Promise<boolean>;
  /** NoSuchJobError if missing. */
  loadJob(jobId: string): Promise<JobDescription>;
  /** Atomically replace the stored description (bumps its version). */
  updateJob(job: JobDescription): Promise<void>;
  /** Delete the job and the files tied to it. Idempotent. */
  deleteJob(jobId: string): Promise<void>;
  /** Every stored job (skips ones deleted while iterating). */
  jobs(): AsyncIterable<JobDescription>;
  /** Records which job is the workflow's root. */
  setRootJob(jobId: string): Promise<void>;
  /** Root job id, or undefined if none was set. */
  rootJobId(): Promise<string | undefined>;
  /** NoSuchJobError if there is no root job (never set, or finished). */
  loadRootJob(): Promise<JobDescription>;
  /** Serialized return value of a finished job (for promises). */
  writeResult(jobId: string, value: string): Promise<void>;
  /** NoSuchFileError if the job has no stored result. */
  readResult(jobId: string): Promise<string>;
  /** Whether a result is stored for the job. */
  hasResult(jobId: string): Promise<boolean>;
  /**
   * Optional: a reader of the results stored now, for many reads in a row; it looks for other
   * processes' writes once, when made (see `StoredResults.resultReader` of @toil/job). A damaged
   * result still raises `DamagedJobStoreFileError`.
   */
  resultReader?(): (jobId: string) => string | undefined;
  /** Deletes the job's stored result (idempotent). */
  deleteResult(jobId: string): Promise<void>;
  /** The root job's stored result. */
  getRootJobReturnValue(): Promise<string>;
  /**
   * Restart housekeeping: delete jobs unreachable from the root, replay pending `filesToDelete`
   * journals, drop references to successors that no longer exist. Returns the root description, or
   * undefined when the workflow has no root job left.
   */
  clean(jobCache?: Map<string, JobDescription>): Promise<JobDescription | undefined>;

  // ---- files and shared files: see JobStoreView (@toil/job)
  /**
   * Calls `listener` whenever the file may have changed or been deleted (the caller then looks
   * again), soon after the change, from any process on this machine; returns a function that stops
   * watching. Best effort: changes made on another machine (a shared filesystem) may go unseen, so
   * callers keep polling as well, less often. Optional: a store that cannot watch leaves it out.
   */
  watchFile?(fileId: string, listener: () => void): () => void;

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
  /** Takes the leader lock; fails with `LeaderLockedError` while another live leader holds it. */
  acquireLeaderLock(): Promise<LeaderLock>;
  /** Who holds the leader lock (undefined when no leader holds it). */
  readLeaderLock(): Promise<LeaderLockInfo | undefined>;
  /** Records this process as the workflow's leader (what `toil kill` signals). */
  writeLeaderPid(): Promise<void>;
  /** The last leader recorded by {@link writeLeaderPid}, if any. */
  readLeaderPid(): Promise<
    | {
        /** Process id of the leader. */
        pid: number;
        /** Host name of the leader. */
        host: string;
      }
    | undefined
  >;
  /** Sets (or with `false` clears) the flag that asks the leader to stop the workflow. */
  writeKillFlag(kill?: boolean): Promise<void>;
  /** Whether the kill flag is set. */
  readKillFlag(): Promise<boolean>;
  /** Environment variables workers need to reach this store (none for the file store). */
  getEnv(): Record<string, string>;
  /** Whether file stores should cache by default with this kind of store. */
  defaultCaching(): boolean;

  // ---- import/export: see JobStoreView (@toil/job)
}
