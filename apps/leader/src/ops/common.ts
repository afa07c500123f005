/**
 * Shared plumbing of the operating commands (`toil status`, `stats`, `kill`, `clean`, `debug-job`,
 * `report`): exit codes, the error type for user mistakes, opening an existing job store with an
 * error that says what to do, and read-only scans of a file job store.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  FileJobStore,
  JobStoreError,
  JobStoreVersionError,
  NoSuchJobStoreError,
  openJobStore,
  parseLocator,
  type JobStore,
} from "@toil/filestore";
import { JOB_DESCRIPTION_FORMAT, ToilError, type JobDescriptionJSON } from "@toil/job";

/** Exit codes of the operating commands (documented in the leader README). */
export const OPS_EXIT = {
  /** Success. */
  OK: 0,
  /** The command worked and the answer is "not OK": work remains (`status --failIfNotComplete`), the job failed (`debug-job`), the leader did not stop (`kill`). */
  NOT_OK: 1,
  /** A user mistake: bad arguments, no job store at the path, a store of a newer format, an unknown job. */
  USAGE: 2,
  /** Refused because a leader is running the workflow (`clean` without `--force`). */
  BUSY: 3,
  /** An unexpected internal error (rerun with `--logDebug` for the stack trace). */
  INTERNAL: 4,
} as const;

/** Where the operating commands write (the CLI passes the process streams; tests pass buffers). */
export interface OpsIO {
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown };
  cwd: string;
}

/** A mistake the user can fix (no stack trace unless `--logDebug`). */
export class OpsUsageError extends ToilError {
  readonly exitCode: number = OPS_EXIT.USAGE;
}

/** The command was refused because a leader is running the workflow. */
export class LeaderRunningError extends ToilError {
  readonly exitCode: number = OPS_EXIT.BUSY;
}

/** Exit code and message for an error thrown by an operating command. */
export function describeOpsError(err: unknown): { exitCode: number; message: string; user: boolean } {
  if (err instanceof OpsUsageError || err instanceof LeaderRunningError) {
    return { exitCode: err.exitCode, message: err.message, user: true };
  }
  // Every job-store error (missing store, bad locator, newer version, unknown job id) is about input.
  if (err instanceof JobStoreError) return { exitCode: OPS_EXIT.USAGE, message: err.message, user: true };
  if (err instanceof ToilError) return { exitCode: OPS_EXIT.USAGE, message: err.message, user: true };
  const message = err instanceof Error ? err.message : String(err);
  return { exitCode: OPS_EXIT.INTERNAL, message: `internal error: ${message}`, user: false };
}

/** Print an error the way every operating command does; returns the exit code. */
export function reportOpsError(err: unknown, io: OpsIO, command: string, logDebug = false): number {
  const { exitCode, message, user } = describeOpsError(err);
  io.stderr.write(`toil ${command}: ${message}\n`);
  if (logDebug && err instanceof Error && err.stack) io.stderr.write(`${err.stack}\n`);
  else if (!user) io.stderr.write(`Rerun with --logDebug for the stack trace, and report it if it persists.\n`);
  return exitCode;
}

/** A job store opened by an operating command. */
export interface OpenedStore {
  store: JobStore;
  /** The store's directory when it is a file job store (fast read-only scans use it). */
  root: string | undefined;
}

/**
 * Explain what is at a file-store path that is not a usable job store, or undefined if it looks
 * like one. Gives `toil <cmd>` errors that say what to do.
 */
function fileStoreProblem(root: string, locator: string): string | undefined {
  let st: fs.Stats;
  try {
    st = fs.statSync(root);
  } catch {
    return `No job store exists at ${locator}: nothing is at ${root}. Check the path (it is the --jobStore the workflow was started with); a workflow that finished may have deleted its store.`;
  }
  if (!st.isDirectory()) {
    return `${root} is a file, not a job store. Give the directory passed as --jobStore to \`toil run\`.`;
  }
  if (!fs.existsSync(path.join(root, "format.json"))) {
    return `${root} is a directory but not a job store (it has no format.json). Give the directory passed as --jobStore to \`toil run\`.`;
  }
  return undefined;
}

/** Parse and resume an existing job store, with errors that say what to do. */
export async function openExistingStore(locator: string, cwd: string): Promise<OpenedStore> {
  const parsed = parseLocator(locator, cwd);
  if (parsed.kind === "file") {
    const problem = fileStoreProblem(parsed.rest, locator);
    if (problem) throw new OpsUsageError(problem);
  }
  const store = openJobStore(parsed.canonical);
  try {
    await store.resume();
  } catch (err) {
    if (err instanceof JobStoreVersionError) {
      throw new OpsUsageError(
        `The job store at ${locator} was written by a newer toil-ts (layout version ${JSON.stringify(err.found)}; ` +
          `this one reads up to ${err.supported}). Run this command with the toil-ts release that ran the workflow.`,
      );
    }
    if (err instanceof NoSuchJobStoreError) throw new OpsUsageError(err.message);
    throw err;
  }
  return { store, root: store instanceof FileJobStore ? store.root : undefined };
}

/** The leader that holds (or held) the workflow's leader lock, as far as this machine can tell. */
export interface LeaderInfo {
  pid: number;
  host: string;
  since: number | undefined;
  /** True: running here; false: not running; undefined: runs on another host (cannot tell). */
  alive: boolean | undefined;
  local: boolean;
}

