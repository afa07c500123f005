/**
 * Error classes of @toil/filestore. All extend {@link JobStoreError} (itself a `ToilError`), and each
 * message says what was wrong and what to do about it.
 */
import { ToilError } from "@toil/job";

/** Base class of every error raised by the job store and the file stores. */
export class JobStoreError extends ToilError {}

/** `initialize()` was called on a location that already holds a job store. */
export class JobStoreExistsError extends JobStoreError {
  constructor(readonly locator: string) {
    super(
      `A job store already exists at ${locator}. Use --restart to continue that workflow, ` +
        `or remove it first (toil clean ${locator}) to start a new one.`,
    );
  }
}

/** `resume()` (or any access) found no job store at the location. */
export class NoSuchJobStoreError extends JobStoreError {
  constructor(
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
  constructor(
    readonly locator: string,
    readonly found: unknown,
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
  constructor(readonly jobId: string) {
    super(`No job with id ${JSON.stringify(jobId)} exists in the job store (it may have finished and been deleted).`);
  }
}

/** No file with this id (or shared-file name) exists in the store. */
export class NoSuchFileError extends JobStoreError {
  constructor(
    readonly fileId: string,
    detail = "",
  ) {
    super(
      `No file ${JSON.stringify(fileId)} exists in the job store${detail ? ` (${detail})` : ""}; it was never ` +
        `written, or it has been deleted.`,
    );
  }
}

/** An id, name, hint or path from outside failed validation (it could escape the store, or is malformed). */
export class InvalidIdError extends JobStoreError {
  constructor(
    readonly kind: string,
    readonly value: string,
    readonly reason: string,
  ) {
    super(`Invalid ${kind} ${JSON.stringify(value)}: ${reason}.`);
  }
}

/** The job-store locator has a scheme no registered job-store kind handles. */
export class UnknownJobStoreKindError extends JobStoreError {
  constructor(
    readonly locator: string,
    readonly kind: string,
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
  constructor(
    readonly url: string,
    reason: string,
  ) {
    super(`Cannot import/export ${JSON.stringify(url)}: ${reason}`);
  }
}

/** Another leader holds the workflow's leader lock. */
export class LeaderLockedError extends JobStoreError {
  constructor(
    readonly locator: string,
    readonly pid: number,
    readonly host: string,
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
  constructor(readonly path: string) {
    super(
      `The cached file ${path} was deleted or moved by the job. Files read with mutable=false are shared with ` +
        `other jobs through the cache: read with { mutable: true } if you need to change or remove the copy.`,
    );
  }
}

/** The cache cannot make room for a job's disk requirement or a file, even after evicting everything unused. */
export class CacheUnbalancedError extends JobStoreError {}

/** Something tried to use a file store outside the job it belongs to, or after it was closed. */
export class FileStoreStateError extends JobStoreError {}
