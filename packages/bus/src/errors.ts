/**
 * The errors of toil-ts. Every error a toil-ts package raises extends {@link ToilError}, defined
 * here in the lowest package so that every package (and every batch plugin) shares one base class.
 * Each class sets a stable `code` (a static property, copied to every error it makes):
 * `<PACKAGE>_<WHAT>` in capitals, namespaced by the package that raises it (`BUS_LOG_PARSE`,
 * `FILESTORE_NO_SUCH_JOB`, `LEADER_FAILED_JOBS`). Programs decide on an error by its `code`, never
 * by its class name or `instanceof`: a class name is lost when code is minified, and `instanceof`
 * fails when two copies of a package are loaded (a batch plugin that brings its own).
 */

/** Options every toil-ts error takes. */
export interface ToilErrorOptions {
  /** The error that led to this one. */
  cause?: unknown;
  /** Whether running the same work again may succeed (see {@link ToilError.retryable}). */
  retryable?: boolean;
}

/**
 * Marks toil-ts errors whatever copy of this package made them: each copy has its own `ToilError`
 * class, but `Symbol.for` gives every copy the same symbol.
 */
const TOIL_ERROR_BRAND = Symbol.for("@toil/bus.ToilError");

/** Base class of every error raised by toil-ts packages. */
export class ToilError extends Error {
  static {
    Object.defineProperty(this.prototype, TOIL_ERROR_BRAND, { value: true });
  }

  /**
   * The code of this class's errors, `<PACKAGE>_<WHAT>` (e.g. `BUS_LOG_PARSE`): each class sets its
   * own (one that sets none inherits its parent's). `TOIL_ERROR` is this base class's, for errors
   * no class describes better.
   */
  static readonly code: string = "TOIL_ERROR";

  /** Stable machine-readable code of this error: its class's static `code`. */
  readonly code: string;

  /**
   * Whether running the same work again may succeed, for every error of this class: `false` when
   * it cannot (a mistake in the workflow's code that every retry repeats; a worker then fails the
   * job at once instead of spending its retries), `true` when it may, unset when the class does not
   * say. The `retryable` option of one error overrides it.
   */
  static readonly retryable?: boolean;

  /** Whether running the same work again may succeed (see the static {@link ToilError.retryable}); unset when unknown. */
  declare readonly retryable?: boolean;

  constructor(message: string, options?: ToilErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = (new.target as typeof ToilError).code;
    const retryable = options?.retryable ?? (new.target as typeof ToilError).retryable;
    if (retryable !== undefined) this.retryable = retryable;
  }
}

/**
 * Whether `value` is a toil-ts error: a {@link ToilError} of this copy of `@toil/bus` or of any
 * other copy loaded in the process (where `instanceof` says no). Its `code` is then a string.
 */
export function isToilError(value: unknown): value is ToilError {
  if (value instanceof ToilError) return true;
  if (typeof value !== "object" || value === null) return false;
  const candidate = value as { [TOIL_ERROR_BRAND]?: unknown; code?: unknown };
  return candidate[TOIL_ERROR_BRAND] === true && typeof candidate.code === "string";
}

/** Base class of every @toil/bus error. */
export class BusError extends ToilError {
  static override readonly code: string = "BUS_ERROR";
}

/** A message with a `type` the bus does not know was published or read in strict mode. */
export class UnknownBusMessageTypeError extends BusError {
  static override readonly code: string = "BUS_UNKNOWN_MESSAGE_TYPE";
  /** The unknown `type` value. */
  readonly messageType: string;
  /** 1-based line number in a bus log, when the message came from one. */
  readonly line: number | undefined;

  constructor(messageType: string, where?: { path: string; line: number }) {
    const at = where ? ` at ${where.path}:${where.line}` : "";
    super(
      `Unknown bus message type ${JSON.stringify(messageType)}${at}. ` +
        (where
          ? "The log was probably written by a newer toil-ts; upgrade @toil/bus, or read it without `strict` to skip such lines."
          : "Build messages with the factory functions (jobIssued(), jobCompleted(), ...) so `type` is always one of BUS_MESSAGE_TYPES."),
    );
    this.messageType = messageType;
    this.line = where?.line;
  }
}

/** A bus log file is not a bus log, or has a format version this reader does not support. */
export class BusLogFormatError extends BusError {
  static override readonly code: string = "BUS_LOG_FORMAT";
  /** Path of the file that was read. */
  readonly path: string;

  constructor(path: string, problem: string) {
    super(`${path} is not a readable toil-ts bus log: ${problem}`);
    this.path = path;
  }
}

/** A bus log file does not exist (the workflow may not have written one yet, or it was deleted). */
export class BusLogNotFoundError extends BusError {
  static override readonly code: string = "BUS_LOG_NOT_FOUND";
  /** Path of the missing file. */
  readonly path: string;

  constructor(path: string, options?: { cause?: unknown }) {
    super(
      `Message bus file is missing: ${path}. Check the path (the leader records it in the workflow config) or start the workflow with a bus log.`,
      options,
    );
    this.path = path;
  }
}

/** A complete (newline-terminated) line of a bus log is not a valid message (strict mode only). */
export class BusLogParseError extends BusError {
  static override readonly code: string = "BUS_LOG_PARSE";
  /** Path of the bus log. */
  readonly path: string;
  /** 1-based line number. */
  readonly line: number;

  constructor(path: string, line: number, problem: string) {
    super(
      `${path}:${line}: ${problem}. The line is corrupt; read the log without \`strict\` to skip bad lines (they are counted in stats.malformedLines).`,
    );
    this.path = path;
    this.line = line;
  }
}

/** One or more subscribers threw while `check()` delivered a batch. Every message was still delivered to every other subscriber. */
export class BusHandlerError extends BusError {
  static override readonly code: string = "BUS_HANDLER_FAILED";
  /** The errors thrown by handlers, in delivery order. */
  readonly errors: readonly unknown[];

  constructor(errors: readonly unknown[]) {
    const first = errors[0];
    const firstText = first instanceof Error ? first.message : String(first);
    super(
      `${errors.length} message handler call(s) threw during MessageBus.check(); first: ${firstText}. ` +
        "Handlers should catch their own errors; the remaining messages of the batch were still delivered.",
      { cause: first },
    );
    this.errors = errors;
  }
}

/** An argument to a bus API was invalid. */
export class BusUsageError extends BusError {
  static override readonly code: string = "BUS_USAGE";
  constructor(message: string) {
    super(message);
  }
}
