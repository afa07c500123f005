/**
 * A real terminal for tests: a private tmux server (its own socket, never the user's), one pane
 * running bash, keys sent with send-keys and the screen read with capture-pane.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";

/** Whether Debian's tmux is installed. */
export function haveTmux(): boolean {
  return spawnSync("tmux", ["-V"], { stdio: "ignore" }).status === 0;
}

/** The shell prompt in the pane: it shows the exit status of the command before it. */
export const PROMPT = /^\[rc=(\d+)\]> ?$/;

export class TmuxPane {
  private readonly socket: string;
  private readonly target = "t:0.0";

  constructor(
    readonly cwd: string,
    readonly columns: number,
    readonly rows: number,
    env: Record<string, string>,
  ) {
    this.socket = `toil-test-${process.pid}-${columns}-${Math.random().toString(36).slice(2, 8)}`;
    const conf = path.join(cwd, ".tmux.conf");
    // A long history, so the whole run can be read back after it scrolled off the screen.
    writeFileSync(conf, "set -g history-limit 50000\nset -g status off\n");
    execFileSync(
      "tmux",
      ["-L", this.socket, "-f", conf, "new-session", "-d", "-s", "t", "-x", String(columns), "-y", String(rows), "-c", cwd, `PS1='[rc=$?]> ' exec bash --norc --noprofile`],
      { env },
    );
  }

  private tmux(...args: string[]): string {
    return execFileSync("tmux", ["-L", this.socket, ...args], { encoding: "utf8" });
  }

  /** Type a line and press Enter. */
  type(line: string): void {
    this.tmux("send-keys", "-t", this.target, "-l", line);
    this.tmux("send-keys", "-t", this.target, "Enter");
  }

  /** Press Ctrl-C. */
  interrupt(): void {
    this.tmux("send-keys", "-t", this.target, "C-c");
  }

  /** The visible screen, one string per row (trailing blanks trimmed). */
  screen(): string[] {
    return this.tmux("capture-pane", "-p", "-t", this.target).replace(/\n$/, "").split("\n").map((l) => l.trimEnd());
  }

  /** Everything the pane printed since it started, with wrapped rows joined into the lines they were written as. */
  history(): string[] {
    return this.tmux("capture-pane", "-p", "-J", "-S", "-", "-t", this.target).replace(/\n+$/, "").split("\n").map((l) => l.trimEnd());
  }

  /** The cursor's row on the screen (0 = top). */
  cursorRow(): number {
    return Number(this.tmux("display-message", "-p", "-t", this.target, "#{cursor_y}").trim());
  }

  /** The pane's title (a program can set it with an OSC 0 or 2 sequence). */
  title(): string {
    return this.tmux("display-message", "-p", "-t", this.target, "#{pane_title}").trim();
  }

  /** Stop this pane's private tmux server. */
  close(): void {
    spawnSync("tmux", ["-L", this.socket, "kill-server"], { stdio: "ignore" });
  }
}

/** Save a captured screen where a person can look at it after the test (a gitignored folder). */
export function saveScreen(dir: string, name: string, lines: readonly string[]): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.txt`);
  writeFileSync(file, `${lines.join("\n")}\n`);
  return file;
}
