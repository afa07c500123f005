import cliProgress from "cli-progress";
import type { HumanLogStream } from "./log.js";

/** What the progress display shows. */
export interface ProgressCounts {
  done: number;
  total: number;
  failed: number;
}

/**
 * Workflow progress: a live bar when stderr is a terminal, otherwise a plain line every
 * `intervalMs` (and only when something changed).
 */
export class Progress {
  private bar: cliProgress.SingleBar | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly started = Date.now();
  private lastLine = "";
  private counts: ProgressCounts = { done: 0, total: 0, failed: 0 };

  constructor(
    private readonly options: { enabled: boolean; tty?: boolean; intervalMs?: number; out?: NodeJS.WritableStream; human?: HumanLogStream },
  ) {}

  start(): void {
    if (!this.options.enabled) return;
    const out = this.options.out ?? process.stderr;
    const tty = this.options.tty ?? Boolean((out as NodeJS.WriteStream).isTTY);
    if (tty) {
      this.bar = new cliProgress.SingleBar(
        {
          stream: out as NodeJS.WriteStream,
          format: "Workflow {bar} {percentage}% | {value}/{total} jobs | {failed} failed | {rate} jobs/s | {elapsed}",
          hideCursor: true,
          clearOnComplete: false,
          fps: 10,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(0, 0, this.payload());
      if (this.options.human) {
        this.options.human.beforeWrite = () => (out as NodeJS.WriteStream).write("\r\x1b[2K");
        this.options.human.afterWrite = () => this.bar?.render();
      }
    } else {
      this.timer = setInterval(() => this.printLine(out), this.options.intervalMs ?? 10_000);
      this.timer.unref();
    }
  }

  private payload() {
    const elapsedS = (Date.now() - this.started) / 1000;
    const rate = elapsedS > 0 ? (this.counts.done / elapsedS).toFixed(1) : "0.0";
    return { failed: this.counts.failed, rate, elapsed: formatElapsed(elapsedS) };
  }

  private printLine(out: NodeJS.WritableStream): void {
    const p = this.payload();
    const line = `Progress: ${this.counts.done}/${this.counts.total} jobs done, ${p.failed} failed, ${p.rate} jobs/s, ${p.elapsed} elapsed`;
    if (line.replace(/[\d.]+ jobs\/s, \S+ elapsed/, "") === this.lastLine.replace(/[\d.]+ jobs\/s, \S+ elapsed/, "")) return;
    this.lastLine = line;
    out.write(`${line}\n`);
  }

  update(counts: ProgressCounts): void {
    this.counts = counts;
    if (this.bar) {
      this.bar.setTotal(Math.max(counts.total, 1));
      this.bar.update(counts.done, this.payload());
    }
  }

  stop(): void {
    if (this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
      this.printLine(this.options.out ?? process.stderr);
    }
    if (this.bar) {
      this.bar.update(this.counts.done, this.payload());
      this.bar.stop();
      this.bar = undefined;
      if (this.options.human) {
        this.options.human.beforeWrite = undefined;
        this.options.human.afterWrite = undefined;
      }
    }
  }
}

function formatElapsed(seconds: number): string {
  const s = Math.floor(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, "0")}m${String(sec).padStart(2, "0")}s` : m > 0 ? `${m}m${String(sec).padStart(2, "0")}s` : `${sec}s`;
}
