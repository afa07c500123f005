/**
 * How a run's outcome is kept in the job store for `toil status`: the leader writes one shared file
 * per outcome holding the time it was written (ms since the epoch), and the newest one is the
 * workflow's state. Import-free, so the leader and the operating commands share it cheaply.
 */

/** The shared file of each outcome. */
export const OUTCOME_MARKERS = {
  /** Written when a run starts and when it ends without failed jobs: killed, interrupted, deadlocked. */
  stopped: "stopped.log",
  /** Every job finished. */
  succeeded: "succeeded.log",
  /** Jobs failed for good. */
  failed: "failed.log",
} as const;

/** An outcome a run leaves behind. */
export type RunOutcome = keyof typeof OUTCOME_MARKERS;
