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

import type { CommanderError } from "commander";

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

/** The exit code of one of commander's own exits: success after `--help` or `--version`, else a usage error. */
export function commanderExitCode(err: CommanderError): number {
  return err.code === "commander.helpDisplayed" || err.code === "commander.version" || err.code === "commander.help" ? EXIT.OK : EXIT.USAGE;
}
