/**
 * CachingFileStore: a per-node cache of job-store files shared by every worker process of a workflow
 * on the machine. Bookkeeping lives in one SQLite database (WAL mode, immediate transactions) in the
 * node's coordination directory; cached copies live in the cache directory and are handed to jobs as
 * hard links (immutable reads) or copies (mutable reads).
 *
 * Space accounting: the cache has a limit (default: free space of its filesystem when first
 * created). Cached files plus the `disk` of every running job must fit; a job that starts, or a file
 * that is downloaded, first evicts unreferenced cached files (least recently used first), and fails
 * with CacheUnbalancedError when even an empty cache cannot make room.
 *
 * Dead processes: every job row and every download carries its process identity (pid, start time,
 * boot id). Rows of dead processes are purged before each allocation, so a worker killed mid-read
 * leaves no reference and no half-written file behind for long: the next reader takes the download over.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import Database from "better-sqlite3";
import type { FileID, JobDescription, ReadGlobalFileOptions } from "@toil/job";
import { CacheUnbalancedError, IllegalDeletionCacheError } from "../errors.js";
import { parseFileId } from "../ids.js";
import { DIR_MODE, tempNameFor } from "../internal/fsx.js";
import { currentProcessIdentity, isProcessAlive, type ProcessIdentity } from "../internal/process-info.js";
import type { JobStore } from "../job-store.js";
import { AbstractFileStore, type FileStoreOptions } from "./abstract.js";

export interface CachingFileStoreOptions extends FileStoreOptions {
  /** Directory holding cached copies (same filesystem as the job temp dirs, for hard links). */
  cacheDir: string;
  /** Directory for the bookkeeping database (local disk or tmpfs; not a network filesystem). */
  coordinationDir: string;
  /** Cache limit in bytes (fixed when the cache is first created). Default: free space on the cache's filesystem. */
  cacheSize?: number;
}

