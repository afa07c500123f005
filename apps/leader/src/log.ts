import { appendFileSync, createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import path from "node:path";
import { pino, type Logger, type DestinationStream } from "pino";
import type { ConfigLogLevel as LogLevel } from "@toil/job";
import { escapeControl } from "./text.js";

export type { Logger } from "pino";

const PINO_LEVEL: Record<LogLevel, string> = {
  trace: "trace",
  debug: "debug",
  info: "info",
  warning: "warn",
  error: "error",
  critical: "fatal",
  off: "silent",
};

const LEVEL_NAMES: Record<number, string> = { 10: "TRACE", 20: "DEBUG", 30: "INFO", 40: "WARNING", 50: "ERROR", 60: "CRITICAL" };

/**
 * One of pino's JSON records as a line a person reads: `[12:00:01] INFO message key=value` on the
 * terminal; in a log file the whole UTC time stamp, `2024-05-01T12:00:01.123Z INFO message`. Control characters in the message and
 * the values are escaped (see `escapeControl`); fields holding objects stay in the JSON only.
 */
function formatLogRecord(rec: Record<string, unknown>, withDate: boolean): string {
  const { level, time, msg, pid: _pid, hostname: _host, err, ...rest } = rec;
  const iso = new Date(typeof time === "number" ? time : Date.now()).toISOString();
  const when = withDate ? iso : `[${iso.slice(11, 19)}]`;
  const extras = Object.entries(rest)
    .filter(([, v]) => v !== undefined && (typeof v !== "object" || v === null))
    .map(([k, v]) => `${k}=${typeof v === "string" && /\s/.test(v) ? JSON.stringify(v) : escapeControl(String(v), { singleLine: true })}`)
    .join(" ");
  let text = `${when} ${LEVEL_NAMES[level as number] ?? String(level)} ${escapeControl(String(msg ?? ""))}${extras ? ` ${extras}` : ""}\n`;
  if (err && typeof err === "object" && "stack" in err) text += `${escapeControl(String((err as { stack: unknown }).stack))}\n`;
  return text;
}

/** Turns pino's JSON lines into short human lines (see {@link formatLogRecord}). */
export class HumanLogStream implements DestinationStream {
  constructor(private readonly out: NodeJS.WritableStream = process.stderr) {}
  write(line: string): void {
    let rec: Record<string, unknown>;
    try {
      rec = JSON.parse(line) as Record<string, unknown>;
    } catch {
      this.out.write(escapeControl(line));
      return;
    }
    this.out.write(formatLogRecord(rec, false));
  }
}

/**
 * The log file: text lines (as on the terminal, with the date), or the JSON records with `json`.
 * Opened at the first line, so a command that fails before it logs anything leaves no file.
 * Appends: a restarted workflow's runs follow each other in one file.
 */
class LogFileStream implements DestinationStream {
  private file: WriteStream | undefined;
  private ended = false;
  constructor(
    /** The log file's path. */
    readonly path: string,
    private readonly json: boolean,
  ) {}
  write(line: string): void {
    if (this.ended) return;
    if (!this.file) {
      // Owner-only whatever the umask (a log names paths and job arguments).
      mkdirSync(path.dirname(this.path), { recursive: true, mode: 0o700 });
      this.file = createWriteStream(this.path, { flags: "a", mode: 0o600 });
      // A full disk or a removed directory must not stop the workflow: the terminal still shows the log.
      this.file.on("error", () => undefined);
    }
    if (this.json) {
      this.file.write(line);
      return;
    }
    let rec: Record<string, unknown>;
    try {
      rec = JSON.parse(line) as Record<string, unknown>;
    } catch {
      this.file.write(escapeControl(line));
      return;
    }
    this.file.write(formatLogRecord(rec, true));
  }
  /** Flush and close the file (if it was opened). */
  end(): Promise<void> {
    const file = this.file;
    this.ended = true;
    return new Promise((resolve) => (file ? file.end(() => resolve()) : resolve()));
  }
}

/**
 * Add one record to a log file after its logger closed (the CLI's failure report goes to the log
 * as well as to the terminal). Never throws: a log that cannot be written must not hide the report.
 */
export function appendToLogFile(file: string, json: boolean, level: "info" | "warning" | "error", message: string): void {
  const levelNumber = { info: 30, warning: 40, error: 50 }[level];
  const rec = { level: levelNumber, time: Date.now(), msg: message };
  try {
    appendFileSync(file, json ? `${JSON.stringify(rec)}\n` : formatLogRecord(rec, true), { mode: 0o600 });
  } catch {
    // the report was printed; the log is best effort
  }
}

/** Where a run's log goes when `--logFile` is not given: `<job store>.log`, next to the store (it outlives a cleaned store). */
export function defaultLogFile(jobStoreLocator: string): string {
  const dir = path.resolve(jobStoreLocator.replace(/^file:/, ""));
  return `${dir.replace(/[\\/]+$/, "")}.log`;
}

export interface LeaderLoggerOptions {
  level: LogLevel;
  /** Also write the log here (text, or JSON lines with `logJson`). */
  logFile?: string;
  /** Write `logFile` as JSON lines. */
  logJson?: boolean;
  /** Human-readable output (default: stderr). */
  human?: HumanLogStream;
}

/** The leader's structured logger: human lines on stderr, and the same in the log file (text or JSON lines). */
export function createLeaderLogger(options: LeaderLoggerOptions): { logger: Logger; human: HumanLogStream; close: () => Promise<void> } {
  const human = options.human ?? new HumanLogStream();
  const level = PINO_LEVEL[options.level];
  const streamLevel = level === "silent" ? "fatal" : level;
  const streams: Array<{ stream: DestinationStream; level: string }> = [{ stream: human, level: streamLevel }];
  const file = options.logFile ? new LogFileStream(options.logFile, options.logJson === true) : undefined;
  if (file) streams.push({ stream: file, level: streamLevel });
  const logger = pino({ level, base: undefined }, pino.multistream(streams));
  return { logger, human, close: () => file?.end() ?? Promise.resolve() };
}
