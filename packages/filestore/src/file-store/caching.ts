/**
 * CachingFileStore: a per-node cache of job-store files shared by every worker process of a workflow
 * on the machine. Cached copies live in the cache directory and are handed to jobs as hard links
 * (immutable reads) or copies (mutable reads).
 *
 * Bookkeeping: one JSON document (`cache-state.json` in the node's coordination directory) listing
 * cached files, running jobs and references. Every decision reads it, changes it and replaces it
 * atomically (temp file + rename) while holding the node-wide lock `cache-state.json.lock`
 * (proper-lockfile); readers that only look (usage()) read it without the lock.
 *
 * Space accounting: the cache has a limit (default: free space of its filesystem when first
 * created). Cached files plus the `disk` of every running job must fit; a job that starts, or a file
 * that is downloaded, first evicts unreferenced cached files (least recently used first), and fails
 * with CacheUnbalancedError when even an empty cache cannot make room.
 *
 * Dead processes: every job, reference and download carries its process identity (pid, start time,
 * boot id, the same check as the leader lock). Entries of dead processes are purged before each
 * allocation, so a worker killed mid-read leaves no reference and no half-written file behind for
 * long: the next reader takes the download over. A worker killed while holding the lock stops
 * refreshing it, and the lock is taken over once stale (10 s by default).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { FileID, JobDescription, ReadGlobalFileOptions } from "@toil/job/core";
import { CacheUnbalancedError, IllegalDeletionCacheError } from "../errors.js";
import { parseFileId } from "../ids.js";
import { DIR_MODE, FILE_MODE, isErrno, writeFileAtomicSync } from "../internal/fsx.js";
import { DEFAULT_LOCK_STALE_MS, withFileLock } from "../internal/node-lock.js";
import { bootId, currentProcessIdentity, isProcessAlive, type ProcessIdentity } from "../internal/process-info.js";
import type { JobStore } from "../job-store.js";
import { AbstractFileStore, type FileStoreOptions, type LocalTempDir } from "./abstract.js";

/** Options of {@link CachingFileStore}. */
export interface CachingFileStoreOptions extends FileStoreOptions {
  /** Directory holding cached copies (same filesystem as the job temp dirs, for hard links). */
  cacheDir: string;
  /** Directory for the bookkeeping file and its lock (local disk or tmpfs; not a network filesystem). */
  coordinationDir: string;
  /** Cache limit in bytes (fixed when the cache is first created). Default: free space on the cache's filesystem. */
  cacheSize?: number;
  /** Age (ms, at least 2000) after which the bookkeeping lock of a killed holder is taken over. Default 10000. */
  lockStaleMs?: number;
}

/** Name of the bookkeeping document in the coordination directory. */
export const CACHE_STATE_FILE = "cache-state.json";
const CACHE_STATE_VERSION = 1;

interface CachedFile {
  path: string;
  size: number;
  state: "cached" | "downloading";
  /** Downloader (state "downloading"). */
  owner?: ProcessIdentity;
  /** Where the downloader writes before the rename into `path`. */
  partial?: string;
  lastUsed: number;
}
interface RunningJob {
  jobId: string;
  /** The job's temp dir, when it had made one by the time it started. */
  tempDir?: string;
  disk: number;
  owner: ProcessIdentity;
}
interface Reference {
  key: string;
  token: string;
  mutable: boolean;
  owner: ProcessIdentity;
}
/** The bookkeeping document (versioned). */
interface CacheState {
  version: number;
  /** Boot the cached copies were written in: after a machine crash they may be torn, so they are dropped. */
  bootId: string;
  maxSpace: number;
  files: Record<string, CachedFile>;
  jobs: Record<string, RunningJob>;
  /** By local path of the reader's copy. */
  refs: Record<string, Reference>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function readState(file: string): CacheState | undefined {
  let raw: string;
  try {
    raw = fs.readFileSync(file, "utf8");
  } catch (err) {
    if (isErrno(err, "ENOENT")) return undefined;
    throw err;
  }
  try {
    const s = JSON.parse(raw) as CacheState;
    if (s.version !== CACHE_STATE_VERSION || typeof s.maxSpace !== "number") return undefined;
    return s;
  } catch {
    return undefined; // cannot happen with atomic replaces; start over
  }
}

export class CachingFileStore extends AbstractFileStore {
  private readonly token: string;
  private readonly identity: ProcessIdentity;
  private readonly cacheDir: string;
  private readonly stateFile: string;
  private readonly limit: number;
  private readonly staleMs: number;

