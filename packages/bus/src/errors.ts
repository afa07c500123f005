/**
 * Errors thrown by @toil/bus. The bus sits below every other package, so it has its own base
 * class rather than extending `ToilError`; each class carries a stable `code`.
 */

/** Base class of every @toil/bus error. */
export class BusError extends Error {
  /** Stable machine-readable code, e.g. `BUS_LOG_PARSE`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A message with a `type` the bus does not know was published or read in strict mode. */
export class UnknownBusMessageTypeError extends BusError {
  /** The unknown `type` value. */
  readonly messageType: string;
  /** 1-based line number in a bus log, when the message came from one. */
  readonly line: number | undefined;

  constructor(messageType: string, where?: { path: string; line: number }) {
    const at = where ? ` at ${where.path}:${where.line}` : "";
    super(
      "BUS_UNKNOWN_MESSAGE_TYPE",
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
  /** Path of the file that was read. */
  readonly path: string;

  constructor(path: string, problem: string) {
    super("BUS_LOG_FORMAT", `${path} is not a readable toil-ts bus log: ${problem}`);
    this.path = path;
  }
}

/** A bus log file does not exist (the workflow may not have written one yet, or it was deleted). */
export class BusLogNotFoundError extends BusError {
  /** Path of the missing file. */
  readonly path: string;

  constructor(path: string, options?: { cause?: unknown }) {
    super(
      "BUS_LOG_NOT_FOUND",
      `Message bus file is missing: ${path}. Check the path (the leader records it in the workflow config) or start the workflow with a bus log.`,
      options,
    );
    this.path = path;
  }
}

/** A complete (newline-terminated) line of a bus log is not a valid message (strict mode only). */
export class BusLogParseError extends BusError {
  /** Path of the bus log. */
  readonly path: string;
  /** 1-based line number. */
  readonly line: number;

  constructor(path: string, line: number, problem: string) {
    super(
      "BUS_LOG_PARSE",
      `${path}:${line}: ${problem}. The line is corrupt; read the log without \`strict\` to skip bad lines (they are counted in stats.malformedLines).`,
    );
    this.path = path;
    this.line = line;
  }
}

/** One or more subscribers threw while `check()` delivered a batch. Every message was still delivered to every other subscriber. */
export class BusHandlerError extends BusError {
  /** The errors thrown by handlers, in delivery order. */
  readonly errors: readonly unknown[];

  constructor(errors: readonly unknown[]) {
    const first = errors[0];
    const firstText = first instanceof Error ? first.message : String(first);
    super(
      "BUS_HANDLER_FAILED",
      `${errors.length} message handler call(s) threw during MessageBus.check(); first: ${firstText}. ` +
        "Handlers should catch their own errors; the remaining messages of the batch were still delivered.",
      { cause: first },
    );
    this.errors = errors;
  }
}

/** An argument to a bus API was invalid. */
export class BusUsageError extends BusError {
  constructor(message: string) {
    super("BUS_USAGE", message);
  }
}
