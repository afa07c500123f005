/** Where the CLI writes (tests pass their own). */
export interface CliIO {
  /** Where results and reports go. */
  stdout: NodeJS.WritableStream;
  /** Where progress, logs and errors go. */
  stderr: NodeJS.WritableStream;
  /** The environment options are read from. */
  env: NodeJS.ProcessEnv;
  /** Directory relative paths are resolved against. */
  cwd: string;
}

/** Process exit codes of the `toil` command. */
export const EXIT = {
  /** Success. */
  OK: 0,
  /** The workflow ran but jobs failed, or it deadlocked / was killed. */
  WORKFLOW_FAILED: 1,
  /** Bad command line, options, config file or workflow file: nothing ran. */
  USAGE: 2,
  /**
   * Stopped by SIGTERM or SIGINT (Ctrl-C): the leader stopped its running jobs and left the job
   * store ready for `--restart`.
   */
  INTERRUPTED: 3,
} as const;

