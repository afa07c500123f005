/**
 * Error classes of @toil/filestore. All extend {@link JobStoreError} (itself a `ToilError`), each sets
 * a stable `code` starting with `FILESTORE_`, and each message says what was wrong and what to do
 * about it.
 */
import { ToilError } from "@toil/job/core";

/** Base class of every error raised by the job store and the file stores. */
export class JobStoreError extends ToilError {
  static override readonly code: string = "FILESTORE_ERROR";
}

/**
 * A write to the job store failed because its filesystem is full (ENOSPC) or over quota (EDQUOT).
 * The write that failed left nothing behind (temp files are removed) and everything committed
 * before it is intact; free space and run the workflow again with `--restart`.
 */
export class JobStoreFullError extends JobStoreError {
  static override readonly code: string = "FILESTORE_FULL";
  /** The errno code: "ENOSPC" or "EDQUOT". */
  readonly errnoCode: string;
  constructor(
    /** The file the store was writing. */
    readonly path: string,
    cause: NodeJS.ErrnoException,
  ) {
    const code = cause.code ?? "ENOSPC";
    super(
      `Out of disk space writing ${path} (${code}: ${code === "EDQUOT" ? "disk quota exceeded" : "no space left on device"}). ` +
        `The filesystem holding the job store is full; what was committed before is intact. Free space on it ` +
        `(or move the job store to a larger filesystem), then run the workflow again with --restart.`,
      { cause },
    );
    this.errnoCode = code;
  }
}

/** `initialize()` was called on a location that already holds a job store. */
export class JobStoreExistsError extends JobStoreError {
  static override readonly code: string = "FILESTORE_EXISTS";
  constructor(
    /** Where the existing job store is. */
    readonly locator: string,
  ) {
    super(
      `A job store already exists at ${locator}. Use --restart to continue that workflow, ` +
        `or remove it first (toil clean ${locator}) to start a new one.`,
    );
  }
}

/**
 * `initialize()` could not make the job store's directory: its parent is not writable (EACCES,
 * EPERM, EROFS), a part of the path is a file (ENOTDIR, EEXIST), and the like. Nothing was created.
 */
export class JobStoreCreateError extends JobStoreError {
  static override readonly code: string = "FILESTORE_CREATE";
  /** The errno code, e.g. "EACCES". */
  readonly errnoCode: string;
  constructor(
    /** Where the job store was to be made. */
    readonly path: string,
    cause: NodeJS.ErrnoException,
  ) {
    const code = cause.code ?? "EIO";
    const why: Record<string, string> = {
      EACCES: "permission denied",
      EPERM: "operation not permitted",
      EROFS: "read-only file system",
      ENOTDIR: "a part of the path is a file, not a directory",
      EEXIST: "a part of the path is a file, not a directory",
    };
    super(
      `Cannot create the job store at ${path}: ${code} (${why[code] ?? cause.message}) on ${cause.path ?? path}. ` +
        `Choose a --jobStore path in a directory you can write to (for example ./js).`,
      { cause },
    );
    this.errnoCode = code;
  }
}

/** `resume()` (or any access) found no job store at the location. */
export class NoSuchJobStoreError extends JobStoreError {
  static override readonly code: string = "FILESTORE_NO_SUCH_STORE";
  constructor(
    /** Where a job store was looked for. */
    readonly locator: string,
    detail = "",
  ) {
    super(
      `No job store exists at ${locator}${detail ? ` (${detail})` : ""}. Check the --jobStore location; ` +
        `a workflow that finished successfully may have deleted it (--clean).`,
    );
  }
}

/** The store on disk was written by a newer (or unknown) layout version. */
export class JobStoreVersionError extends JobStoreError {
  static override readonly code: string = "FILESTORE_VERSION";
  constructor(
    /** Where the job store is. */
    readonly locator: string,
    /** The layout version found on disk. */
    readonly found: unknown,
    /** The newest layout version this release reads. */
    readonly supported: number,
  ) {
    super(
      `The job store at ${locator} has layout version ${JSON.stringify(found)}, but this toil-ts reads ` +
        `version ${supported} and older. Use the toil-ts release that created it (or a newer one).`,
    );
  }
}

/** No job with this id exists in the store. */
export class NoSuchJobError extends JobStoreError {
  static override readonly code: string = "FILESTORE_NO_SUCH_JOB";
  constructor(
    /** The id that was asked for. */
    readonly jobId: string,
  ) {
    super(`No job with id ${JSON.stringify(jobId)} exists in the job store (it may have finished and been deleted).`);
  }
}

/**
 * A stored job description exists but cannot be read (not JSON, cut short, not a job description).
 * Raised where the store knows the job was committed (the workflow still reaches it), so dropping it
 * would silently lose work. A subclass of {@link NoSuchJobError}: code that treats a missing job as
 * absent keeps doing so, with a message that names the file.
 */
export class DamagedJobError extends NoSuchJobError {
  static override readonly code: string = "FILESTORE_DAMAGED_JOB";
  /** Reading the same damaged description again cannot succeed: a job that meets it is not retried. */
  static override readonly retryable: boolean = false;
  constructor(
    jobId: string,
    /** The damaged document. */
    readonly path: string,
    /** What is wrong with it. */
    readonly detail: string,
  ) {
    super(jobId);
    this.message =
      `The description of job ${JSON.stringify(jobId)} in the job store is damaged: ${path} ${detail}. ` +
      `The workflow still needs this job, so it is not dropped and nothing was changed. Restore the file ` +
      `from a backup of the job store, or run the workflow again from the start in a new job store.`;
  }
}

