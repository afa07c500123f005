import { closeSync, createReadStream, fstatSync, openSync, readSync, writeSync } from "node:fs";
import { BusLogFormatError, BusLogNotFoundError, BusLogParseError, BusUsageError, UnknownBusMessageTypeError } from "./errors.js";
import { messageProblem, type BusMessage } from "./messages.js";

/** Version of the bus log format written by this package (see the package README). */
export const BUS_LOG_FORMAT_VERSION = 1;

/** The `format` value of a bus log's header line. */
export const BUS_LOG_FORMAT_NAME = "toil-bus-log";

/** The header line that opens every bus log. */
export interface BusLogHeader {
  /** Always `toil-bus-log`. */
  readonly format: typeof BUS_LOG_FORMAT_NAME;
  /** Format version of the lines that follow. */
  readonly version: number;
  /** When the log was created, ms since the epoch. */
  readonly created: number;
}

/** What a {@link BusLogWriter} needs from a bus (declared here so the log does not import the bus). */
export interface BusLogSource {
  /** Calls `handler` with every message, in delivery order. */
  subscribeAll(handler: (message: BusMessage) => void): Disposable & {
    /** Ends the subscription. */
    dispose(): void;
  };
  /** Calls `hook` after each delivered batch (the writer flushes there). */
  afterBatch(hook: () => void): Disposable & {
    /** Removes the hook. */
    dispose(): void;
  };
}

/** Options for {@link BusLogWriter} / `MessageBus.connectOutputFile`. */
export interface BusLogWriterOptions {
  /**
   * `append` (default) keeps an existing log of the same format version and appends to it;
   * `truncate` starts a new log, discarding the old one.
   */
  mode?: "append" | "truncate";
  /** Write early when this many characters are buffered inside one batch (default 1 MiB). */
  maxBufferChars?: number;
}

const openWriters = new Set<BusLogWriter>();
let exitHookInstalled = false;

function flushAllOnExit(): void {
  for (const w of openWriters) {
    try {
      w.flush();
    } catch {
      // Exiting anyway; nothing better to do with a write error here.
    }
  }
}

/**
 * Appends every message delivered by a bus to a file, one JSON object per line, after a header
 * line. Lines are buffered during a `check()` and written with one synchronous write at its end,
 * so a crash loses at most the batch being delivered. Buffered lines are also written on
 * `flush()`, `close()` and at process exit.
 */
export class BusLogWriter implements Disposable {
  /** Path of the log file being written. */
  readonly path: string;
  #fd: number | null;
  #buffer = "";
  readonly #maxChars: number;
  readonly #sub: Disposable & { dispose(): void };
  readonly #hook: Disposable & { dispose(): void };
  #written = 0;

