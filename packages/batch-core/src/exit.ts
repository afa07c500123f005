/** Exit status reported when the real one is not known (the job was lost, or died without a code). */
export const EXIT_STATUS_UNAVAILABLE_VALUE = 255;

/**
 * Why a batch job stopped. Every backend maps its own states onto these (for example Slurm's
 * OUT_OF_MEMORY becomes `MEMLIMIT`, so the leader can retry with more memory).
 */
export const BatchJobExitReason = {
  /** The job ran to completion (whatever its exit status). */
  FINISHED: "FINISHED",
  /** The job failed (non-zero exit, or the backend says so). */
  FAILED: "FAILED",
  /** The backend lost the job (node failure, boot failure). */
  LOST: "LOST",
  /** The job was killed (by a signal, a cancellation, a time limit). */
  KILLED: "KILLED",
  /** The backend could not run the job at all (for example the command could not be started). */
  ERROR: "ERROR",
  /** The job exceeded its memory limit. */
  MEMLIMIT: "MEMLIMIT",
  /** The backend no longer knows the job. */
  MISSING: "MISSING",
  /** The job ran longer than the allowed maximum duration. */
  MAXJOBDURATION: "MAXJOBDURATION",
  /** The job could not be placed in any partition/queue. */
  PARTITION: "PARTITION",
} as const;
export type BatchJobExitReason = (typeof BatchJobExitReason)[keyof typeof BatchJobExitReason];

/** All exit reasons, in declaration order. */
export const BATCH_JOB_EXIT_REASONS: readonly BatchJobExitReason[] = Object.values(BatchJobExitReason);

/** Type guard for {@link BatchJobExitReason}. */
export function isBatchJobExitReason(value: unknown): value is BatchJobExitReason {
  return typeof value === "string" && (BATCH_JOB_EXIT_REASONS as readonly string[]).includes(value);
}

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
