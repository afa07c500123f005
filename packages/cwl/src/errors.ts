/**
 * Error classes of @toil/cwl. Every one extends {@link CwlError} (itself a `ToilError`), carries a
 * stable `code`, and says what was wrong and how to fix it.
 */
import { ToilError } from "@toil/job";

/** Base class of every error raised by @toil/cwl. */
export class CwlError extends ToilError {
  constructor(
    /** A stable machine-readable code, e.g. `"CWL_INVALID_DOCUMENT"`. */
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A CWL document could not be read, parsed, or does not follow the CWL v1.2 schema. */
export class CwlDocumentError extends CwlError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("CWL_INVALID_DOCUMENT", message, options);
  }
}

/** The input object (job order) does not match the process's inputs. */
export class CwlInputError extends CwlError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("CWL_INVALID_INPUT", message, options);
  }
}

/**
 * The document uses a CWL feature this runner does not implement. The standard runner interface
 * reports it with exit code 33.
 */
export class UnsupportedCwlFeatureError extends CwlError {
  constructor(
    /** The feature, e.g. `"DockerRequirement"` or `"scatter"`. */
    readonly feature: string,
    message: string,
  ) {
    super("CWL_UNSUPPORTED", message);
  }
}

/** A parameter reference or expression could not be evaluated. */
export class CwlExpressionError extends CwlError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("CWL_EXPRESSION", message, options);
  }
}

/** A tool ran but its outputs could not be collected or do not match the declared outputs. */
export class CwlOutputError extends CwlError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("CWL_INVALID_OUTPUT", message, options);
  }
}

/**
 * A tool exited with a permanent failure code (or a code that is neither a success nor a
 * temporary failure). The job is not retried.
 */
export class CwlPermanentFailureError extends CwlError {
  constructor(
    message: string,
    /** The tool's exit code, when it ran. */
    readonly exitCode?: number,
  ) {
    super("CWL_PERMANENT_FAILURE", message);
  }
}

/** A tool exited with one of its `temporaryFailCodes`: the job is retried (up to `--retryCount`). */
export class CwlTemporaryFailureError extends CwlError {
  constructor(
    message: string,
    /** The tool's exit code. */
    readonly exitCode: number,
  ) {
    super("CWL_TEMPORARY_FAILURE", message);
  }
}