  constructor(source: BusLogSource, path: string, options: BusLogWriterOptions = {}) {
    if (typeof path !== "string" || path.length === 0) throw new BusUsageError("connectOutputFile(path): path must be a non-empty string.");
    const mode = options.mode ?? "append";
    if (mode !== "append" && mode !== "truncate") throw new BusUsageError(`connectOutputFile: mode must be "append" or "truncate", got ${JSON.stringify(mode)}.`);
    this.path = path;
    this.#maxChars = options.maxBufferChars ?? 1 << 20;
    this.#fd = openLogForAppend(path, mode);
    this.#sub = source.subscribeAll((message) => {
      this.#buffer += JSON.stringify(message) + "\n";
      this.#written++;
      if (this.#buffer.length >= this.#maxChars) this.flush();
    });
    this.#hook = source.afterBatch(() => this.flush());
    openWriters.add(this);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.on("exit", flushAllOnExit);
    }
  }

  /** Number of messages accepted so far (written or buffered). */
  get messageCount(): number {
    return this.#written;
  }

  /** Writes buffered lines now (synchronously). */
  flush(): void {
    if (this.#buffer.length === 0 || this.#fd === null) return;
    const bytes = Buffer.from(this.#buffer, "utf8");
    this.#buffer = "";
    writeFully(this.#fd, bytes);
  }

  /** Flushes, stops receiving messages and closes the file. */
  close(): void {
    if (this.#fd === null) return;
    this.#sub.dispose();
    this.#hook.dispose();
    try {
      this.flush();
    } finally {
      closeSync(this.#fd);
      this.#fd = null;
      openWriters.delete(this);
    }
  }

  /** Same as `close()`, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

function writeFully(fd: number, bytes: Buffer): void {
  let offset = 0;
  while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
}

/** Opens `path` for appending, writing a header to a new or truncated file and validating an existing one. */
function openLogForAppend(path: string, mode: "append" | "truncate"): number {
  // Owner-only whatever the umask: the log carries job names and ids.
  const fd = openSync(path, mode === "truncate" ? "w+" : "a+", 0o600);
  try {
    const size = fstatSync(fd).size;
    if (size === 0) {
      const header: BusLogHeader = { format: BUS_LOG_FORMAT_NAME, version: BUS_LOG_FORMAT_VERSION, created: Date.now() };
      writeFully(fd, Buffer.from(JSON.stringify(header) + "\n", "utf8"));
      return fd;
    }
    const head = Buffer.alloc(Math.min(size, 4096));
    const n = readSync(fd, head, 0, head.length, 0);
    const text = head.subarray(0, n).toString("utf8");
    const nl = text.indexOf("\n");
    const problem = nl < 0 ? "its first line is incomplete" : headerProblem(text.slice(0, nl));
    if (problem !== null) {
      throw new BusLogFormatError(path, `${problem}; refusing to append to it. Use a new path, or pass { mode: "truncate" } to replace it.`);
    }
    const version = (JSON.parse(text.slice(0, nl)) as BusLogHeader).version;
    if (version !== BUS_LOG_FORMAT_VERSION) {
      throw new BusLogFormatError(
        path,
        `it uses format version ${version} and this writer writes version ${BUS_LOG_FORMAT_VERSION}; refusing to mix versions. Write to a new path (another --writeMessages file) or pass { mode: "truncate" } to replace it.`,
      );
    }
    // A crash may have left a torn last line; end it so our first line starts on a line of its own.
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    if (last[0] !== 0x0a) writeFully(fd, Buffer.from("\n"));
    return fd;
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/** Null if `line` is a bus log header of any version, else what is wrong with it. */
function headerProblem(line: string): string | null {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return "its first line is not JSON (a bus log starts with a header line)";
  }
  if (value === null || typeof value !== "object") return "its first line is not a JSON object";
  const rec = value as Record<string, unknown>;
  if (rec.format !== BUS_LOG_FORMAT_NAME) return `its first line has no "format":"${BUS_LOG_FORMAT_NAME}" (not a bus log)`;
  if (typeof rec.version !== "number" || !Number.isInteger(rec.version) || rec.version < 1) return "its header has no valid integer version";
  return null;
}

/** Options for {@link readBusLog} and `replayMessageBus`. */
export interface BusLogReadOptions {
  /**
   * Off (default): lines with an unknown message type are skipped and counted in
   * `stats.unknownTypes`; corrupt complete lines are skipped and counted in `stats.malformedLines`.
   * On: the first such line throws {@link UnknownBusMessageTypeError} or {@link BusLogParseError}.
   * A torn last line (no final newline) is skipped in both modes and flagged in `stats.tornTail`.
   */
  strict?: boolean;
}

/** What a reader saw; filled in as the log is read. */
export interface BusLogStats {
  /** Format version from the header, or null for an empty log. */
  version: number | null;
  /** Complete lines read, including the header. */
  lines: number;
  /** Messages yielded. */
  messages: number;
  /** Lines skipped because their `type` is unknown to this reader. */
  unknownTypes: number;
  /** Count per unknown `type`. */
  readonly unknownTypeNames: Map<string, number>;
  /** Complete lines skipped because they are not valid messages. */
  malformedLines: number;
  /** True if the file ended in an unterminated line (a crash mid-write, or a writer still running). */
  tornTail: boolean;
}

/**
 * A bus log being read: iterate it with `for await`. `stats` is filled in as it goes and is
 * complete when the loop ends. Each reader can be iterated once.
 */
export class BusLogReader implements AsyncIterable<BusMessage> {
  /** Path of the bus log being read. */
  readonly path: string;
  /** Whether a bad line or an unknown type throws instead of being counted and skipped. */
  readonly strict: boolean;
  /** What was read so far; complete once iteration ends. */
  readonly stats: BusLogStats = {
    version: null,
    lines: 0,
    messages: 0,
    unknownTypes: 0,
    unknownTypeNames: new Map(),
    malformedLines: 0,
    tornTail: false,
  };
  #used = false;

  constructor(path: string, options: BusLogReadOptions = {}) {
    this.path = path;
    this.strict = options.strict ?? false;
  }

  /** Reads the log, yielding its messages in order. A reader can be iterated once. */
  async *[Symbol.asyncIterator](): AsyncGenerator<BusMessage, void, undefined> {
    if (this.#used) throw new BusUsageError(`readBusLog(${JSON.stringify(this.path)}) can be iterated once; call readBusLog again to re-read.`);
    this.#used = true;
    const stream = createReadStream(this.path, { encoding: "utf8", highWaterMark: 1 << 18 });
    let partial = "";
    try {
      for await (const chunk of stream as AsyncIterable<string>) {
        let text = partial.length > 0 ? partial + chunk : chunk;
        let start = 0;
        for (;;) {
          const nl = text.indexOf("\n", start);
          if (nl < 0) break;
          const message = this.#line(text.slice(start, nl));
          if (message !== null) yield message;
          start = nl + 1;
        }
        partial = text.slice(start);
        text = "";
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new BusLogNotFoundError(this.path, { cause: err });
      throw err;
    } finally {
      stream.destroy();
    }
    if (partial.length > 0) this.stats.tornTail = true;
  }

  /** Parses one complete line; returns the message to yield or null to skip. */
  #line(line: string): BusMessage | null {
    const stats = this.stats;
    stats.lines++;
    const lineNo = stats.lines;
    if (lineNo === 1) {
      const problem = headerProblem(line);
      if (problem !== null) throw new BusLogFormatError(this.path, problem);
      const version = (JSON.parse(line) as BusLogHeader).version;
      if (version > BUS_LOG_FORMAT_VERSION) {
        throw new BusLogFormatError(
          this.path,
          `it uses format version ${version} but this reader understands up to ${BUS_LOG_FORMAT_VERSION}; upgrade @toil/bus`,
        );
      }
      stats.version = version;
      return null;
    }
    if (line.length === 0) return null;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return this.#malformed(lineNo, "not valid JSON");
    }
    const problem = messageProblem(value);
    if (problem === null) {
      stats.messages++;
      return value as BusMessage;
    }
    if (problem === "unknown type") {
      const type = (value as { type: string }).type;
      if (this.strict) throw new UnknownBusMessageTypeError(type, { path: this.path, line: lineNo });
      stats.unknownTypes++;
      stats.unknownTypeNames.set(type, (stats.unknownTypeNames.get(type) ?? 0) + 1);
      return null;
    }
    // A second header (logs concatenated) is allowed if its version is readable.
    if (headerProblem(line) === null) {
      const version = (value as BusLogHeader).version;
      if (version > BUS_LOG_FORMAT_VERSION) return this.#malformed(lineNo, `header of unsupported format version ${version}`);
      return null;
    }
    return this.#malformed(lineNo, problem);
  }

  #malformed(line: number, problem: string): null {
    if (this.strict) throw new BusLogParseError(this.path, line, problem);
    this.stats.malformedLines++;
    return null;
  }
}

/**
 * Reads a bus log written by `connectOutputFile`, yielding its messages in order.
 *
 * @example
 * ```ts
 * const log = readBusLog("/path/bus.jsonl");
 * for await (const m of log) if (m.type === "JobFailed") console.log(m.jobName);
 * console.log(log.stats.unknownTypes, log.stats.tornTail);
 * ```
 * @throws BusLogNotFoundError if the file does not exist; BusLogFormatError if it is not a bus
 * log or is of a newer format version; in strict mode UnknownBusMessageTypeError / BusLogParseError.
 */
export function readBusLog(path: string, options: BusLogReadOptions = {}): BusLogReader {
  if (typeof path !== "string" || path.length === 0) throw new BusUsageError("readBusLog(path): path must be a non-empty string.");
  return new BusLogReader(path, options);
}
