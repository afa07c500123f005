/**
 * The leader's side of the worker hosts' file protocol (see `runtime/worker-host.mjs` for the
 * messages): one directory on the shared file system with the settings, the leader's heartbeat,
 * and per host an inbox the leader appends jobs to and an outbox the host appends to.
 */
import {
  appendFileSync,
  closeSync,
  existsSync,
  type FSWatcher,
  fstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readSync,
  rmSync,
  statSync,
  watch,
  writeFileSync,
  writeSync,
} from "node:fs";
import { isAbsolute, join, resolve } from "node:path";

/** Settings a host reads at start (`config.json`). */
export interface HostSettings {
  /** A host with no job for this long exits. */
  idleSeconds: number;
  /** A host whose leader's heartbeat has not changed for this long kills its job and exits. */
  leaderTimeoutSeconds: number;
}

/** A message from a host (one line of its outbox). */
export type HostMessage =
  | { t: "ready"; pid: number; node: string; uptime: number }
  | { t: "start"; seq: number }
  | { t: "done"; seq: number; code: number; wall: number; oom?: boolean }
  | { t: "draining" }
  | { t: "exit"; why: string; reason?: string };

/** A job handed to a host (one line of its inbox). */
export interface RunMessage {
  /** Always "run". */
  t: "run";
  /** The host's sequence number of this assignment. */
  seq: number;
  /** The batch id (for messages). */
  id: number;
  /** The exact argv, or null for a shell command line. */
  argv: string[] | null;
  /** The shell command line (used when argv is null). */
  command: string;
  /** The job's variables, laid over the host's environment. */
  env: Record<string, string>;
  /** stdout file. */
  out: string;
  /** stderr file. */
  err: string;
}

/** Seconds between two heartbeats of the leader. */
export const HEARTBEAT_SECONDS = 2;

/**
 * Where the hosts' directories go: `<job store>/slurm-hosts` for a file job store (on the shared
 * file system by the cluster's requirements), else the batch logs directory.
 */
export function hostsBaseDir(jobStore: string | undefined, batchLogsDir: string, workflowId: string): string {
  if (jobStore) {
    let path: string | undefined;
    if (jobStore.startsWith("file:")) path = jobStore.slice("file:".length);
    else if (jobStore.startsWith("/") || jobStore.startsWith(".") || !jobStore.includes(":")) path = jobStore;
    if (path) {
      const abs = isAbsolute(path) ? path : resolve(path);
      if (existsSync(abs)) return join(abs, "slurm-hosts");
    }
  }
  return join(batchLogsDir, `toil_${workflowId}.hosts`);
}

/** One line-reading cursor per outbox: what has been read, and an unfinished last line. */
interface Cursor {
  offset: number;
  partial: string;
}

/** The files of one batch system's worker hosts. */
export class HostFiles {
  /** The directory of this batch system's hosts. */
  readonly dir: string;
  private readonly cursors = new Map<string, Cursor>();
  private watcher: FSWatcher | undefined;
  private beat = 0;
  private removed = false;

  constructor(base: string, workflowId: string, settings: HostSettings) {
    mkdirSync(base, { recursive: true, mode: 0o700 });
    removeAbandoned(base, settings.leaderTimeoutSeconds);
    this.dir = mkdtempSync(join(base, `${workflowId.replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, 40)}-`));
    mkdirSync(join(this.dir, "in"), { mode: 0o700 });
    mkdirSync(join(this.dir, "out"), { mode: 0o700 });
    writeFileSync(join(this.dir, "config.json"), JSON.stringify(settings), { mode: 0o600 });
    writeFileSync(join(this.dir, "control"), "", { mode: 0o600 });
    this.heartbeat();
  }

  /** Changes the heartbeat (hosts exit when it stops changing). */
  heartbeat(): void {
    this.writeControl(`alive ${String(++this.beat).padStart(16, "0")}\n`);
  }

  /** Tells every host to exit now. */
  stopAll(): void {
    this.writeControl(`stop  ${String(++this.beat).padStart(16, "0")}\n`);
  }

  private writeControl(line: string): void {
    if (this.removed) return;
    try {
      // Same length every time, written in place: a reader never sees a shorter file. Opened and
      // closed each time: an NFS client sends what was written to the server at close at the latest.
      const fd = openSync(join(this.dir, "control"), "r+");
      try {
        writeSync(fd, line, 0);
      } finally {
        closeSync(fd);
      }
    } catch {
      // the directory is gone (shutdown): nobody is listening
    }
  }

  /** Records a submitted host array (hosts that lose their leader cancel the pending ones). */
  addArray(id: string): void {
    appendFileSync(join(this.dir, "arrays"), `${id}\n`, { mode: 0o600 });
  }

  /** Appends a message to a host's inbox. */
  send(key: string, message: RunMessage | { t: "stop" }): void {
    appendFileSync(join(this.dir, "in", key), `${JSON.stringify(message)}\n`, { mode: 0o600 });
  }

  /** New complete messages in a host's outbox since the last read. */
  receive(key: string): HostMessage[] {
    let fd: number;
    try {
      fd = openSync(join(this.dir, "out", key), "r");
    } catch {
      return [];
    }
    let cursor = this.cursors.get(key);
    if (!cursor) {
      cursor = { offset: 0, partial: "" };
      this.cursors.set(key, cursor);
    }
    try {
      const size = fstatSync(fd).size;
      if (size <= cursor.offset) return [];
      const buf = Buffer.alloc(size - cursor.offset);
      const n = readSync(fd, buf, 0, buf.length, cursor.offset);
      cursor.offset += n;
      const lines = (cursor.partial + buf.subarray(0, n).toString("utf8")).split("\n");
      cursor.partial = lines.pop() ?? "";
      const out: HostMessage[] = [];
      for (const line of lines) {
        if (line.trim() === "") continue;
        try {
          out.push(JSON.parse(line) as HostMessage);
        } catch {
          // not a message (a torn write is completed by the next line): skip it
        }
      }
      return out;
    } finally {
      closeSync(fd);
    }
  }

  /** Forgets a host's files (after it ended). */
  forget(key: string): void {
    this.cursors.delete(key);
    rmSync(join(this.dir, "in", key), { force: true });
    rmSync(join(this.dir, "out", key), { force: true });
  }

  /**
   * Calls `onChange(key)` when a host appends to its outbox, where the file system tells (a local
   * file system does; NFS does not for writes from other machines, so callers also poll).
   */
  watch(onChange: (key: string) => void): void {
    try {
      this.watcher = watch(join(this.dir, "out"), { persistent: false }, (_event, name) => {
        if (typeof name === "string" && name) onChange(name);
      });
      this.watcher.on("error", () => this.watcher?.close());
    } catch {
      this.watcher = undefined;
    }
  }

  /** Stops watching and removes the directory. */
  remove(): void {
    this.watcher?.close();
    this.watcher = undefined;
    this.removed = true;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Removes directories of earlier leaders of any workflow in `base` whose heartbeat stopped long
 * ago (a leader killed with SIGKILL leaves its directory; its hosts have exited by then).
 */
function removeAbandoned(base: string, leaderTimeoutSeconds: number): void {
  const deadline = Date.now() - Math.max(600, 4 * leaderTimeoutSeconds) * 1000;
  let names: string[];
  try {
    names = readdirSync(base);
  } catch {
    return;
  }
  for (const name of names) {
    try {
      if (statSync(join(base, name, "control")).mtimeMs < deadline) rmSync(join(base, name), { recursive: true, force: true });
    } catch {
      // not a hosts directory, or already gone
    }
  }
}
