/**
 * Error classes of @toil/cwl. Every one extends {@link CwlError} (itself a `ToilError`), sets a
 * stable `code` starting with `CWL_`, and says what was wrong and how to fix it. All but a
 * temporary failure are `retryable: false`: running the same document on the same inputs again
 * gives the same result.
 */
import { ToilError } from "@toil/job";

/** Base class of every error raised by @toil/cwl. */
export class CwlError extends ToilError {
  static override readonly code: string = "CWL_ERROR";
  static override readonly retryable: boolean = false;
}

/** A CWL document could not be read, parsed, or does not follow the CWL v1.2 schema. */
export class CwlDocumentError extends CwlError {
  static override readonly code: string = "CWL_INVALID_DOCUMENT";
}

/** The input object (job order) does not match the process's inputs. */
export class CwlInputError extends CwlError {
  static override readonly code: string = "CWL_INVALID_INPUT";
}

/**
 * The document uses a CWL feature this runner does not implement. The standard runner interface
 * reports it with exit code 33.
 */
export class UnsupportedCwlFeatureError extends CwlError {
  static override readonly code: string = "CWL_UNSUPPORTED";
  constructor(
    /** The feature, e.g. `"DockerRequirement"` or `"scatter"`. */
    readonly feature: string,
    message: string,
  ) {
    super(message);
  }
}

/** A parameter reference or expression could not be evaluated. */
export class CwlExpressionError extends CwlError {
  static override readonly code: string = "CWL_EXPRESSION";
}

/** A tool ran but its outputs could not be collected or do not match the declared outputs. */
export class CwlOutputError extends CwlError {
  static override readonly code: string = "CWL_INVALID_OUTPUT";
}

/**
 * A tool exited with a permanent failure code (or a code that is neither a success nor a
 * temporary failure). The job is not retried.
 */
export class CwlPermanentFailureError extends CwlError {
  static override readonly code: string = "CWL_PERMANENT_FAILURE";
  constructor(
    message: string,
    /** The tool's exit code, when it ran. */
    readonly exitCode?: number,
  ) {
    super(message);
  }
}

/** A tool exited with one of its `temporaryFailCodes`: the job is retried (up to `--retryCount`). */
export class CwlTemporaryFailureError extends CwlError {
  static override readonly code: string = "CWL_TEMPORARY_FAILURE";
  static override readonly retryable: boolean = true;
  constructor(
    message: string,
    /** The tool's exit code. */
    readonly exitCode: number,
  ) {
    super(message);
  }
}
