import { createLogUpdate } from "log-update";

type Write = NodeJS.WriteStream["write"];

/** How often the frame may be redrawn at most (counts can change thousands of times a second). */
const REDRAW_MS = 100;
const SHOW_CURSOR = "\u001b[?25h";
const HIDE_CURSOR = "\u001b[?25l";

/**
 * A live frame (the progress bar) kept on the last line of a terminal, with everything else the
 * process prints scrolling above it.
 *
 * Drawing is log-update's: it erases exactly the lines it drew last (wrapped lines counted), never
 * saves and restores the cursor, and never turns the terminal's line wrap off, so long log lines
 * wrap and nothing is printed over anything. While the frame is shown, every write to this
 * terminal (the leader's log, a plugin's `console.log`, a warning from Node) goes through
 * {@link LiveDisplay.above}: the frame is erased, the complete lines are written, the frame is drawn
 * again below them. A line written in pieces waits until its newline.
 */
export class LiveDisplay {
  private draw: ReturnType<typeof createLogUpdate> | undefined;
  private readonly restores: Array<() => void> = [];
  private readonly partial = new Map<NodeJS.WriteStream, string>();
  private redrawTimer: NodeJS.Timeout | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private rawWrite: (text: string) => void = () => undefined;
  private readonly showCursorOnExit = () => this.rawWrite(SHOW_CURSOR);
  private readonly onResize = () => this.redraw();

  constructor(
    /** The terminal the frame is drawn on (stderr). */
    private readonly terminal: NodeJS.WriteStream,
    /** The frame for a terminal of this many columns (one line, at most `columns - 1` wide). */
    private readonly frame: (columns: number) => string,
    /** Redraw at least this often even when nothing changed (the elapsed time moves). */
    private readonly tickMs = 1_000,
  ) {}

  /** Whether the frame is on the screen. */
  get active(): boolean {
    return this.draw !== undefined;
  }

  /** Draw the frame and route this terminal's output (and stdout's, when it is a terminal too) above it. */
  start(): void {
    if (this.draw) return;
    const terminal = this.terminal;
    const raw = terminal.write.bind(terminal) as (text: string) => boolean;
    this.rawWrite = (text) => void raw(text);
    // log-update writes through the original write, not the one that routes output above the frame.
    const target = {
      write: (text: string) => raw(text),
      get columns() {
        return terminal.columns;
      },
      get rows() {
        return terminal.rows;
      },
      isTTY: true,
    } as unknown as NodeJS.WriteStream;
    this.draw = createLogUpdate(target, { showCursor: true });
    raw(HIDE_CURSOR);
    process.once("exit", this.showCursorOnExit);
    this.capture(terminal);
    if (process.stdout !== terminal && process.stdout.isTTY) this.capture(process.stdout);
    terminal.on("resize", this.onResize);
    this.ticker = setInterval(() => this.redraw(), this.tickMs);
    this.ticker.unref();
    this.redraw();
  }

  /** Redraw the frame soon (at most every 100 ms). */
  invalidate(): void {
    if (!this.draw || this.redrawTimer) return;
    this.redrawTimer = setTimeout(() => {
      this.redrawTimer = undefined;
      this.redraw();
    }, REDRAW_MS);
    this.redrawTimer.unref();
  }

  /** Redraw the frame now. */
  redraw(): void {
    if (!this.draw) return;
    const columns = Math.max(20, this.terminal.columns || 80);
    this.draw(this.frame(columns));
  }

  /** Print complete lines above the frame. */
  above(text: string, via: (text: string) => void = this.rawWrite): void {
    if (!this.draw) {
      via(text);
      return;
    }
    this.draw.clear();
    via(text.endsWith("\n") ? text : `${text}\n`);
    this.redraw();
  }

  /** Erase the frame, print any unfinished line, and give the terminal back. */
  stop(): void {
    if (!this.draw) return;
    clearTimeout(this.redrawTimer);
    clearInterval(this.ticker);
    this.redrawTimer = undefined;
    this.ticker = undefined;
    this.terminal.off("resize", this.onResize);
    this.draw.clear();
    this.draw.done();
    this.draw = undefined;
    for (const restore of this.restores.splice(0).reverse()) restore();
    for (const [stream, rest] of this.partial) if (rest) stream.write(`${rest}\n`);
    this.partial.clear();
    this.rawWrite(SHOW_CURSOR);
    process.off("exit", this.showCursorOnExit);
  }

  /** Route `stream`'s writes above the frame while it is shown. */
  private capture(stream: NodeJS.WriteStream): void {
    const original = stream.write;
    const raw = original.bind(stream) as (text: string) => boolean;
    const routed = (chunk: unknown, encoding?: unknown, callback?: unknown): boolean => {
      const done = typeof encoding === "function" ? encoding : typeof callback === "function" ? callback : undefined;
      const text =
        typeof chunk === "string"
          ? chunk
          : Buffer.from(chunk as Uint8Array).toString(typeof encoding === "string" ? (encoding as BufferEncoding) : "utf8");
      const pending = (this.partial.get(stream) ?? "") + text;
      const end = pending.lastIndexOf("\n");
      this.partial.set(stream, pending.slice(end + 1));
      if (end >= 0) this.above(pending.slice(0, end + 1), (t) => void raw(t));
      if (done) process.nextTick(done as () => void);
      return true;
    };
    stream.write = routed as Write;
    this.restores.push(() => {
      stream.write = original;
    });
  }
}
