/**
 * DeferredFunctionManager: functions a job defers run when its attempt ends, even if the worker
 * process is killed; then the next worker on the machine (or the batch system's worker cleanup)
 * runs them.
 *
 * Each worker process keeps its deferred functions in its own small SQLite file under
 * `<stateDirBase>/deferred/`, opened in SQLite's exclusive locking mode: the process holds a POSIX
 * lock on it for as long as it lives, and the kernel drops that lock when the process dies, however
 * it dies. A state file whose lock can be taken therefore belongs to a dead worker (an orphan);
 * whoever takes the lock runs the functions not yet marked done, marking each one done right after
 * it returns, then deletes the file. Two live processes can never both hold one file, so each
 * function runs once, unless the process running it dies while it runs (then the next claimant
 * runs it again: deferred functions should be idempotent, as in Toil).
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import Database from "better-sqlite3";
import { runDeferredFunction, type DeferredFunctionRef } from "@toil/job";
import { FileStoreStateError } from "./errors.js";
import { DIR_MODE, isErrno } from "./internal/fsx.js";

/** Runs one deferred function (default: @toil/job's `runDeferredFunction`). */
export type DeferredRunner = (ref: DeferredFunctionRef) => Promise<void>;

export interface DeferredFunctionManagerOptions {
  runner?: DeferredRunner;
  /** Where failures of deferred functions are reported (they never propagate). Default: stderr. */
  log?: (message: string) => void;
}

const STATE_DIR = "deferred";
const PREFIX = "func-";
const SUFFIX = ".db";
/** Extra files SQLite may create beside a state file. */
const SIDE_FILES = ["-journal", "-wal", "-shm"];

type DB = Database.Database;

/**
 * Strong references to every open state file: a connection that were garbage collected would be
 * closed, silently dropping its lock and making a live worker's functions look orphaned.
 */
const openStates = new Set<DB>();

function openLocked(file: string, create: boolean): DB | undefined {
  let db: DB;
  try {
    db = new Database(file, { fileMustExist: !create, timeout: 0 });
  } catch (err) {
    if (!create && (isErrno(err, "ENOENT") || /unable to open|does not exist/i.test(String(err)))) return undefined;
    throw err;
  }
  try {
    db.pragma("locking_mode = EXCLUSIVE");
    db.pragma("synchronous = NORMAL");
    // The first write takes the exclusive lock, which exclusive mode then keeps until close.
    db.exec("BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS funcs (seq INTEGER PRIMARY KEY, ref TEXT NOT NULL, done INTEGER NOT NULL DEFAULT 0); COMMIT;");
    return db;
  } catch (err) {
    db.close();
    if (/SQLITE_BUSY|database is locked/i.test(String((err as { code?: string }).code ?? err))) return undefined;
    throw err;
  }
}

async function drain(db: DB, runner: DeferredRunner, log: (m: string) => void): Promise<number> {
  const pending = db.prepare("SELECT seq, ref FROM funcs WHERE done = 0 ORDER BY seq").all() as { seq: number; ref: string }[];
  const markDone = db.prepare("UPDATE funcs SET done = 1 WHERE seq = ?");
  for (const row of pending) {
    const ref = JSON.parse(row.ref) as DeferredFunctionRef;
    try {
      await runner(ref);
    } catch (err) {
      log(`Deferred function '${ref.name || ref.exportName}' from ${ref.module} failed: ${(err as Error)?.stack ?? String(err)}`);
    }
    markDone.run(row.seq);
  }
  return pending.length;
}

function removeStateFile(file: string): void {
  for (const f of [file, ...SIDE_FILES.map((s) => file + s)]) fs.rmSync(f, { force: true });
}

/** Deferred functions of the jobs run by one worker process (Toil's DeferredFunctionManager). */
export class DeferredFunctionManager {
  readonly stateDir: string;
  private readonly runner: DeferredRunner;
  private readonly log: (message: string) => void;
  private db: DB | undefined;
  private readonly file: string;

  constructor(stateDirBase: string, options: DeferredFunctionManagerOptions = {}) {
    this.stateDir = path.join(stateDirBase, STATE_DIR);
    fs.mkdirSync(this.stateDir, { recursive: true, mode: DIR_MODE });
    this.runner = options.runner ?? ((ref) => runDeferredFunction(ref));
    this.log = options.log ?? ((m) => process.stderr.write(`${m}\n`));
    this.file = path.join(this.stateDir, `${PREFIX}${process.pid}-${randomBytes(6).toString("hex")}${SUFFIX}`);
    const db = openLocked(this.file, true);
    if (!db) throw new FileStoreStateError(`Could not lock the new deferred-function state file ${this.file}.`);
    this.db = db;
    openStates.add(db);
  }

  private own(): DB {
    if (!this.db) throw new FileStoreStateError("This DeferredFunctionManager was closed.");
    return this.db;
  }

  /** Record a function to run at the end of the current job; durable before this returns. */
  register(ref: DeferredFunctionRef): void {
    this.own().prepare("INSERT INTO funcs (ref) VALUES (?)").run(JSON.stringify(ref));
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
    const db = this.own();
    const n = await drain(db, this.runner, this.log);
    db.exec("DELETE FROM funcs WHERE done = 1");
    return n;
  }

  /** Run the deferred functions of dead workers on this machine. Returns how many ran. */
  async runOrphans(): Promise<number> {
    return runOrphansIn(this.stateDir, this.runner, this.log, this.file);
  }

  /** Release this worker's state (runs nothing: call runOwn() first). */
  close(): void {
    if (!this.db) return;
    const pending = (this.db.prepare("SELECT COUNT(*) AS n FROM funcs WHERE done = 0").get() as { n: number }).n;
    openStates.delete(this.db);
    this.db.close();
    this.db = undefined;
    // With functions still pending, leave the file: the next worker will find it orphaned and run them.
    if (pending === 0) removeStateFile(this.file);
  }

  /**
   * Worker cleanup at batch-system shutdown (the seed's WorkerCleanupInfo step): run every orphaned
   * deferred function left under `stateDirBase` by dead workers. Returns how many ran.
   */
  static async cleanupWorker(stateDirBase: string, options: DeferredFunctionManagerOptions = {}): Promise<number> {
    const runner = options.runner ?? ((ref: DeferredFunctionRef) => runDeferredFunction(ref));
    const log = options.log ?? ((m: string) => process.stderr.write(`${m}\n`));
    return runOrphansIn(path.join(stateDirBase, STATE_DIR), runner, log);
  }
}

async function runOrphansIn(dir: string, runner: DeferredRunner, log: (m: string) => void, self?: string): Promise<number> {
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
    const file = path.join(dir, name);
    if (file === self) continue;
    const db = openLocked(file, false);
    if (!db) continue; // its worker is alive (or another process is running it right now)
    try {
      if (!fs.existsSync(file)) continue; // already finished and removed by someone else
      ran += await drain(db, runner, log);
      removeStateFile(file);
    } finally {
      db.close();
    }
  }
  return ran;
}