type DB = Database.Database;
interface FileRow {
  key: string;
  path: string;
  size: number;
  state: "cached" | "downloading";
  owner: string | null;
  last_used: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS properties (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (key TEXT PRIMARY KEY, path TEXT NOT NULL, size INTEGER NOT NULL,
  state TEXT NOT NULL, owner TEXT, last_used INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (token TEXT PRIMARY KEY, job_id TEXT NOT NULL, tempdir TEXT NOT NULL,
  disk INTEGER NOT NULL, identity TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS refs (path TEXT PRIMARY KEY, key TEXT NOT NULL, token TEXT NOT NULL, mutable INTEGER NOT NULL);
`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class CachingFileStore extends AbstractFileStore {
  private readonly db: DB;
  private readonly token: string;
  private readonly identity: ProcessIdentity;
  private readonly cacheDir: string;

  constructor(jobStore: JobStore, jobDesc: JobDescription, localTempDir: string, options: CachingFileStoreOptions) {
    super(jobStore, jobDesc, localTempDir, options);
    this.cacheDir = options.cacheDir;
    fs.mkdirSync(this.cacheDir, { recursive: true, mode: DIR_MODE });
    fs.mkdirSync(options.coordinationDir, { recursive: true, mode: DIR_MODE });
    this.db = CachingFileStore.openDatabase(options.coordinationDir);
    this.identity = currentProcessIdentity();
    this.token = `${this.identity.pid}-${jobDesc.id}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    const limit = options.cacheSize ?? freeBytes(this.cacheDir);
    this.db.prepare("INSERT OR IGNORE INTO properties (name, value) VALUES ('maxSpace', ?)").run(String(limit));
  }

  static openDatabase(coordinationDir: string): DB {
    const db = new Database(path.join(coordinationDir, "cache.db"), { timeout: 30_000 });
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.exec(SCHEMA);
    return db;
  }

  /** The cache limit in bytes. */
  get maxSpace(): number {
    return Number((this.db.prepare("SELECT value FROM properties WHERE name = 'maxSpace'").get() as { value: string }).value);
  }

  /** Cached bytes and bytes reserved by running jobs. */
  usage(): { cached: number; reserved: number } {
    const cached = (this.db.prepare("SELECT COALESCE(SUM(size), 0) AS n FROM files").get() as { n: number }).n;
    const reserved = (this.db.prepare("SELECT COALESCE(SUM(disk), 0) AS n FROM jobs").get() as { n: number }).n;
    return { cached, reserved };
  }

  /** Drop rows of dead processes: their job reservations, references and unfinished downloads. */
  private purgeDead(): void {
    const jobs = this.db.prepare("SELECT token, identity FROM jobs").all() as { token: string; identity: string }[];
    for (const j of jobs) {
      if (!isProcessAlive(JSON.parse(j.identity) as ProcessIdentity)) {
        this.db.prepare("DELETE FROM refs WHERE token = ?").run(j.token);
        this.db.prepare("DELETE FROM jobs WHERE token = ?").run(j.token);
      }
    }
    const downloads = this.db.prepare("SELECT key, path, owner FROM files WHERE state = 'downloading'").all() as FileRow[];
    for (const d of downloads) {
      if (!d.owner || !isProcessAlive(JSON.parse(d.owner) as ProcessIdentity)) {
        fs.rmSync(d.path, { force: true });
        this.db.prepare("DELETE FROM files WHERE key = ?").run(d.key);
      }
    }
  }

  /** Evict unreferenced cached files (LRU) until `extra` more bytes fit. Runs inside a transaction. */
  private makeRoom(extra: number, what: string): void {
    const max = this.maxSpace;
    let { cached, reserved } = this.usage();
    if (cached + reserved + extra <= max) return;
    const victims = this.db
      .prepare("SELECT * FROM files WHERE state = 'cached' AND key NOT IN (SELECT key FROM refs) ORDER BY last_used")
      .all() as FileRow[];
    for (const v of victims) {
      if (cached + reserved + extra <= max) break;
      fs.rmSync(v.path, { force: true });
      this.db.prepare("DELETE FROM files WHERE key = ?").run(v.key);
      cached -= v.size;
    }
    if (cached + reserved + extra > max) {
      throw new CacheUnbalancedError(
        `The node's cache cannot make room for ${what} (${extra} bytes): limit ${max} bytes, ${cached} bytes of ` +
          `cached files in use by running jobs, ${reserved} bytes reserved by running jobs. Lower the job's disk ` +
          `requirement, run fewer jobs per node, or give the cache more space.`,
      );
    }
  }

  protected override async startJob(): Promise<void> {
    const disk = this.jobDisk() ?? 0;
    this.db
      .transaction(() => {
        this.purgeDead();
        this.makeRoom(disk, `job ${this.jobDesc}'s disk requirement`);
        this.db
          .prepare("INSERT INTO jobs (token, job_id, tempdir, disk, identity) VALUES (?, ?, ?, ?, ?)")
          .run(this.token, this.jobId, this.localTempDir, disk, JSON.stringify(this.identity));
      })
      .immediate();
  }

  protected override async endJob(): Promise<void> {
    this.db
      .transaction(() => {
        this.db.prepare("DELETE FROM refs WHERE token = ?").run(this.token);
        this.db.prepare("DELETE FROM jobs WHERE token = ?").run(this.token);
      })
      .immediate();
  }

  /** Release the database connection (after `open` and the commit). */
  close(): void {
    if (this.db.open) this.db.close();
  }

  private cachePathFor(key: string, basename: string): string {
    return path.join(this.cacheDir, `${key.replace(/\//g, "~")}`.slice(-200) + (key.endsWith(basename) ? "" : `-${basename}`));
  }

  /** Ensure the file is in the cache; returns its cached path. Downloads once per node; others wait. */
  private async ensureCached(fileId: string): Promise<string> {
    const parsed = parseFileId(fileId);
    const key = parsed.key;
    for (;;) {
      const decision = this.db
        .transaction((): { kind: "hit"; path: string } | { kind: "wait" } | { kind: "download"; path: string } => {
          const row = this.db.prepare("SELECT * FROM files WHERE key = ?").get(key) as FileRow | undefined;
          if (row?.state === "cached" && fs.existsSync(row.path)) {
            this.db.prepare("UPDATE files SET last_used = ? WHERE key = ?").run(Date.now(), key);
            return { kind: "hit", path: row.path };
          }
          if (row?.state === "downloading" && row.owner && isProcessAlive(JSON.parse(row.owner) as ProcessIdentity)) {
            return { kind: "wait" };
          }
          if (row) {
            fs.rmSync(row.path, { force: true });
            this.db.prepare("DELETE FROM files WHERE key = ?").run(key);
          }
          this.purgeDead();
          this.makeRoom(parsed.size, `file ${fileId}`);
          const p = this.cachePathFor(key, parsed.basename);
          this.db
            .prepare("INSERT INTO files (key, path, size, state, owner, last_used) VALUES (?, ?, ?, 'downloading', ?, ?)")
            .run(key, p, parsed.size, JSON.stringify(this.identity), Date.now());
          return { kind: "download", path: p };
        })
        .immediate();
      if (decision.kind === "hit") return decision.path;
      if (decision.kind === "wait") {
        await sleep(20);
        continue;
      }
      const tmp = tempNameFor(decision.path);
      try {
        await this.jobStore.readFile(fileId, tmp, { mutable: true });
        fs.chmodSync(tmp, parsed.executable ? 0o500 : 0o400); // cached copies are read-only
        fs.renameSync(tmp, decision.path);
        const size = fs.statSync(decision.path).size;
        this.db.prepare("UPDATE files SET state = 'cached', owner = NULL, size = ?, last_used = ? WHERE key = ?").run(size, Date.now(), key);
        return decision.path;
      } catch (err) {
        fs.rmSync(tmp, { force: true });
        this.db.prepare("DELETE FROM files WHERE key = ? AND state = 'downloading'").run(key);
        throw err;
      }
    }
  }

  async readGlobalFile(fileId: FileID | string, userPath?: string, options: ReadGlobalFileOptions = {}): Promise<string> {
    const dest = this.destinationFor(fileId, userPath);
    const key = parseFileId(fileId).key;
    if (options.cache === false) {
      await this.jobStore.readFile(fileId, dest, { mutable: true });
    } else {
      const cached = await this.ensureCached(fileId);
      const mutable = options.mutable ?? false;
      if (mutable) {
        fs.copyFileSync(cached, dest);
        fs.chmodSync(dest, parseFileId(fileId).executable ? 0o700 : 0o600);
      } else {
        try {
          fs.linkSync(cached, dest);
        } catch {
          fs.copyFileSync(cached, dest); // another filesystem: a private copy
        }
      }
      this.db.prepare("INSERT OR REPLACE INTO refs (path, key, token, mutable) VALUES (?, ?, ?, ?)").run(dest, key, this.token, mutable ? 1 : 0);
    }
    if (this.inTempDir(dest)) this.noteLocalCopy(fileId, dest);
    this.logAccess(fileId, dest);
    return dest;
  }

  protected override async removeLocalCopies(fileId: string, paths: string[]): Promise<void> {
    const key = parseFileId(fileId).key;
    const cached = this.db.prepare("SELECT path FROM files WHERE key = ? AND state = 'cached'").get(key) as { path: string } | undefined;
    for (const p of paths) {
      const ref = this.db.prepare("SELECT mutable FROM refs WHERE path = ? AND token = ?").get(p, this.token) as { mutable: number } | undefined;
      if (ref && ref.mutable === 0 && cached) {
        // An immutable reference must still be the cached file: the job may not delete or move it itself.
        let same = false;
        try {
          const a = fs.statSync(p);
          const b = fs.statSync(cached.path);
          same = a.ino === b.ino && a.dev === b.dev;
        } catch {
          same = false;
        }
        if (!same && !fs.existsSync(p)) throw new IllegalDeletionCacheError(p);
      }
      fs.rmSync(p, { force: true });
      this.db.prepare("DELETE FROM refs WHERE path = ? AND token = ?").run(p, this.token);
    }
  }

  protected override async forgetCached(fileId: string): Promise<void> {
    const key = parseFileId(fileId).key;
    this.db
      .transaction(() => {
        const row = this.db.prepare("SELECT path FROM files WHERE key = ?").get(key) as { path: string } | undefined;
        if (row) {
          fs.rmSync(row.path, { force: true });
          this.db.prepare("DELETE FROM files WHERE key = ?").run(key);
        }
      })
      .immediate();
  }

  /**
   * Remove the node's cache and bookkeeping (batch-system shutdown, once no worker of the workflow
   * runs on the node any more).
   */
  static shutdown(cacheDir: string, coordinationDir: string): void {
    fs.rmSync(cacheDir, { recursive: true, force: true });
    for (const f of ["cache.db", "cache.db-wal", "cache.db-shm"]) fs.rmSync(path.join(coordinationDir, f), { force: true });
  }
}

function freeBytes(dir: string): number {
  try {
    const st = fs.statfsSync(dir);
    return Number(st.bavail) * Number(st.bsize);
  } catch {
    return Number.MAX_SAFE_INTEGER;
  }
}