  constructor(jobStore: JobStore, jobDesc: JobDescription, localTempDir: LocalTempDir, options: CachingFileStoreOptions) {
    super(jobStore, jobDesc, localTempDir, options);
    this.cacheDir = options.cacheDir;
    fs.mkdirSync(this.cacheDir, { recursive: true, mode: DIR_MODE });
    fs.mkdirSync(options.coordinationDir, { recursive: true, mode: DIR_MODE });
    this.stateFile = path.join(options.coordinationDir, CACHE_STATE_FILE);
    this.identity = currentProcessIdentity();
    this.token = `${this.identity.pid}-${jobDesc.id}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    this.limit = options.cacheSize ?? freeBytes(this.cacheDir);
    this.staleMs = options.lockStaleMs ?? DEFAULT_LOCK_STALE_MS;
  }

  /** A fresh document, or the stored one (dropping copies written before a reboot). */
  private load(): CacheState {
    const s = readState(this.stateFile);
    if (s && s.bootId === bootId()) return s;
    if (s) for (const f of Object.values(s.files)) removeQuietly(f.path, f.partial);
    return { version: CACHE_STATE_VERSION, bootId: bootId(), maxSpace: s?.maxSpace ?? this.limit, files: {}, jobs: {}, refs: {} };
  }

  /** Read, change and atomically replace the bookkeeping document under the node-wide lock. */
  private update<T>(fn: (s: CacheState) => T): Promise<T> {
    return withFileLock(
      this.stateFile,
      () => {
        const s = this.load();
        const result = fn(s);
        writeFileAtomicSync(this.stateFile, JSON.stringify(s), { durable: false, mode: FILE_MODE });
        return result;
      },
      this.staleMs,
    );
  }

  /** A lock-free snapshot of the bookkeeping (consistent: the document is replaced atomically). */
  private snapshot(): CacheState {
    return readState(this.stateFile) ?? { version: CACHE_STATE_VERSION, bootId: bootId(), maxSpace: this.limit, files: {}, jobs: {}, refs: {} };
  }

  /** The cache limit in bytes. */
  get maxSpace(): number {
    return this.snapshot().maxSpace;
  }

  /** Cached bytes and bytes reserved by running jobs. */
  usage(): {
    /** Bytes of cached copies. */
    cached: number;
    /** Bytes reserved by running jobs' disk requirements. */
    reserved: number;
  } {
    return usageOf(this.snapshot());
  }

  /** Drop entries of dead processes: their job reservations, references and unfinished downloads. */
  private purgeDead(s: CacheState): void {
    const alive = new Map<string, boolean>();
    const isAlive = (id: ProcessIdentity) => {
      const k = `${id.host}/${id.pid}/${id.startTicks}`;
      let a = alive.get(k);
      if (a === undefined) alive.set(k, (a = isProcessAlive(id)));
      return a;
    };
    for (const [token, j] of Object.entries(s.jobs)) if (!isAlive(j.owner)) delete s.jobs[token];
    for (const [p, r] of Object.entries(s.refs)) if (!isAlive(r.owner)) delete s.refs[p];
    for (const [key, f] of Object.entries(s.files)) {
      if (f.state === "downloading" ? !f.owner || !isAlive(f.owner) : !fs.existsSync(f.path)) {
        removeQuietly(f.path, f.partial);
        delete s.files[key];
      }
    }
  }

  /** Evict unreferenced cached files (LRU) until `extra` more bytes fit, or throw CacheUnbalancedError. */
  private makeRoom(s: CacheState, extra: number, what: string): void {
    let { cached, reserved } = usageOf(s);
    if (cached + reserved + extra <= s.maxSpace) return;
    const referenced = new Set(Object.values(s.refs).map((r) => r.key));
    const victims = Object.entries(s.files)
      .filter(([key, f]) => f.state === "cached" && !referenced.has(key))
      .sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    for (const [key, v] of victims) {
      if (cached + reserved + extra <= s.maxSpace) break;
      removeQuietly(v.path);
      delete s.files[key];
      cached -= v.size;
    }
    if (cached + reserved + extra > s.maxSpace) {
      throw new CacheUnbalancedError(
        `The node's cache cannot make room for ${what} (${extra} bytes): limit ${s.maxSpace} bytes, ${cached} bytes of ` +
          `cached files in use by running jobs, ${reserved} bytes reserved by running jobs. Lower the job's disk ` +
          `requirement, run fewer jobs per node, or give the cache more space.`,
      );
    }
  }

  protected override async startJob(): Promise<void> {
    const disk = this.jobDisk() ?? 0;
    await this.update((s) => {
      this.purgeDead(s);
      this.makeRoom(s, disk, `job ${this.jobDesc}'s disk requirement`);
      const tempDir = this.localTempDirIfCreated;
      s.jobs[this.token] = { jobId: this.jobId, ...(tempDir === undefined ? {} : { tempDir }), disk, owner: this.identity };
    });
  }

  protected override async endJob(): Promise<void> {
    await this.update((s) => {
      delete s.jobs[this.token];
      for (const [p, r] of Object.entries(s.refs)) if (r.token === this.token) delete s.refs[p];
    });
  }

  /** Kept for compatibility: the file store holds no open handle between operations. */
  close(): void {}

  private cachePathFor(key: string, basename: string): string {
    return path.join(this.cacheDir, `${key.replace(/\//g, "~")}`.slice(-200) + (key.endsWith(basename) ? "" : `-${basename}`));
  }

  /**
   * Ensure the file is in the cache and record `dest` as a reference to it (in the same locked step,
   * so it cannot be evicted in between); returns the cached path. Downloads once per node; others wait.
   */
  private async ensureCached(fileId: string, dest: string, mutable: boolean): Promise<string> {
    const parsed = parseFileId(fileId);
    const key = parsed.key;
    const ref: Reference = { key, token: this.token, mutable, owner: this.identity };
    for (;;) {
      const decision = await this.update((s): { kind: "hit"; path: string } | { kind: "wait" } | { kind: "download"; path: string; partial: string } => {
        const row = s.files[key];
        if (row?.state === "cached" && fs.existsSync(row.path)) {
          row.lastUsed = Date.now();
          s.refs[dest] = ref;
          return { kind: "hit", path: row.path };
        }
        if (row?.state === "downloading" && row.owner && isProcessAlive(row.owner)) return { kind: "wait" };
        if (row) {
          removeQuietly(row.path, row.partial);
          delete s.files[key];
        }
        this.purgeDead(s);
        this.makeRoom(s, parsed.size, `file ${fileId}`);
        const p = this.cachePathFor(key, parsed.basename);
        const partial = `${p}.part-${this.identity.pid}`;
        s.files[key] = { path: p, size: parsed.size, state: "downloading", owner: this.identity, partial, lastUsed: Date.now() };
        return { kind: "download", path: p, partial };
      });
      if (decision.kind === "hit") return decision.path;
      if (decision.kind === "wait") {
        await sleep(20);
        continue;
      }
      try {
        await this.jobStore.readFile(fileId, decision.partial, { mutable: true });
        fs.chmodSync(decision.partial, parsed.executable ? 0o500 : 0o400); // cached copies are read-only
        fs.renameSync(decision.partial, decision.path);
        const size = fs.statSync(decision.path).size;
        await this.update((s) => {
          s.files[key] = { path: decision.path, size, state: "cached", lastUsed: Date.now() };
          s.refs[dest] = ref;
        });
        return decision.path;
      } catch (err) {
        removeQuietly(decision.partial);
        await this.update((s) => {
          if (s.files[key]?.state === "downloading") delete s.files[key];
        });
        throw err;
      }
    }
  }

  async readGlobalFile(fileId: FileID | string, userPath?: string, options: ReadGlobalFileOptions = {}): Promise<string> {
    const dest = this.destinationFor(fileId, userPath);
    if (options.cache === false) {
      await this.jobStore.readFile(fileId, dest, { mutable: true });
    } else {
      const mutable = options.mutable ?? false;
      const cached = await this.ensureCached(fileId, dest, mutable);
      try {
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
      } catch (err) {
        await this.update((s) => {
          if (s.refs[dest]?.token === this.token) delete s.refs[dest];
        });
        throw err;
      }
    }
    if (this.inTempDir(dest)) this.noteLocalCopy(fileId, dest);
    this.logAccess(fileId, dest);
    return dest;
  }

  protected override async removeLocalCopies(fileId: string, paths: string[]): Promise<void> {
    const key = parseFileId(fileId).key;
    const s = this.snapshot();
    const cached = s.files[key]?.state === "cached" ? s.files[key] : undefined;
    for (const p of paths) {
      const ref = s.refs[p]?.token === this.token ? s.refs[p] : undefined;
      if (ref && !ref.mutable && cached) {
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
    }
    await this.update((st) => {
      for (const p of paths) if (st.refs[p]?.token === this.token) delete st.refs[p];
    });
  }

  protected override async forgetCached(fileId: string): Promise<void> {
    const key = parseFileId(fileId).key;
    await this.update((s) => {
      const row = s.files[key];
      if (row) {
        removeQuietly(row.path, row.partial);
        delete s.files[key];
      }
    });
  }

  /**
   * Remove the node's cache and bookkeeping (batch-system shutdown, once no worker of the workflow
   * runs on the node any more).
   */
  static shutdown(cacheDir: string, coordinationDir: string): void {
    fs.rmSync(cacheDir, { recursive: true, force: true });
    for (const f of [CACHE_STATE_FILE, `${CACHE_STATE_FILE}.lock`]) {
      fs.rmSync(path.join(coordinationDir, f), { recursive: true, force: true });
    }
  }
}

function usageOf(s: CacheState): { cached: number; reserved: number } {
  let cached = 0;
  let reserved = 0;
  for (const f of Object.values(s.files)) cached += f.size;
  for (const j of Object.values(s.jobs)) reserved += j.disk;
  return { cached, reserved };
}

function removeQuietly(...paths: (string | undefined)[]): void {
  for (const p of paths) if (p !== undefined) fs.rmSync(p, { force: true });
}

function freeBytes(dir: string): number {
  try {
    const st = fs.statfsSync(dir);
    return Number(st.bavail) * Number(st.bsize);
  } catch {
    return Number.MAX_SAFE_INTEGER;
  }
}