function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Who leads the workflow. For a file job store this reads the leader lock (`meta/leader.lock`, which
 * only exists while a leader holds it); otherwise the leader pid record.
 */
export async function leaderInfo(opened: OpenedStore): Promise<LeaderInfo | undefined> {
  let rec: { pid: number; host: string; since?: number } | undefined;
  if (opened.root !== undefined) {
    try {
      const doc = JSON.parse(fs.readFileSync(path.join(opened.root, "meta", "leader.lock"), "utf8")) as {
        pid?: unknown;
        host?: unknown;
        since?: unknown;
      };
      if (typeof doc.pid === "number" && typeof doc.host === "string") {
        rec = { pid: doc.pid, host: doc.host, ...(typeof doc.since === "number" ? { since: doc.since } : {}) };
      }
    } catch {
      rec = undefined;
    }
  } else {
    rec = await opened.store.readLeaderPid();
  }
  if (!rec) return undefined;
  const local = rec.host === os.hostname();
  return { pid: rec.pid, host: rec.host, since: rec.since, local, alive: local ? pidAlive(rec.pid) : undefined };
}

/** A reusable read buffer for scanning many small files. */
class FileReader {
  private buf = Buffer.allocUnsafe(64 * 1024);

  /** The file's text, or undefined if it vanished. */
  read(file: string): string | undefined {
    let fd: number;
    try {
      fd = fs.openSync(file, "r");
    } catch {
      return undefined;
    }
    try {
      let len = 0;
      for (;;) {
        if (len === this.buf.length) {
          const bigger = Buffer.allocUnsafe(this.buf.length * 2);
          this.buf.copy(bigger, 0, 0, len);
          this.buf = bigger;
        }
        const n = fs.readSync(fd, this.buf, len, this.buf.length - len, null);
        if (n === 0) break;
        len += n;
      }
      return this.buf.toString("utf8", 0, len);
    } finally {
      fs.closeSync(fd);
    }
  }
}

function isTemp(name: string): boolean {
  return name.startsWith(".") || name.includes(".tmp");
}

/** Ids of the jobs in a file job store, without reading them (one readdir per shard). */
export function listJobFiles(root: string): { id: string; file: string }[] {
  const out: { id: string; file: string }[] = [];
  const jobsDir = path.join(root, "jobs");
  let shards: string[];
  try {
    shards = fs.readdirSync(jobsDir);
  } catch {
    return out;
  }
  for (const shard of shards) {
    let names: string[];
    try {
      names = fs.readdirSync(path.join(jobsDir, shard));
    } catch {
      continue;
    }
    for (const n of names) {
      if (n.endsWith(".json") && !isTemp(n)) out.push({ id: n.slice(0, -5), file: path.join(jobsDir, shard, n) });
    }
  }
  return out;
}

/**
 * Every stored job description as its JSON document (no job bodies are rebuilt). Fast path for file
 * job stores; other stores go through `jobs()`.
 */
export async function* scanJobDocuments(opened: OpenedStore): AsyncIterable<JobDescriptionJSON> {
  if (opened.root === undefined) {
    for await (const job of opened.store.jobs()) yield job.toJSON();
    return;
  }
  const reader = new FileReader();
  for (const { file } of listJobFiles(opened.root)) {
    const text = reader.read(file);
    if (text === undefined) continue; // finished and deleted while we scanned
    let doc: JobDescriptionJSON;
    try {
      doc = JSON.parse(text) as JobDescriptionJSON;
    } catch {
      continue; // never happens with atomic writes; a foreign file is not a job
    }
    if (typeof doc.format === "number" && doc.format > JOB_DESCRIPTION_FORMAT) {
      throw new OpsUsageError(
        `Job ${doc.id} in the store uses description format ${doc.format}, newer than this toil-ts reads (${JOB_DESCRIPTION_FORMAT}). Use the toil-ts release that ran the workflow.`,
      );
    }
    yield doc;
  }
}

/**
 * Every message in the job store's logs/stats mailbox, read and unread, WITHOUT claiming unread ones
 * (a running leader still gets them). File stores are read in place; other stores fall back to
 * `readLogs(…, true)`, which does claim them.
 */
export async function readMailbox(opened: OpenedStore, onMessage: (raw: string, writtenAt?: number) => void): Promise<number> {
  if (opened.root === undefined) {
    return opened.store.readLogs((raw) => onMessage(raw.toString("utf8")), true);
  }
  const reader = new FileReader();
  let count = 0;
  for (const box of ["archive", "inbox"]) {
    const dir = path.join(opened.root, "logs", box);
    let names: string[];
    try {
      names = fs.readdirSync(dir).filter((n) => !isTemp(n)).sort();
    } catch {
      continue;
    }
    for (const n of names) {
      let text = reader.read(path.join(dir, n));
      // The leader may have moved it from the inbox to the archive meanwhile.
      if (text === undefined && box === "inbox") text = reader.read(path.join(opened.root, "logs", "archive", n));
      if (text === undefined) continue;
      // File job store message names start with the ms time they were written at.
      const stamp = Number(n.slice(0, n.indexOf("-")));
      onMessage(text, Number.isFinite(stamp) && stamp > 0 ? stamp : undefined);
      count++;
    }
  }
  return count;
}
