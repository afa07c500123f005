/**
 * DeferredFunctionManager: functions a job defers run when its attempt ends, even if the worker
 * process is killed; then the next worker on the machine (or the batch system's worker cleanup)
 * runs them.
 *
 * Each worker process keeps its deferred functions in its own small append-only file under
 * `<stateDirBase>/deferred/`, whose NAME carries its owner's identity: pid, process start time, boot
 * id and host (the same liveness check as the leader lock, robust to pid reuse and reboots):
 *
 *     func~<pid>.<startTicks>.<bootId>.<hostHex>~<random>.jsonl
 *
 * Lines are `{"r": ref}` (registration n, counted from 0) and `{"d": n}` (registration n ran). A file
 * whose owner is dead is an orphan. A claimant takes it by renaming it to a name carrying its own
 * identity: rename(2) is atomic, so of several claimants exactly one succeeds (the others get ENOENT).
 * The winner runs the functions not yet marked done, appending a done line right after each returns,
 * then deletes the file. If the claimant dies too, the file now names a dead owner and the next
 * claimant takes it over. So each function runs once, unless the process running it dies while it
 * runs (then it runs again: deferred functions should be idempotent, as in Toil). A torn last line
 * (an append cut by SIGKILL) is ignored. A worker that closes its manager with functions still
 * pending renames its file to the owner `free`, claimable at once.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { runDeferredFunction, type DeferredFunctionRef } from "@toil/job/core";
import { FileStoreStateError } from "./errors.js";
import { DIR_MODE, FILE_MODE, isErrno } from "./internal/fsx.js";
import { currentProcessIdentity, isProcessAlive, type ProcessIdentity } from "./internal/process-info.js";

/** Runs one deferred function (default: @toil/job's `runDeferredFunction`). */
export type DeferredRunner = (ref: DeferredFunctionRef) => Promise<void>;

/** Options of {@link DeferredFunctionManager}. */
export interface DeferredFunctionManagerOptions {
  /** Runs one deferred function (default: import its module and call the export). */
  runner?: DeferredRunner;
  /** Where failures of deferred functions are reported (they never propagate). Default: stderr. */
  log?: (message: string) => void;
}

const STATE_DIR = "deferred";
const PREFIX = "func~";
const SUFFIX = ".jsonl";
const FREE = "free";

function ownerTag(id: ProcessIdentity): string {
  return [id.pid, id.startTicks || "0", id.bootId || "0", Buffer.from(id.host).toString("hex")].join(".");
}

function parseOwner(tag: string): ProcessIdentity | typeof FREE | undefined {
  if (tag === FREE) return FREE;
  const [pid, ticks, boot, hostHex] = tag.split(".");
  if (!pid || !/^\d+$/.test(pid) || ticks === undefined || boot === undefined || hostHex === undefined) return undefined;
  return {
    pid: Number(pid),
    startTicks: ticks === "0" ? "" : ticks,
    bootId: boot === "0" ? "" : boot,
    host: Buffer.from(hostHex, "hex").toString(),
  };
}

function stateName(owner: string): string {
  return `${PREFIX}${owner}~${randomBytes(6).toString("hex")}${SUFFIX}`;
}

function appendLine(file: string, entry: object): void {
  fs.appendFileSync(file, `${JSON.stringify(entry)}\n`, { mode: FILE_MODE });
}

/** Registrations not yet marked done, in order. Unparsable lines (a torn tail) are skipped. */
function pendingIn(file: string): { seq: number; ref: DeferredFunctionRef }[] {
  const regs: DeferredFunctionRef[] = [];
  const done = new Set<number>();
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    if (line === "") continue;
    let e: { r?: DeferredFunctionRef; d?: number };
    try {
      e = JSON.parse(line) as typeof e;
    } catch {
      continue;
    }
    if (e.r !== undefined) regs.push(e.r);
    else if (typeof e.d === "number") done.add(e.d);
  }
  return regs.map((ref, seq) => ({ seq, ref })).filter((p) => !done.has(p.seq));
}

async function drain(
  file: string,
  pending: { seq: number; ref: DeferredFunctionRef }[],
  runner: DeferredRunner,
  log: (m: string) => void,
): Promise<number> {
  for (const { seq, ref } of pending) {
    try {
      await runner(ref);
    } catch (err) {
      log(`Deferred function '${ref.name || ref.exportName}' from ${ref.module} failed: ${(err as Error)?.stack ?? String(err)}`);
    }
    appendLine(file, { d: seq });
  }
  return pending.length;
}

