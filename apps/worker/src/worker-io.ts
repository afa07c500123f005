/** The exit codes of `toil-worker` and how a worker is started. */
/** Exit codes of `toil-worker`. */
export const WORKER_EXIT = {
  /** The job (and any chained jobs) ran and were committed, or there was nothing to do. */
  OK: 0,
  /** The job failed; its log was stored with the job for the leader. */
  JOB_FAILED: 1,
  /** Bad command line. */
  USAGE: 2,
  /** The job store could not be opened (it does not exist or is not reachable from this machine). */
  NO_JOB_STORE: 76,
} as const;

/** How the worker was started. */
export interface WorkerIO {
  /** The environment the job runs with. */
  env: Record<string, string | undefined>;
  /** Working directory of the job. */
  cwd: string;
  /** File the worker's stdout goes to (for output capture), when redirected. */
  stdoutPath?: string;
  /** File the worker's stderr goes to, when redirected. */
  stderrPath?: string;
  /** Running inside the leader (`--debugWorker`): no output capture, no fault injection. */
  inProcess?: boolean;
  /**
   * Called once the job no longer needs the process (its output, environment and temporary files
   * are given back) and only its commit's sync is left; a warm host then takes its next job while
   * the sync runs (and syncs of jobs ending together are shared).
   */
  release?: () => void;
}
