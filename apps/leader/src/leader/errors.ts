/**
 * Errors of the leader and the `toil` command. Each extends `ToilError` and sets a stable `code`
 * starting with `LEADER_`; the CLI's exit code follows from it (cli/exit-codes.ts).
 */
import { ToilError } from "@toil/job";

/** One job that failed for good. */
export interface FailedJob {
  /** The job's id. */
  jobId: string;
  /** The job's display name. */
  jobName: string;
  /** Batch-system exit reason of its last attempt (FAILED, KILLED, MEMLIMIT, ...), if known. */
  exitReason: string | null;
  /** Exit status of its last attempt, if known. */
  exitStatus: number | null;
  /** The end of the job's log from its last failed attempt ("" if it left none). */
  logTail: string;
}

/** The workflow finished, but some jobs failed for good (after their retries). */
export class FailedJobsError extends ToilError {
  static override readonly code: string = "LEADER_FAILED_JOBS";
  /** Process exit code the CLI uses. */
  readonly exitCode = 1;
  constructor(
    /** The job store of the workflow (kept, so the workflow can be restarted). */
    readonly jobStore: string,
    /** The jobs that failed for good. */
    readonly failedJobs: readonly FailedJob[],
    /** Why the workflow stopped, when not simply because of the failed jobs. */
    readonly reason?: string,
  ) {
    super(FailedJobsError.describe(jobStore, failedJobs, reason));
  }

  /** How many jobs failed for good. */
  get numberOfFailedJobs(): number {
    return this.failedJobs.length;
  }

  private static describe(jobStore: string, jobs: readonly FailedJob[], reason?: string): string {
    const lines = [
      `The workflow in job store ${jobStore} has ${jobs.length} failed job${jobs.length === 1 ? "" : "s"}${reason ? ` (${reason})` : ""}.`,
    ];
    for (const j of jobs.slice(0, 20)) {
      lines.push(`  - ${j.jobName} (${j.jobId}): ${j.exitReason ?? "failed"}${j.exitStatus !== null ? `, exit status ${j.exitStatus}` : ""}`);
      if (j.logTail.trim()) {
        lines.push(...j.logTail.trimEnd().split("\n").slice(-15).map((l) => `      | ${l}`));
      }
    }
    if (jobs.length > 20) lines.push(`  ... and ${jobs.length - 20} more`);
    lines.push("Fix the cause and run again with --restart to retry the failed jobs (finished jobs are not rerun).");
    return lines.join("\n");
  }
}

/** Only services are running and nothing else can make progress. */
export class DeadlockError extends ToilError {
  static override readonly code: string = "LEADER_SERVICE_DEADLOCK";
}

/** The workflow was stopped with `toil kill`. */
export class WorkflowKilledError extends ToilError {
  static override readonly code: string = "LEADER_KILLED";
}

/**
 * The leader was asked to stop by a signal (SIGTERM, or SIGINT from Ctrl-C): it stopped the jobs it
 * had issued, left the job store consistent and exited with {@link WorkflowInterruptedError.exitCode}.
 * `--restart` resumes the workflow; jobs that finished are not run again.
 */
export class WorkflowInterruptedError extends ToilError {
  static override readonly code: string = "LEADER_INTERRUPTED";
  /** Process exit code the CLI uses (distinct from 1, a failed workflow). */
  static readonly exitCode = 3;
  /** Process exit code the CLI uses for this error (3). */
  readonly exitCode = WorkflowInterruptedError.exitCode;
  constructor(
    message: string,
    /** The signal that stopped the leader. */
    readonly signal: NodeJS.Signals,
  ) {
    super(message);
  }
}

/** Misuse of the `Toil` object (e.g. `start` outside its scope, or `start` on a restart). */
export class ToilContextError extends ToilError {
  static override readonly code: string = "LEADER_CONTEXT";
}

/** The job store already holds a workflow (start without --restart) or holds none (restart). */
export class JobStoreStateError extends ToilError {
  static override readonly code: string = "LEADER_JOB_STORE_STATE";
}

/** A workflow file could not be loaded or does not have the expected shape. */
export class WorkflowFileError extends ToilError {
  static override readonly code: string = "LEADER_WORKFLOW_FILE";
}