/** Deferred functions of the jobs run by one worker process (Toil's DeferredFunctionManager). */
export class DeferredFunctionManager {
  /** Directory holding the state files of this node's workers. */
  readonly stateDir: string;
  private readonly runner: DeferredRunner;
  private readonly log: (message: string) => void;
  private readonly owner: string;
  /** This worker's state file, created at the first registration. */
  private file: string | undefined;
  private registered = 0;
  private pending: { seq: number; ref: DeferredFunctionRef }[] = [];
  private closed = false;

  constructor(stateDirBase: string, options: DeferredFunctionManagerOptions = {}) {
    this.stateDir = path.join(stateDirBase, STATE_DIR);
    fs.mkdirSync(this.stateDir, { recursive: true, mode: DIR_MODE });
    this.runner = options.runner ?? ((ref) => runDeferredFunction(ref));
    this.log = options.log ?? ((m) => process.stderr.write(`${m}\n`));
    this.owner = ownerTag(currentProcessIdentity());
  }

  /** Record a function to run at the end of the current job; on disk before this returns. */
  register(ref: DeferredFunctionRef): void {
    if (this.closed) throw new FileStoreStateError("This DeferredFunctionManager was closed.");
    if (this.file === undefined) {
      this.file = path.join(this.stateDir, stateName(this.owner));
      this.registered = 0;
    }
    appendLine(this.file, { r: ref });
    this.pending.push({ seq: this.registered++, ref });
  }

  /**
   * Run one job attempt: orphans of dead workers first, then `fn` (which may register functions),
   * then this worker's deferred functions (also when `fn` throws), then orphans again.
   */
  async runJob<T>(fn: (register: (ref: DeferredFunctionRef) => void) => Promise<T>): Promise<T> {
    await this.runOrphans();
    try {
      return await fn((ref) => this.register(ref));
    } finally {
      await this.runOwn();
      await this.runOrphans();
    }
  }

  /** Run (and mark done) this worker's pending deferred functions, in registration order. */
  async runOwn(): Promise<number> {
    if (this.closed) throw new FileStoreStateError("This DeferredFunctionManager was closed.");
    let ran = 0;
    while (this.pending.length > 0 && this.file !== undefined) {
      const batch = this.pending;
      this.pending = [];
      ran += await drain(this.file, batch, this.runner, this.log);
    }
    if (this.file !== undefined && this.pending.length === 0) {
      fs.rmSync(this.file, { force: true });
      this.file = undefined;
    }
    return ran;
  }

  /** Run the deferred functions of dead workers on this machine. Returns how many ran. */
  async runOrphans(): Promise<number> {
    return runOrphansIn(this.stateDir, this.runner, this.log, this.owner);
  }

  /** Release this worker's state (runs nothing: call runOwn() first). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.file === undefined) return;
    if (this.pending.length === 0) fs.rmSync(this.file, { force: true });
    // With functions still pending, hand the file over: any other worker may claim it now.
    else fs.renameSync(this.file, path.join(this.stateDir, stateName(FREE)));
    this.file = undefined;
  }

  /**
   * Worker cleanup at batch-system shutdown (the seed's WorkerCleanupInfo step): run every orphaned
   * deferred function left under `stateDirBase` by dead workers. Returns how many ran.
   */
  static async cleanupWorker(stateDirBase: string, options: DeferredFunctionManagerOptions = {}): Promise<number> {
    const runner = options.runner ?? ((ref: DeferredFunctionRef) => runDeferredFunction(ref));
    const log = options.log ?? ((m: string) => process.stderr.write(`${m}\n`));
    return runOrphansIn(path.join(stateDirBase, STATE_DIR), runner, log, ownerTag(currentProcessIdentity()));
  }
}

async function runOrphansIn(dir: string, runner: DeferredRunner, log: (m: string) => void, me: string): Promise<number> {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (err) {
    if (isErrno(err, "ENOENT")) return 0;
    throw err;
  }
  let ran = 0;
  for (const name of names) {
    if (!name.startsWith(PREFIX) || !name.endsWith(SUFFIX)) continue;
    const tag = name.slice(PREFIX.length, name.lastIndexOf("~"));
    const owner = parseOwner(tag);
    if (owner === undefined) continue; // not ours
    if (owner !== FREE && isProcessAlive(owner)) continue; // its worker (or a claimant) is alive
    const claimed = path.join(dir, stateName(me));
    try {
      fs.renameSync(path.join(dir, name), claimed);
    } catch (err) {
      if (isErrno(err, "ENOENT")) continue; // another claimant won
      throw err;
    }
    // A torn last line of the dead owner must not swallow our first done mark.
    fs.appendFileSync(claimed, "\n");
    ran += await drain(claimed, pendingIn(claimed), runner, log);
    fs.rmSync(claimed, { force: true });
  }
  return ran;
}
