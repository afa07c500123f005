/** Running a bundled test child process (see bundle.ts) and reading what it prints. */
import { spawn } from "node:child_process";

/** What a child printed, and how to SIGKILL it (resolves once it exited). */
export interface ChildOutput {
  out: string;
  kill: () => Promise<void>;
}

/**
 * Run `node bundle ...args`. Resolves with its output once it printed `until` (it keeps running),
 * or, without `until`, once it exited 0; rejects with its stderr otherwise.
 */
export function runChild(bundle: string, args: string[], until?: string): Promise<ChildOutput> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [bundle, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    const exited = new Promise<void>((r) => p.once("exit", () => r()));
    const kill = async () => {
      p.kill("SIGKILL");
      await exited;
    };
    p.stderr.on("data", (d: Buffer) => (err += d.toString()));
    p.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (until && out.includes(until)) resolve({ out, kill });
    });
    p.once("exit", (code) => {
      if (!until) code === 0 ? resolve({ out, kill }) : reject(new Error(`child failed (${code}): ${err}`));
      else if (!out.includes(until)) reject(new Error(`child exited (${code}) before '${until}': ${err}`));
    });
  });
}
