import { createWriteStream, mkdirSync } from "node:fs";
import path from "node:path";
import { pino, type Logger, type DestinationStream } from "pino";
import type { ConfigLogLevel as LogLevel } from "@toil/job";

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

/** Turns pino's JSON lines into short human lines: `[12:00:01] INFO message key=value`. */
export class HumanLogStream implements DestinationStream {
  /** Called before a line is written (the progress bar clears itself here). */
  beforeWrite: (() => void) | undefined;
  afterWrite: (() => void) | undefined;
  constructor(private readonly out: NodeJS.WritableStream = process.stderr) {}
  write(line: string): void {
    let rec: Record<string, unknown>;
    try {
      rec = JSON.parse(line) as Record<string, unknown>;
    } catch {
      this.out.write(line);
      return;
    }
    const { level, time, msg, pid: _pid, hostname: _host, err, ...rest } = rec;
    const t = new Date(typeof time === "number" ? time : Date.now()).toISOString().slice(11, 19);
    const extras = Object.entries(rest)
      .filter(([, v]) => v !== undefined && (typeof v !== "object" || v === null))
      .map(([k, v]) => `${k}=${typeof v === "string" && /\s/.test(v) ? JSON.stringify(v) : String(v)}`)
      .join(" ");
    let text = `[${t}] ${LEVEL_NAMES[level as number] ?? String(level)} ${String(msg ?? "")}${extras ? ` ${extras}` : ""}\n`;
    if (err && typeof err === "object" && "stack" in err) text += `${String((err as { stack: unknown }).stack)}\n`;
    this.beforeWrite?.();
    this.out.write(text);
    this.afterWrite?.();
  }
}

export interface LeaderLoggerOptions {
  level: LogLevel;
  /** Also write raw JSON lines here. */
  logFile?: string;
  /** Human-readable output (default: stderr). */
  human?: HumanLogStream;
}

/** The leader's structured logger: human lines on stderr, JSON lines in `--logFile`. */
export function createLeaderLogger(options: LeaderLoggerOptions): { logger: Logger; human: HumanLogStream; close: () => Promise<void> } {
  const human = options.human ?? new HumanLogStream();
  const level = PINO_LEVEL[options.level];
  const streams: Array<{ stream: DestinationStream; level: string }> = [{ stream: human, level: level === "silent" ? "fatal" : level }];
  let file: ReturnType<typeof createWriteStream> | undefined;
  if (options.logFile) {
    // Owner-only whatever the umask (a log names paths and job arguments).
    mkdirSync(path.dirname(options.logFile), { recursive: true, mode: 0o700 });
    file = createWriteStream(options.logFile, { flags: "a", mode: 0o600 });
    streams.push({ stream: file as unknown as DestinationStream, level: level === "silent" ? "fatal" : level });
  }
  const logger = pino({ level, base: undefined }, pino.multistream(streams));
  const close = () =>
    new Promise<void>((resolve) => {
      if (!file) return resolve();
      file.end(() => resolve());
    });
  return { logger, human, close };
}

/** Pino level name for a config log level. */
export function pinoLevel(level: LogLevel): string {
  return PINO_LEVEL[level];
}
