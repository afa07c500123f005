/**
 * Why a batch job stopped. Every batch system maps its own states onto these (for example Slurm's
 * OUT_OF_MEMORY becomes `MEMLIMIT`), and a job description reads them to decide how to retry (more
 * memory after `MEMLIMIT`, no retry charged for `LOST` with unlimited preemptible retries). Toil
 * numbers them (an `IntEnum`, 1 to 9 in this order); toil-ts uses the names, which bus logs and
 * `toil status` print as they are.
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
/** One of the names in {@link BatchJobExitReason}. */
export type BatchJobExitReason = (typeof BatchJobExitReason)[keyof typeof BatchJobExitReason];

/** All exit reasons, in declaration order. */
export const BATCH_JOB_EXIT_REASONS: readonly BatchJobExitReason[] = Object.values(BatchJobExitReason);

/** Type guard for {@link BatchJobExitReason}. */
export function isBatchJobExitReason(value: unknown): value is BatchJobExitReason {
  return typeof value === "string" && (BATCH_JOB_EXIT_REASONS as readonly string[]).includes(value);
}