/**
 * Data the job store holds is damaged: a commit-log record, a folded document or result, or a stored
 * file whose CRC-32 does not match, or a bookkeeping file (e.g. `meta/root-job`) that cannot be read.
 */
export class DamagedJobStoreFileError extends JobStoreError {
  static override readonly code: string = "FILESTORE_DAMAGED_FILE";
  /** Reading the same damaged data again cannot succeed: a job that meets it is not retried. */
  static override readonly retryable: boolean = false;
  constructor(
    /** The damaged file. */
    readonly path: string,
    /** What is wrong with it. */
    readonly detail: string,
  ) {
    super(
      `The job store file ${path} is damaged: ${detail}. Nothing was changed. Restore it from a backup of the ` +
        `job store, or run the workflow again from the start in a new job store.`,
    );
  }
}

/**
 * No file with this id (or shared-file name) exists in the store. A file store raises it for any id a
 * job reads that names no stored file, whatever the id looks like (as Toil does); when the id is not
 * a file id at all, `cause` is the {@link InvalidIdError} that says what is wrong with it.
 */
export class NoSuchFileError extends JobStoreError {
  static override readonly code: string = "FILESTORE_NO_SUCH_FILE";
  constructor(
    /** The file id (or shared-file name) that was asked for. */
    readonly fileId: string,
    detail = "",
    options?: { cause?: unknown },
  ) {
    super(
      `No file ${JSON.stringify(fileId)} exists in the job store${detail ? ` (${detail})` : ""}; it was never ` +
        `written, or it has been deleted.`,
      options,
    );
  }
}

/** An id, name, hint or path from outside failed validation (it could escape the store, or is malformed). */
export class InvalidIdError extends JobStoreError {
  static override readonly code: string = "FILESTORE_INVALID_ID";
  constructor(
    /** What the value was meant to be, e.g. `job id` or `shared file name`. */
    readonly kind: string,
    /** The value as given. */
    readonly value: string,
    /** Why it was refused. */
    readonly reason: string,
  ) {
    super(`Invalid ${kind} ${JSON.stringify(value)}: ${reason}.`);
  }
}

/** The job-store locator has a scheme no registered job-store kind handles. */
export class UnknownJobStoreKindError extends JobStoreError {
  static override readonly code: string = "FILESTORE_UNKNOWN_KIND";
  constructor(
    /** The locator as given. */
    readonly locator: string,
    /** Its scheme (the part before the first colon). */
    readonly kind: string,
    /** The kinds that are registered. */
    readonly known: readonly string[],
  ) {
    super(
      `Unknown job store kind '${kind}' in locator ${JSON.stringify(locator)}. Known kinds: ` +
        `${known.map((k) => `${k}:`).join(", ")} (a plain path means file:).`,
    );
  }
}

/** An import/export URL is malformed, has an unsupported scheme, or the transfer failed. */
export class InvalidImportExportUrlError extends JobStoreError {
  static override readonly code: string = "FILESTORE_INVALID_URL";
  constructor(
    /** The URL as given. */
    readonly url: string,
    reason: string,
  ) {
    super(`Cannot import/export ${JSON.stringify(url)}: ${reason}`);
  }
}

/** Another leader holds the workflow's leader lock. */
export class LeaderLockedError extends JobStoreError {
  static override readonly code: string = "FILESTORE_LEADER_LOCKED";
  constructor(
    /** The job store. */
    readonly locator: string,
    /** Process id of the leader holding the lock. */
    readonly pid: number,
    /** Host name of that leader. */
    readonly host: string,
    /** When it took the lock (ms since the epoch). */
    readonly since: number,
  ) {
    super(
      `The workflow in ${locator} is already being run by a leader (pid ${pid} on host ${host}, since ` +
        `${new Date(since).toISOString()}). Wait for it to finish or stop it (toil kill ${locator}). If that ` +
        `leader is gone and its host is unreachable, delete the lock file 'meta/leader.lock' in the store.`,
    );
  }
}

/** A file-store operation broke the cache's rules (e.g. a job deleted a shared cached copy itself). */
export class IllegalDeletionCacheError extends JobStoreError {
  static override readonly code: string = "FILESTORE_ILLEGAL_CACHE_DELETION";
  constructor(
    /** The cached copy that was changed. */
    readonly path: string,
  ) {
    super(
      `The cached file ${path} was deleted or moved by the job. Files read with mutable=false are shared with ` +
        `other jobs through the cache: read with { mutable: true } if you need to change or remove the copy.`,
    );
  }
}

/** The cache cannot make room for a job's disk requirement or a file, even after evicting everything unused. */
export class CacheUnbalancedError extends JobStoreError {
  static override readonly code: string = "FILESTORE_CACHE_UNBALANCED";
}

/** Something tried to use a file store outside the job it belongs to, or after it was closed. */
export class FileStoreStateError extends JobStoreError {
  static override readonly code: string = "FILESTORE_STATE";
}
