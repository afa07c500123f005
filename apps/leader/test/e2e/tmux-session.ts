/**
 * A real terminal for tests: a detached tmux session running one command, keys typed into it, and
 * the screen read back with `capture-pane`, the way a person sees it.
 */
import { execFileSync, spawnSync } from "node:child_process";

/** Whether tmux is installed (CI installs it; see .ci/run). */
export const tmuxAvailable = spawnSync("tmux", ["-V"], { stdio: "ignore" }).status === 0;

let counter = 0;

/** One tmux session with its own server socket, so tests never touch a user's tmux. */
export class TmuxSession {
  readonly name = `toil-test-${process.pid}-${counter++}`;
  private readonly socket = `toil-test-${process.pid}`;

  /** Start `command` (run by sh in `cwd`) in a 200x50 terminal; the pane stays after it exits. */
  constructor(command: string, cwd: string, env: Record<string, string> = {}) {
    const exports = Object.entries(env).map(([k, v]) => `export ${k}=${shellQuote(v)}; `).join("");
    this.tmux(["new-session", "-d", "-s", this.name, "-x", "200", "-y", "50", "-c", cwd, `${exports}${command}; echo "[exit $?]"; sleep 600`]);
  }

  private tmux(args: string[]): string {
    return execFileSync("tmux", ["-L", this.socket, ...args], { encoding: "utf8" });
  }

  /** Type keys (tmux key names, e.g. "C-c"). */
  sendKeys(...keys: string[]): void {
    this.tmux(["send-keys", "-t", this.name, ...keys]);
  }

  /** The visible screen and its scrollback, as text. */
  screen(): string {
    return this.tmux(["capture-pane", "-p", "-J", "-S", "-2000", "-t", this.name]);
  }

  /** Wait until the screen matches `pattern`; resolves to the screen. */
  async waitFor(pattern: RegExp, timeoutMs = 120_000): Promise<string> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const text = this.screen();
      if (pattern.test(text)) return text;
      if (Date.now() > until) throw new Error(`timed out waiting for ${pattern} on the terminal; it shows:\n${text}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** End the session (and its server). */
  close(): void {
    spawnSync("tmux", ["-L", this.socket, "kill-session", "-t", this.name], { stdio: "ignore" });
  }
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
