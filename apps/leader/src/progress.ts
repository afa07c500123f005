import { LiveDisplay } from "./live-display.js";
import { plural } from "./text.js";

/** What the progress display shows. */
export interface ProgressCounts {
  done: number;
  total: number;
  failed: number;
  /** Jobs issued to the batch system right now. */
  issued?: number;
}

const BAR_WIDTH = 30;

/**
 * Workflow progress: a live bar on the terminal's last line when stderr is a terminal (see
 * {@link LiveDisplay}: log lines scroll above it), otherwise a plain line every `intervalMs` (and
 * only when something changed). The run's end is told by the leader's summary line, not here.
 */
export class Progress {
  private display: LiveDisplay | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly started = Date.now();
  private lastLine = "";
  private counts: ProgressCounts = { done: 0, total: 0, failed: 0 };

  constructor(private readonly options: { enabled: boolean; tty?: boolean; intervalMs?: number; out?: NodeJS.WriteStream }) {}

  start(): void {
    if (!this.options.enabled) return;
    const out = this.options.out ?? process.stderr;
    const tty = this.options.tty ?? Boolean(out.isTTY);
    if (tty) {
      this.display = new LiveDisplay(out, (columns) => this.barLine(columns));
      this.display.start();
    } else {
      this.timer = setInterval(() => this.printLine(out), this.options.intervalMs ?? 10_000);
      this.timer.unref();
    }
  }

  private rate(): string {
    const elapsedS = (Date.now() - this.started) / 1000;
    return elapsedS > 0 ? (this.counts.done / elapsedS).toFixed(1) : "0.0";
  }

  /** The live line, at most `columns - 1` wide (a full-width line would wrap on some terminals). */
  barLine(columns: number): string {
    const { done, total, failed, issued } = this.counts;
    const figures = [
      `${done}/${plural(Math.max(total, done), "job")} done`,
      ...(issued !== undefined ? [`${issued} running`] : []),
      `${failed} failed`,
      `${this.rate()} jobs/s`,
      formatElapsed((Date.now() - this.started) / 1000),
    ].join(" · ");
    const room = columns - 1;
    const label = "Workflow ";
    const width = Math.min(BAR_WIDTH, room - label.length - figures.length - 1);
    if (width >= 10) {
      const filled = total > 0 ? Math.round((Math.min(done, total) / total) * width) : 0;
      return `${label}${"█".repeat(filled)}${"░".repeat(width - filled)} ${figures}`;
    }
    const line = `${label}${figures}`;
    return line.length <= room ? line : `${line.slice(0, room - 1)}…`;
  }

  private printLine(out: NodeJS.WritableStream): void {
    const line = `Progress: ${this.counts.done}/${plural(this.counts.total, "job")} done, ${this.counts.failed} failed, ${this.rate()} jobs/s, ${formatElapsed((Date.now() - this.started) / 1000)} elapsed`;
    const same = (l: string) => l.replace(/[\d.]+ jobs\/s, \S+ elapsed/, "");
    if (same(line) === same(this.lastLine)) return;
    this.lastLine = line;
    out.write(`${line}\n`);
  }

  update(counts: ProgressCounts): void {
    this.counts = counts;
    this.display?.invalidate();
  }

  /** Take the bar off the terminal (or stop the periodic lines). */
  stop(): void {
    if (this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
    this.display?.stop();
    this.display = undefined;
  }
}

/** `42s`, `3m07s`, `1h02m03s`. */
function formatElapsed(seconds: number): string {
  const s = Math.floor(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, "0")}m${String(sec).padStart(2, "0")}s` : m > 0 ? `${m}m${String(sec).padStart(2, "0")}s` : `${sec}s`;
}
