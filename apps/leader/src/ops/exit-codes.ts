/**
 * Exit codes and output streams of the operating commands. Kept free of imports so that building
 * the `toil` program (and `toil --help`) loads no job-store or config code: the commands import that
 * when they run.
 */

/** Exit codes of the operating commands (documented in the leader README). */
export const OPS_EXIT = {
  /** Success. */
  OK: 0,
  /** The command worked and the answer is "not OK": work remains (`status --failIfNotComplete`), the job failed (`debug-job`), the leader did not stop (`kill`). */
  NOT_OK: 1,
  /** A user mistake: bad arguments, no job store at the path, a store of a newer format, an unknown job. */
  USAGE: 2,
  /** Refused because a leader is running the workflow (`clean` without `--force`). */
  BUSY: 3,
  /** An unexpected internal error (rerun with `--logDebug` for the stack trace). */
  INTERNAL: 4,
} as const;

/** Where the operating commands write (the CLI passes the process streams; tests pass buffers). */
export interface OpsIO {
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown };
  cwd: string;
}
