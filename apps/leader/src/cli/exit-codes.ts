/**
 * The exit code of a failed `toil` command, decided by the error's `code` (the tables are in the
 * leader README). Never by class: a batch plugin may bring its own copy of a toil-ts package, whose
 * error classes `instanceof` does not recognise and whose class names only survive bundling with
 * `keepNames`; the code is the same in every copy. `isToilError` recognises a toil-ts error of any
 * copy, so a plugin's bad-input error is still a user's mistake (exit 2), not an internal one.
 */
import { isToilError } from "@toil/job";
import { OPS_EXIT } from "../ops/exit-codes.js";
import { EXIT } from "./io.js";

/** Codes of the errors `toil run` exits with a fixed code for, whatever else happened. */
export const RUN_EXIT_BY_CODE: Readonly<Record<string, number>> = {
  /** Stopped by SIGTERM or SIGINT: the store is ready for `--restart` (not a failure). */
  LEADER_INTERRUPTED: EXIT.INTERRUPTED,
  /** Jobs failed for good. */
  LEADER_FAILED_JOBS: EXIT.WORKFLOW_FAILED,
  /** Only services were left running. */
  LEADER_SERVICE_DEADLOCK: EXIT.WORKFLOW_FAILED,
  /** Stopped with `toil kill`. */
  LEADER_KILLED: EXIT.WORKFLOW_FAILED,
};

/** Codes of the errors the operating commands (`status`, `clean`, ...) exit with a fixed code for. */
export const OPS_EXIT_BY_CODE: Readonly<Record<string, number>> = {
  /** A leader is running the workflow (`clean`, `debug-job` without `--force`). */
  LEADER_RUNNING: OPS_EXIT.BUSY,
};

/** Exit code of the standard CWL runner interface when a document uses a feature this runner does not support. */
export const CWL_EXIT_UNSUPPORTED = 33;

/** Codes of the errors `toil cwl` (and `toil-cwl-runner`) exits with a fixed code for. */
export const CWL_EXIT_BY_CODE: Readonly<Record<string, number>> = {
  /** The document uses a feature this runner does not support. */
  CWL_UNSUPPORTED: CWL_EXIT_UNSUPPORTED,
  /** Stopped by SIGTERM or SIGINT: `--restart` with the same `--jobStore` finishes the run. */
  LEADER_INTERRUPTED: EXIT.INTERRUPTED,
};

/** The error's toil-ts code, or undefined when it is not a toil-ts error (a bug, or a system error). */
function toilErrorCode(err: unknown): string | undefined {
  return isToilError(err) ? err.code : undefined;
}

/**
 * Exit code of `toil run` for `err`: the code's own ({@link RUN_EXIT_BY_CODE}); else, for any other
 * toil-ts error, 2 (a mistake in the input: nothing ran and the store is as it was) unless the
 * workflow had started, then 1; 1 for an error that is not toil-ts's own.
 */
export function runExitCode(err: unknown, workflowStarted: boolean): number {
  const code = toilErrorCode(err);
  if (code === undefined) return EXIT.WORKFLOW_FAILED;
  return RUN_EXIT_BY_CODE[code] ?? (workflowStarted ? EXIT.WORKFLOW_FAILED : EXIT.USAGE);
}

/**
 * Exit code of an operating command for `err`: the code's own ({@link OPS_EXIT_BY_CODE}); 2 for any
 * other toil-ts error (a mistake in the input: a missing store, a newer format, an unknown job);
 * 4 for an error that is not toil-ts's own (an internal error).
 */
export function opsExitCode(err: unknown): number {
  const code = toilErrorCode(err);
  if (code === undefined) return OPS_EXIT.INTERNAL;
  return OPS_EXIT_BY_CODE[code] ?? OPS_EXIT.USAGE;
}

/**
 * Exit code of `toil cwl` for `err`: the code's own ({@link CWL_EXIT_BY_CODE}); 1 for any other CWL
 * error (code `CWL_...`: the document, the inputs or a tool failed); for any other toil-ts error, 2
 * before the job store was opened (the command line is wrong) and 1 after; 1 for an error that is
 * not toil-ts's own.
 */
export function cwlExitCode(err: unknown, storeOpened: boolean): number {
  const code = toilErrorCode(err);
  if (code === undefined) return EXIT.WORKFLOW_FAILED;
  const fixed = CWL_EXIT_BY_CODE[code];
  if (fixed !== undefined) return fixed;
  return code.startsWith("CWL_") || storeOpened ? EXIT.WORKFLOW_FAILED : EXIT.USAGE;
}
