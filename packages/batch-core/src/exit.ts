import type { BatchJobExitReason } from "@toil/job";

// Defined once, in @toil/job (a job description reads them to decide how to retry); re-exported here
// for batch systems, which report them.
export { BATCH_JOB_EXIT_REASONS, BatchJobExitReason, isBatchJobExitReason } from "@toil/job";

/** Exit status reported when the real one is not known (the job was lost, or died without a code). */
export const EXIT_STATUS_UNAVAILABLE_VALUE = 255;

/** A batch job that stopped, as returned (exactly once) by `getUpdatedBatchJob`. */
export interface UpdatedBatchJobInfo {
  /** The batch id `issueBatchJob` returned. */
  jobId: number;
  /**
   * Exit status: 0 is success; a process killed by a signal reports 128 + signal;
   * {@link EXIT_STATUS_UNAVAILABLE_VALUE} when unknown.
   */
  exitStatus: number;
  /** Why the job stopped, or `null` when the backend cannot tell. */
  exitReason: BatchJobExitReason | null;
  /** Seconds of wall-clock time the job ran (> 0), or `null` if the backend does not track it. */
  wallTime: number | null;
  /** The backing system's own id for the job (a pid, a Slurm job id), or `null`. */
  backingId: string | null;
}

/** Builds an {@link UpdatedBatchJobInfo} with the seed's defaults (status 255, no reason, no wall time, no backing id). */
export function updatedBatchJobInfo(
  jobId: number,
  fields: Partial<Omit<UpdatedBatchJobInfo, "jobId">> = {},
): UpdatedBatchJobInfo {
  return {
    jobId,
    exitStatus: fields.exitStatus ?? EXIT_STATUS_UNAVAILABLE_VALUE,
    exitReason: fields.exitReason ?? null,
    wallTime: fields.wallTime ?? null,
    backingId: fields.backingId ?? null,
  };
}
