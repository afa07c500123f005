/**
 * Error classes of @toil/job. Each extends {@link ToilError} (defined in `@toil/bus`, re-exported
 * here) and sets a stable `code` starting with `JOB_`. Those a retry of the same workflow code
 * cannot fix say so with `retryable: false`.
 */
import { isToilError, ToilError } from "@toil/bus";

export { isToilError, ToilError, type ToilErrorOptions } from "@toil/bus";

/** A requirement (cores, memory, disk, accelerators, preemptible) could not be parsed. */
export class InvalidRequirementError extends ToilError {
  static override readonly code: string = "JOB_INVALID_REQUIREMENT";
  static override readonly retryable: boolean = false;
  constructor(
    /** The requirement that was malformed, e.g. `"memory"`. */
    readonly field: string,
    /** The value as given. */
    readonly value: unknown,
    /** The job (or service) that asked for it, when known. */
    readonly jobName: string | undefined,
    /** What is wrong with it and how to write it instead. */
    readonly reason: string,
  ) {
    super(
      `${jobName === undefined ? "" : `Job '${jobName}': `}invalid ${field} requirement ${describeValue(value)}: ${reason}`,
    );
  }
}

/** The job graph would deadlock or is malformed (cycle, several roots, a non-leaf new checkpoint). */
export class JobGraphDeadlockError extends ToilError {
  static override readonly code: string = "JOB_GRAPH_DEADLOCK";
  static override readonly retryable: boolean = false;
  constructor(
    message: string,
    /** Display names of the jobs involved. */
    readonly jobs: readonly string[],
  ) {
    super(message);
  }
}

/** The same edge was added twice, e.g. a job added as both child and follow-on of one parent. */
export class ConflictingPredecessorError extends ToilError {
  static override readonly code: string = "JOB_CONFLICTING_PREDECESSOR";
  static override readonly retryable: boolean = false;
  constructor(
    /** Display name of the parent. */
    readonly predecessor: string,
    /** Display name of the job added to it twice. */
    readonly successor: string,
  ) {
    super(
      `Job '${predecessor}' is already a direct predecessor of job '${successor}'; ` +
        `a job can be added to the same parent only once (as a child, a follow-on or a service).`,
    );
  }
}

/** A job was used in a way the API does not allow (e.g. adding successors to a service host, `rv()` of a running job handed to a non-successor). */
export class JobUsageError extends ToilError {
  static override readonly code: string = "JOB_USAGE";
}

/** A promise is consumed by a job that may run before the promising job has run. */
export class JobPromiseConstraintError extends ToilError {
  static override readonly code: string = "JOB_PROMISE_CONSTRAINT";
  static override readonly retryable: boolean = false;
  constructor(
    /** Display name of the job that makes the promise. */
    readonly promisingJob: string,
    /** Display name of the job that reads it too early. */
    readonly consumingJob: string,
  ) {
    super(
      `Job '${consumingJob}' consumes a promise of job '${promisingJob}' but is not a successor of it, ` +
        `so it could run before '${promisingJob}' has produced its value. Make '${consumingJob}' a child or ` +
        `follow-on of '${promisingJob}' (or of one of its successors), or add a follow-on indirection.`,
    );
  }
}

/** A promise was read before the job that makes it had run. */
export class UnresolvedPromiseError extends ToilError {
  static override readonly code: string = "JOB_UNRESOLVED_PROMISE";
  constructor(
    /** Id of the job whose result was read too early. */
    readonly promisingJobId: string,
  ) {
    super(
      `A promise of job ${promisingJobId} was read before that job produced its return value. ` +
        `Consume promises only in successors of the promising job (consider adding a follow-on indirection).`,
    );
  }
}

/**
 * A value cannot be stored as job data (a job argument, a job field, a return value), or a job's
 * class or function cannot be found again by a worker.
 */
export class JobSerializationError extends ToilError {
  static override readonly code: string = "JOB_SERIALIZATION";
  static override readonly retryable: boolean = false;
  constructor(
    message: string,
    /** Where in the value the problem is, e.g. `args[1].options.callback`. */
    readonly path?: string,
  ) {
    super(message);
  }
}

/** A job body could not be rebuilt in the worker (module missing, export missing, bad data). */
export class JobRebuildError extends ToilError {
  static override readonly code: string = "JOB_REBUILD";
}

/** A serialized JobDescription (or job body) has an unknown format version or a malformed shape. */
export class JobDescriptionFormatError extends ToilError {
  static override readonly code: string = "JOB_DESCRIPTION_FORMAT";
}

/** {@link JobDescription.assertIsNotNewerThan} failed: a description went backwards in time. */
export class JobVersionError extends ToilError {
  static override readonly code: string = "JOB_VERSION";
}

/**
 * Thrown by a job's `run()` when running it again cannot help (bad input, a tool that reported a
 * permanent failure): the job fails for good at once, whatever `--retryCount` says (see
 * {@link cannotSucceedOnRetry}). Any other error is retried as usual.
 */
export class PermanentJobFailureError extends ToilError {
  static override readonly code: string = "JOB_PERMANENT_FAILURE";
  static override readonly retryable: boolean = false;
}

/**
 * Whether a job that failed with `err` can never succeed by being retried: `err` is a toil-ts error
 * (of any loaded copy of the packages) with `retryable: false`. Here those are a
 * {@link PermanentJobFailureError} (the job said so), or come from how the workflow's code builds
 * jobs (a job class or function that workers cannot find again, a value that cannot be stored, a
 * malformed requirement or job graph), which every retry of the same code repeats. Workers fail
 * such a job at once instead of spending its retries; `--restart` after the cause is fixed retries it.
 */
export function cannotSucceedOnRetry(err: unknown): boolean {
  return isToilError(err) && err.retryable === false;
}

export function describeValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}n`;
  // JSON would print NaN and ±Infinity as null.
  if (typeof value === "number") return Object.is(value, -0) ? "-0" : String(value);
  if (value === undefined) return "undefined";
  if (typeof value === "function") return `function ${value.name || "(anonymous)"}`;
  try {
    const text = JSON.stringify(value);
    return text === undefined ? String(value) : text.length > 80 ? `${text.slice(0, 77)}...` : text;
  } catch {
    return String(value);
  }
}
