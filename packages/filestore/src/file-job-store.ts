/**
 * FileJobStore: the embedded job store, a directory on disk. See the package README for the layout
 * (versioned by `format.json`), what is fsynced and why, and the atomicity argument.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PassThrough, type Readable, type Writable } from "node:stream";
import { finished, pipeline } from "node:stream/promises";
import { pathToFileURL } from "node:url";
import {
  type Config,
  type FileID,
  JobDescription,
  type JobDescriptionJSON,
  configFromJSON,
  configToJSON,
  isTemporaryJobId,
  newJobId,
} from "@toil/job";
import {
  InvalidIdError,
  InvalidImportExportUrlError,
  DamagedJobError,
  DamagedJobStoreFileError,
  JobStoreError,
  JobStoreCreateError,
  JobStoreExistsError,
  JobStoreFullError,
  JobStoreVersionError,
  NoSuchFileError,
  NoSuchJobError,
  NoSuchJobStoreError,
} from "./errors.js";
import { assertJobId, assertSharedFileName, mintFileId, parseFileId, shardOf, withSize, type ParsedFileId } from "./ids.js";
import {
  DIR_MODE,
  EXEC_FILE_MODE,
  FILE_MODE,
  asNoSpace,
  failIfDiskFullInjected,
  fsyncDir,
  isErrno,
  isTempName,
  isWithin,
  mkdirp,
  readIfExists,
  syncPaths,
  syncPathsAsync,
  tempNameFor,
  writeFileAtomicSync,
} from "./internal/fsx.js";
import { appendRecords, readRecords } from "./internal/append-log.js";
import type {
  ImportOptions,
  JobStateRecord,
  JobStore,
  LeaderLock,
  LeaderLockInfo,
  MailboxMessage,
  ReadFileOptions,
  WriteFileOptions,
} from "./job-store.js";
import { acquireLeaderLockFile, readLeaderLockFile } from "./leader-lock.js";
import { registerJobStoreKind, type ParsedLocator } from "./locator.js";
import { filePathOf, normalizeUrl, urlAccessFor } from "./url-access.js";

/** Layout version written to `format.json`; stores with a higher version are refused. */
export const FILE_JOB_STORE_VERSION = 1;
const FORMAT_NAME = "toil-ts-file-job-store";
const SHARDS = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
/** Top-level entries this store creates (destroy() refuses to delete a directory with anything else). */
const KNOWN_ENTRIES = new Set(["format.json", "meta", "jobs", "results", "files", "job-files", "shared", "logs", "index"]);
/** The job-state index: an append-only log of JobStateRecords and deletions (see the README). */
const JOB_INDEX = ["index", "jobs.log"] as const;
/** The mailbox journal: every message written, one JSON line each, for readers that must not claim. */
const LOG_JOURNAL = ["logs", "journal.jsonl"] as const;

/** A job-state index line: a state record, or a deletion. */
type IndexEntry = JobStateRecord | { id: string; deleted: true };

/** The state part of a job description's JSON document (what the job-state index keeps). */
export function jobStateRecordOf(doc: JobDescriptionJSON): JobStateRecord {
  const r: JobStateRecord = { id: doc.id, jobName: doc.jobName, version: doc.version, hasBody: doc.body !== undefined };
  if (doc.unitName) r.unitName = doc.unitName;
  if (doc.displayName) r.displayName = doc.displayName;
  if (doc.remainingTryCount !== undefined) r.remainingTryCount = doc.remainingTryCount;
  if (doc.service) r.service = true;
  if (doc.checkpoint) r.checkpoint = true;
  if (doc.childIds?.length) r.childIds = doc.childIds;
  if (doc.followOnIds?.length) r.followOnIds = doc.followOnIds;
  if (doc.adoptedPhases?.some((p) => p.length > 0)) r.adoptedPhases = doc.adoptedPhases;
  if (doc.serviceTree && Object.keys(doc.serviceTree).length > 0) r.serviceTree = doc.serviceTree;
  if (doc.logFileId) r.logFileId = doc.logFileId;
  return r;
}

/** Create `file` exclusively (EEXIST if it exists) holding `data`. */
function writeNew(file: string, data: string): void {
  let fd: number;
  try {
    failIfDiskFullInjected(file);
    fd = fs.openSync(file, "wx", FILE_MODE);
  } catch (err) {
    throw asNoSpace(err, file);
  }
  try {
    const buf = Buffer.from(data, "utf8");
    let off = 0;
    while (off < buf.length) off += fs.writeSync(fd, buf, off, buf.length - off);
  } catch (err) {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
    throw asNoSpace(err, file);
  }
  fs.closeSync(fd);
}

function parseJobDoc(raw: Buffer): JobDescriptionJSON | undefined {
  return jobDocProblem(raw).doc;
}

/** The document, or what is wrong with it (for {@link DamagedJobError}). */
function jobDocProblem(raw: Buffer, id?: string): { doc?: JobDescriptionJSON; problem?: string } {
  if (raw.length === 0) return { problem: "is empty" };
  let doc: JobDescriptionJSON;
  try {
    doc = JSON.parse(raw.toString("utf8")) as JobDescriptionJSON;
  } catch (err) {
    // Only a new job's document can be incomplete (created in place, cut by a crash): absent where
    // nothing reaches it; clean() raises DamagedJobError for one the workflow still reaches.
    return { problem: `is not valid JSON (${raw.length} bytes; ${(err as Error).message})` };
  }
  if (typeof doc !== "object" || doc === null || typeof doc.id !== "string") return { problem: "is not a job description (no id)" };
  if (id !== undefined && doc.id !== id) return { problem: `holds job ${JSON.stringify(doc.id)} instead` };
  return { doc };
}

/** A job-state index line cut by a crash starts like every record; anything else is damage. */
function isTornIndexLine(line: string): boolean {
  return line.startsWith('{"id":');
}
/** Marker file in a file's directory: its entry is a symlink the store made (moved export). */
const LINK_MARKER = ".store-link";

/** Options of {@link FileJobStore}. */
export interface FileJobStoreOptions {
  /**
   * fsync so that committed state survives a machine crash (default true). Process crashes never
   * lose committed state either way; see the README's durability section.
   */
  durable?: boolean;
  /** Override the config's `symlinkImports` / `moveOutputs` / `symlinkJobStoreReads`. */
  symlinkImports?: boolean;
  /** Override the config's `moveOutputs`: export by moving the file out and leaving a symlink. */
  moveExports?: boolean;
  /**
   * Override the config's `symlinkJobStoreReads`: let reads link to the stored file instead of copying it.
   */
  symlinkReads?: boolean;
}

interface JobWrite {
  id: string;
  data: string;
  /** A new job: written in place with an exclusive create, no temp file. */
  create: boolean;
  state: JobStateRecord;
}

/** A job's result written inside a batch. */
interface ResultWrite {
  id: string;
  value: string;
}

/** The embedded job store: a directory tree of JSON documents and files. */
export class FileJobStore implements JobStore {
  readonly locator: string;
  /** Absolute path of the store directory (as given: a symlinked path is not resolved). */
  readonly root: string;
  private realRoot: string | undefined;
  private configValue: Config | undefined;
  private readonly durable: boolean;
  private readonly writer = `${os.hostname()}:${process.pid}`;
  /** File data written since the last job-state write, made durable before that write. */
  private readonly pendingFiles = new Set<string>();
  private readonly pendingDirs = new Set<string>();
  private batchDepth = 0;
  private batchOps: JobWrite[] = [];
  private batchResults: ResultWrite[] = [];
  /** Group writes run one after another (each is ordered inside; two must not interleave). */
  private groupWrites: Promise<void> = Promise.resolve();
  private logCounter = 0;

  constructor(
    location: string,
    private readonly options: FileJobStoreOptions = {},
  ) {
    const p = location.startsWith("file:") ? location.slice(5) : location;
    if (p === "" || p.includes("\0")) throw new InvalidIdError("job store path", location, "empty or contains NUL");
    this.root = path.resolve(p);
    this.locator = `file:${this.root}`;
    this.durable = options.durable ?? true;
  }

  // ------------------------------------------------------------------ paths

  private p(...parts: string[]): string {
    return path.join(this.root, ...parts);
  }
  private jobPath(id: string): string {
    return this.p("jobs", shardOf(id), `${id}.json`);
  }
  private resultPath(id: string): string {
    return this.p("results", shardOf(id), id);
  }
  private jobFilesDir(id: string): string {
    return this.p("job-files", shardOf(id), id);
  }
  private fileDir(f: ParsedFileId): string {
    const token = [...f.hints, f.rand].join(".");
    return f.jobId === undefined
      ? this.p("files", f.rand.slice(-2), token)
      : path.join(this.jobFilesDir(f.jobId), token);
  }
  private sharedPath(name: string): string {
    return this.p("shared", assertSharedFileName(name));
  }

  private resolvedRoot(): string {
    if (this.realRoot === undefined) this.realRoot = fs.realpathSync(this.root);
    return this.realRoot;
  }

  /**
   * Resolve a file id to its stored path, refusing anything that leaves the store: the directory
   * chain must resolve inside the store, and the entry itself may be a symlink only where the store
   * made one (link imports, moved exports).
   */
  private locate(fileId: string): { parsed: ParsedFileId; dir: string; file: string } {
    const parsed = parseFileId(fileId);
    const dir = this.fileDir(parsed);
    return { parsed, dir, file: path.join(dir, parsed.basename) };
  }

  /** Realpath of the entry's directory, checked to be inside the store; undefined if it does not exist. */
  private checkedDir(dir: string, id: string): string | undefined {
    let real: string;
    try {
      real = fs.realpathSync(dir);
    } catch (err) {
      if (isErrno(err, "ENOENT", "ENOTDIR")) return undefined;
      throw err;
    }
    if (!isWithin(this.resolvedRoot(), real)) {
      throw new InvalidIdError("file id", id, "its directory resolves outside the job store (a symlink points out)");
    }
    return real;
  }

  /** Path to open for reading, following only store-made links. undefined if the file is missing. */
  private readablePath(fileId: string): { parsed: ParsedFileId; path: string; link: boolean } | undefined {
    const { parsed, dir } = this.locate(fileId);
    const realDir = this.checkedDir(dir, fileId);
    if (realDir === undefined) return undefined;
    const entry = path.join(realDir, parsed.basename);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(entry);
    } catch (err) {
      if (isErrno(err, "ENOENT")) return undefined;
      throw err;
    }
    if (st.isSymbolicLink()) {
      if (!parsed.link && !fs.existsSync(path.join(realDir, LINK_MARKER))) {
        throw new InvalidIdError("file id", fileId, "its stored entry is a symlink the job store did not make");
      }
      return { parsed, path: entry, link: true };
    }
    if (!st.isFile()) throw new InvalidIdError("file id", fileId, "its stored entry is not a regular file");
    return { parsed, path: entry, link: false };
  }

  private requireReadable(fileId: string): { parsed: ParsedFileId; path: string; link: boolean } {
    const r = this.readablePath(fileId);
    if (!r) throw new NoSuchFileError(fileId);
    return r;
  }

  // ------------------------------------------------------------------ lifecycle

  get config(): Config {
    if (!this.configValue) {
      throw new JobStoreError(`The job store ${this.locator} is not open: call initialize(config) or resume() first.`);
    }
    return this.configValue;
  }

  private readFormat(): { version: unknown } | undefined {
    const raw = readIfExists(this.p("format.json"));
    if (raw === undefined) return undefined;
    try {
      const doc = JSON.parse(raw.toString("utf8")) as { format?: unknown; version?: unknown };
      if (doc.format !== FORMAT_NAME) return { version: doc.version ?? "unknown" };
      return { version: doc.version };
    } catch {
      return { version: "unreadable" };
    }
  }

  async initialize(config: Config): Promise<void> {
    if (this.readFormat() !== undefined) throw new JobStoreExistsError(this.locator);
    let entries: string[] = [];
    try {
      entries = fs.readdirSync(this.root);
    } catch (err) {
      if (isErrno(err, "EACCES", "EPERM", "ENOTDIR")) throw new JobStoreCreateError(this.root, err as NodeJS.ErrnoException);
      if (!isErrno(err, "ENOENT")) throw err;
    }
    if (entries.length > 0) {
      throw new JobStoreExistsError(`${this.locator} (the directory exists and is not empty; it is not a finished job store)`);
    }
    try {
      fs.mkdirSync(this.root, { recursive: true, mode: DIR_MODE });
    } catch (err) {
      if (isErrno(err, "EACCES", "EPERM", "EROFS", "ENOTDIR", "EEXIST")) throw new JobStoreCreateError(this.root, err as NodeJS.ErrnoException);
      throw err;
    }
    // Claim the directory: of two leaders creating this store at once, only the first makes `meta`;
    // the other stops here, before it writes anything (its config would replace the first one's).
    try {
      fs.mkdirSync(this.p("meta"), { mode: DIR_MODE });
    } catch (err) {
      if (isErrno(err, "EEXIST")) throw new JobStoreExistsError(`${this.locator} (another leader is creating a job store there)`);
      throw err;
    }
    fs.chmodSync(this.root, DIR_MODE);
    for (const top of ["meta", "shared", "logs/inbox", "logs/archive", "files", "job-files", "index"]) mkdirp(this.p(top));
    // Present from the start, so they are complete: stores without them fall back to scanning.
    fs.writeFileSync(this.p(...JOB_INDEX), "", { mode: FILE_MODE });
    fs.writeFileSync(this.p(...LOG_JOURNAL), "", { mode: FILE_MODE });
    for (const s of SHARDS) {
      mkdirp(this.p("jobs", s));
      mkdirp(this.p("results", s));
    }
    this.realRoot = undefined;
    this.configValue = config;
    writeFileAtomicSync(this.p("meta", "config.json"), configToJSON(config), { durable: this.durable });
    // The format file is written last: its presence is what makes this directory a job store.
    if (this.durable) syncPaths([], [this.p("meta"), this.p("jobs"), this.p("results"), this.root]);
    writeFileAtomicSync(
      this.p("format.json"),
      JSON.stringify({ format: FORMAT_NAME, version: FILE_JOB_STORE_VERSION, created: new Date().toISOString() }),
      { durable: this.durable },
    );
    if (this.durable) fsyncDir(this.root);
  }

  async resume(): Promise<void> {
    let st: fs.Stats;
    try {
      st = fs.statSync(this.root);
    } catch {
      throw new NoSuchJobStoreError(this.locator);
    }
    if (!st.isDirectory()) throw new NoSuchJobStoreError(this.locator, "it is not a directory");
    const format = this.readFormat();
    if (format === undefined) throw new NoSuchJobStoreError(this.locator, "no format.json: not a job store, or one whose creation was interrupted");
    if (typeof format.version !== "number" || format.version > FILE_JOB_STORE_VERSION || format.version < 1) {
      throw new JobStoreVersionError(this.locator, format.version, FILE_JOB_STORE_VERSION);
    }
    this.checkOwnDirectories();
    const raw = readIfExists(this.p("meta", "config.json"));
    if (raw === undefined) throw new NoSuchJobStoreError(this.locator, "its configuration (meta/config.json) is missing");
    this.configValue = configFromJSON(raw.toString("utf8"), this.p("meta", "config.json"));
  }

  /**
   * The store's own top-level directories are never symbolic links: one planted there (by anyone
   * who can write the store) would send reads and writes outside it. Refuse such a store.
   */
  private checkOwnDirectories(): void {
    for (const top of ["meta", "shared", "logs", "logs/inbox", "logs/archive", "files", "job-files", "index", "jobs", "results"]) {
      let st: fs.Stats;
      try {
        st = fs.lstatSync(this.p(top));
      } catch (err) {
        if (isErrno(err, "ENOENT")) continue;
        throw err;
      }
      if (!st.isDirectory()) {
        const what = st.isSymbolicLink() ? `a symbolic link (to ${fs.readlinkSync(this.p(top))})` : "not a directory";
        throw new NoSuchJobStoreError(
          this.locator,
          `its ${top} entry is ${what}; a job store's own directories are never links, so the store was changed by ` +
            "someone else. Restore it from a trusted copy or start the workflow again in a new job store",
        );
      }
    }
  }

  async writeConfig(config: Config): Promise<void> {
    writeFileAtomicSync(this.p("meta", "config.json"), configToJSON(config), { durable: this.durable });
    this.configValue = config;
  }

  async destroy(): Promise<void> {
    let entries: string[];
    try {
      entries = fs.readdirSync(this.root);
    } catch (err) {
      if (isErrno(err, "ENOENT")) return;
      if (isErrno(err, "ENOTDIR")) {
        throw new JobStoreError(`Refusing to destroy ${this.locator}: it is a file, not a job store directory.`);
      }
      throw err;
    }
    const isStore = entries.includes("format.json") || entries.every((e) => KNOWN_ENTRIES.has(e) || isTempName(e));
    if (!isStore) {
      throw new JobStoreError(
        `Refusing to destroy ${this.locator}: it holds entries a job store never creates ` +
          `(${entries.filter((e) => !KNOWN_ENTRIES.has(e)).slice(0, 5).join(", ")}). Check the path.`,
      );
    }
    // Remove the format marker first, so a destroy interrupted halfway never leaves something that
    // still looks like a healthy store; then the rest.
    fs.rmSync(this.p("format.json"), { force: true });
    fs.rmSync(this.root, { recursive: true, force: true, maxRetries: 3 });
    this.configValue = undefined;
  }

  // ------------------------------------------------------------------ durability

  /** Make pending file data durable (called before any job-state write that may reference it). */
  private flushPending(): void {
    if (this.pendingFiles.size === 0 && this.pendingDirs.size === 0) return;
    if (this.durable) {
      const files = [...this.pendingFiles].filter((f) => fs.existsSync(f));
      const dirs = [...this.pendingDirs].filter((d) => fs.existsSync(d));
      syncPaths(files, dirs);
    }
    this.pendingFiles.clear();
    this.pendingDirs.clear();
  }

  private notePending(file: string): void {
    if (!this.durable) return;
    this.pendingFiles.add(file);
    // The file's directory and its parent (a new token directory was created in it).
    this.pendingDirs.add(path.dirname(file));
    this.pendingDirs.add(path.dirname(path.dirname(file)));
  }

  /**
   * Write job documents (and the results of a batch). New jobs are created in place (O_EXCL: a fresh
   * id never names an existing document); results and updates go to temp files. Then one durability
   * flush of all of them (and of the new entries' directories; the syncs are issued together), then
   * the results' renames, then the updates' renames in call order, then one append to the
   * job-state index. A crash leaves every update whole (old or
   * new), and each new document whole or incomplete; readers treat an incomplete one as absent, and
   * no update that references a new job is renamed before all new documents are complete (and durable).
   */
  private writeJobDocs(ops: readonly JobWrite[], results: readonly ResultWrite[] = []): Promise<void> {
    if (ops.length === 0 && results.length === 0) return Promise.resolve();
    const run = this.groupWrites.then(() => this.writeGroup(ops, results));
    this.groupWrites = run.catch(() => undefined);
    return run;
  }

  private async writeGroup(ops: readonly JobWrite[], results: readonly ResultWrite[]): Promise<void> {
    this.flushPending();
    const temps: string[] = [];
    const synced: string[] = [];
    const renames: [string, string][] = [];
    const createdDirs = new Set<string>();
    // Results: temp files renamed before any job document, so no document that marks its job as
    // run is ever visible without the job's result.
    for (const r of results) {
      const target = this.resultPath(r.id);
      const tmp = tempNameFor(target);
      temps.push(tmp);
      writeNew(tmp, r.value);
      synced.push(tmp);
      renames.push([tmp, target]);
    }
    // One document: create it in place, or (an update, or a re-created id) write a temp file to rename.
    const writeOne = (op: JobWrite): void => {
      const target = this.jobPath(op.id);
      if (op.create) {
        try {
          writeNew(target, op.data);
          synced.push(target);
          createdDirs.add(path.dirname(target));
          return;
        } catch (err) {
          if (!isErrno(err, "EEXIST")) throw err;
        }
      }
      const tmp = tempNameFor(target);
      temps.push(tmp);
      writeNew(tmp, op.data);
      synced.push(tmp);
      renames.push([tmp, target]);
    };
    try {
      for (const op of ops) writeOne(op);
      try {
        if (this.durable) await syncPathsAsync(synced, renames.length > 0 ? [...createdDirs] : []);
      } catch (err) {
        throw asNoSpace(err, synced[0] ?? this.root);
      }
      for (const [tmp, target] of renames) {
        try {
          fs.renameSync(tmp, target);
        } catch (err) {
          throw asNoSpace(err, target);
        }
      }
      temps.length = 0;
      // No directory fsync after the renames: what reaches the disk in order is already safe (every
      // file's data was synced before it was named); the renames themselves are made durable by the
      // next synced write, like deletions (see "Durability" in the README).
    } finally {
      for (const t of temps) fs.rmSync(t, { force: true });
    }
    if (ops.length > 0) appendRecords(this.p(...JOB_INDEX), ops.map((op) => op.state));
  }

  private enqueue(job: JobDescription, create: boolean): Promise<void> | undefined {
    assertJobId(job.id);
    if (isTemporaryJobId(job.id)) {
      throw new InvalidIdError("job id", job.id, "the job still has a temporary id: call assignJobId(job) first");
    }
    job.preUpdateHook(this.writer);
    const doc = job.toJSON();
    const op: JobWrite = { id: job.id, data: JSON.stringify(doc), create, state: jobStateRecordOf(doc) };
    if (this.batchDepth > 0) this.batchOps.push(op);
    else return this.writeJobDocs([op]);
  }

  // ------------------------------------------------------------------ jobs

  assignJobId(job: JobDescription): void {
    job.id = newJobId();
  }

  async createJob(job: JobDescription): Promise<JobDescription> {
    await this.enqueue(job, true);
    return job;
  }

  async createJobs(jobs: Iterable<JobDescription>): Promise<void> {
    await this.batch(async () => {
      for (const j of jobs) this.enqueue(j, true);
    });
  }

  async batch<T>(fn: () => Promise<T>): Promise<T> {
    this.batchDepth++;
    let result: T;
    try {
      result = await fn();
    } catch (err) {
      this.batchDepth--;
      if (this.batchDepth === 0) {
        this.batchOps = [];
        this.batchResults = [];
      }
      throw err;
    }
    this.batchDepth--;
    if (this.batchDepth === 0) {
      const ops = this.batchOps;
      const results = this.batchResults;
      this.batchOps = [];
      this.batchResults = [];
      await this.writeJobDocs(ops, results);
    }
    return result;
  }

  async jobExists(jobId: string): Promise<boolean> {
    return this.readJobDoc(assertJobId(jobId)) !== undefined;
  }

  /** A job's document; undefined if missing or incomplete (a creation cut by a crash). */
  private readJobDoc(jobId: string): JobDescriptionJSON | undefined {
    const raw = readIfExists(this.jobPath(jobId));
    return raw === undefined ? undefined : parseJobDoc(raw);
  }

  async loadJob(jobId: string): Promise<JobDescription> {
    const raw = readIfExists(this.jobPath(assertJobId(jobId)));
    if (raw === undefined) throw new NoSuchJobError(jobId);
    const { doc, problem } = jobDocProblem(raw, jobId);
    if (doc === undefined) throw new DamagedJobError(jobId, this.jobPath(jobId), problem!);
    return this.descriptionOf(doc);
  }

  /** Rebuild a description; a document that parses but is not a valid description names its file. */
  private descriptionOf(doc: JobDescriptionJSON): JobDescription {
    try {
      return JobDescription.fromJSON(doc);
    } catch (err) {
      throw new DamagedJobError(doc.id, this.jobPath(doc.id), `is not a valid job description (${(err as Error).message})`);
    }
  }

  /** Why a job's stored document cannot be read; undefined if it is missing or readable. */
  private damage(jobId: string): string | undefined {
    const raw = readIfExists(this.jobPath(jobId));
    return raw === undefined ? undefined : jobDocProblem(raw, jobId).problem;
  }

  async updateJob(job: JobDescription): Promise<void> {
    await this.enqueue(job, false);
  }

  async deleteJob(jobId: string): Promise<void> {
    assertJobId(jobId);
    // Files tied to the job first, then the description: a crash in between leaves the description,
    // and deleting it again (clean() on restart) finishes the job.
    fs.rmSync(this.jobFilesDir(jobId), { recursive: true, force: true });
    const file = this.jobPath(jobId);
    try {
      fs.unlinkSync(file);
    } catch (err) {
      if (!isErrno(err, "ENOENT")) throw err;
      return;
    }
    // No fsync here: a deletion carries no data, and the filesystem commits metadata changes in order,
    // so it reaches the disk with the next synced write (see "Durability" in the README).
    appendRecords(this.p(...JOB_INDEX), [{ id: jobId, deleted: true }]);
  }

  /**
   * Ids of every stored job (cheap: no parsing). After a crash this may also name a creation that
   * was cut short, whose document is incomplete: loadJob() raises NoSuchJobError for it and
   * jobDocuments() skips it; clean() at restart deletes it.
   */
  async *jobIds(): AsyncIterable<string> {
    for (const s of SHARDS) {
      let names: string[];
      try {
        names = fs.readdirSync(this.p("jobs", s));
      } catch (err) {
        if (isErrno(err, "ENOENT")) continue;
        throw err;
      }
      for (const n of names) if (n.endsWith(".json") && !isTempName(n)) yield n.slice(0, -5);
    }
  }

  async *jobs(): AsyncIterable<JobDescription> {
    for await (const doc of this.jobDocuments()) yield this.descriptionOf(doc);
  }

  async *jobDocuments(): AsyncIterable<JobDescriptionJSON> {
    for await (const id of this.jobIds()) {
      const doc = this.readJobDoc(id);
      if (doc !== undefined) yield doc;
    }
  }

  /**
   * The state of every job from the job-state index (one file read); a store without an index
   * (created by an older version) is scanned document by document instead.
   */
  async *jobStates(): AsyncIterable<JobStateRecord> {
    const damagedLines: string[] = [];
    const entries = readRecords<IndexEntry>(this.p(...JOB_INDEX), (line) => {
      if (!isTornIndexLine(line)) damagedLines.push(line);
    });
    // No index (an older store), or one damaged by something other than a crash: the documents
    // are the truth, so scan them (clean() at the next restart rewrites the index).
    if (entries === undefined || damagedLines.length > 0) {
      for await (const doc of this.jobDocuments()) yield jobStateRecordOf(doc);
      return;
    }
    const latest = new Map<string, IndexEntry>();
    for (const e of entries) {
      if (typeof e?.id !== "string") continue;
      const prev = latest.get(e.id);
      if (prev !== undefined && ("deleted" in prev || ("version" in e && e.version < prev.version))) continue;
      latest.set(e.id, e);
    }
    for (const e of latest.values()) if (!("deleted" in e)) yield e;
  }

  /**
   * Rewrite the job-state index from the stored documents (or from `docs`, when the caller has them
   * all), replacing it atomically. clean() does this at every restart, which also compacts it.
   * Call it only while no other process writes jobs (the leader, before workers start).
   */
  async rebuildJobIndex(docs?: Iterable<JobDescriptionJSON>): Promise<number> {
    const file = this.p(...JOB_INDEX);
    mkdirp(path.dirname(file));
    const tmp = tempNameFor(file);
    let n = 0;
    const fd = fs.openSync(tmp, "wx", FILE_MODE);
    try {
      let chunk = "";
      const add = (doc: JobDescriptionJSON) => {
        chunk += `${JSON.stringify(jobStateRecordOf(doc))}\n`;
        n++;
        if (chunk.length > 1 << 20) {
          fs.writeSync(fd, chunk);
          chunk = "";
        }
      };
      if (docs) for (const d of docs) add(d);
      else for await (const d of this.jobDocuments()) add(d);
      fs.writeSync(fd, chunk);
    } catch (err) {
      fs.closeSync(fd);
      fs.rmSync(tmp, { force: true });
      throw asNoSpace(err, file);
    }
    fs.closeSync(fd);
    fs.renameSync(tmp, file);
    return n;
  }

  async setRootJob(jobId: string): Promise<void> {
    writeFileAtomicSync(this.p("meta", "root-job"), assertJobId(jobId), { durable: this.durable });
  }

  async rootJobId(): Promise<string | undefined> {
    const file = this.p("meta", "root-job");
    const raw = readIfExists(file);
    if (raw === undefined) return undefined;
    try {
      return assertJobId(raw.toString("utf8").trim());
    } catch (err) {
      throw new DamagedJobStoreFileError(file, `it should hold the root job's id (${(err as Error).message})`);
    }
  }

  async loadRootJob(): Promise<JobDescription> {
    const id = await this.rootJobId();
    if (id === undefined) throw new NoSuchJobError("(root job: none was set)");
    return this.loadJob(id);
  }

  async writeResult(jobId: string, value: string): Promise<void> {
    if (this.batchDepth > 0) {
      this.batchResults.push({ id: assertJobId(jobId), value });
      return;
    }
    this.flushPending();
    writeFileAtomicSync(this.resultPath(assertJobId(jobId)), value, { durable: this.durable });
  }

  async readResult(jobId: string): Promise<string> {
    const raw = readIfExists(this.resultPath(assertJobId(jobId)));
    if (raw === undefined) throw new NoSuchFileError(`result of job ${jobId}`, "the job has not stored a return value");
    return raw.toString("utf8");
  }

  async hasResult(jobId: string): Promise<boolean> {
    return fs.existsSync(this.resultPath(assertJobId(jobId)));
  }

  async deleteResult(jobId: string): Promise<void> {
    fs.rmSync(this.resultPath(assertJobId(jobId)), { force: true });
  }

  async getRootJobReturnValue(): Promise<string> {
    const id = await this.rootJobId();
    if (id === undefined) throw new NoSuchFileError("root job return value", "no root job was set");
    return this.readResult(id);
  }

  async clean(jobCache?: Map<string, JobDescription>): Promise<JobDescription | undefined> {
    const load = async (id: string): Promise<JobDescription | undefined> => {
      const cached = jobCache?.get(id);
      if (cached) return cached;
      try {
        return await this.loadJob(id);
      } catch (err) {
        if (err instanceof NoSuchJobError) return undefined;
        throw err;
      }
    };
    const exists = new Set<string>();
    if (jobCache) for (const id of jobCache.keys()) exists.add(id);
    else for await (const id of this.jobIds()) exists.add(id);

    const rootId = await this.rootJobId();
    const reachable = new Map<string, JobDescription>();
    // A job the workflow reaches was committed: if its document is there but unreadable, stop
    // before anything is deleted (only unreachable documents can be creations cut by a crash).
    const damaged = (id: string): void => {
      const problem = this.damage(id);
      if (problem !== undefined) throw new DamagedJobError(id, this.jobPath(id), problem);
    };
    if (rootId !== undefined) {
      const stack = [rootId];
      while (stack.length > 0) {
        const id = stack.pop()!;
        if (reachable.has(id)) continue;
        if (!exists.has(id)) {
          damaged(id);
          continue;
        }
        const job = await load(id);
        if (!job) {
          damaged(id);
          continue;
        }
        reachable.set(id, job);
        for (const phase of job.successorPhases) for (const s of phase) stack.push(s);
        for (const [host, children] of job.serviceTree) {
          stack.push(host);
          for (const c of children) stack.push(c);
        }
      }
    }
    // Unreachable jobs: replay their deletion journals, then delete them.
    for (const id of exists) {
      if (reachable.has(id)) continue;
      const job = await load(id);
      if (job) for (const f of job.filesToDelete) await this.deleteFileQuietly(f);
      await this.deleteJob(id);
      jobCache?.delete(id);
    }
    // Reachable jobs: finish journals, forget successors that no longer exist.
    for (const job of reachable.values()) {
      let changed = false;
      if (job.filesToDelete.length > 0) {
        for (const f of job.filesToDelete) await this.deleteFileQuietly(f);
        job.filesToDelete = [];
        changed = true;
      }
      const before = JSON.stringify(job.successorPhases) + JSON.stringify([...job.serviceTree]);
      job.clearNonexistentDependents((id) => reachable.has(id));
      if (JSON.stringify(job.successorPhases) + JSON.stringify([...job.serviceTree]) !== before) changed = true;
      if (changed) await this.updateJob(job);
    }
    await this.rebuildJobIndex([...reachable.values()].map((j) => j.toJSON()));
    return rootId === undefined ? undefined : reachable.get(rootId);
  }

  private async deleteFileQuietly(fileId: string): Promise<void> {
    try {
      await this.deleteFile(fileId);
    } catch (err) {
      if (!(err instanceof InvalidIdError)) throw err;
    }
  }

  // ------------------------------------------------------------------ files

  private newFileTarget(options: WriteFileOptions, basename: string, executable: boolean, link = false) {
    if (options.cleanup && options.jobId === undefined) {
      throw new InvalidIdError("file option", "cleanup", "cleanup=true needs the jobId the file belongs to");
    }
    const draft = mintFileId({
      size: 0,
      executable,
      link,
      ...(options.cleanup ? { jobId: options.jobId! } : {}),
      basename,
      ...(options.hints ? { hints: options.hints } : {}),
    });
    const { parsed, dir, file } = this.locate(draft);
    return { parsed, dir, file };
  }

  private makeFileDir(dir: string): void {
    mkdirp(dir);
    if (this.checkedDir(dir, dir) === undefined) throw new JobStoreError(`could not create ${dir}`);
  }

  async writeFile(localPath: string, options: WriteFileOptions = {}): Promise<FileID> {
    const st = await fs.promises.stat(localPath);
    if (!st.isFile()) throw new InvalidIdError("local path", localPath, "not a regular file");
    const executable = options.executable ?? (st.mode & 0o100) !== 0;
    const t = this.newFileTarget(options, options.basename ?? path.basename(localPath), executable);
    this.makeFileDir(t.dir);
    const tmp = tempNameFor(t.file);
    try {
      failIfDiskFullInjected(t.file);
      await fs.promises.copyFile(localPath, tmp);
      await fs.promises.chmod(tmp, executable ? EXEC_FILE_MODE : FILE_MODE);
      fs.renameSync(tmp, t.file);
    } catch (err) {
      fs.rmSync(t.dir, { recursive: true, force: true });
      throw asNoSpace(err, t.file);
    }
    this.notePending(t.file);
    const size = fs.statSync(t.file).size;
    return withSize(t.parsed, size);
  }

  /** Stream `write`'s output into `target` through a temp file; returns the byte count. */
  private async streamToFile(target: string, write: (stream: Writable) => void | Promise<void>, mode: number): Promise<number> {
    const tmp = tempNameFor(target);
    const out = fs.createWriteStream(tmp, { flags: "wx", mode });
    // A write error (a full disk) fails the write at once, even while the caller's callback still
    // waits for a 'drain' that a failed stream never emits. The listener stays, so a later error
    // of the destroyed stream is never unhandled.
    const failed = new Promise<never>((_, reject) => out.on("error", reject));
    failed.catch(() => undefined);
    try {
      await Promise.race([new Promise<void>((resolve) => out.once("open", () => resolve())), failed]);
      await Promise.race([Promise.resolve().then(() => write(out)), failed]);
      failIfDiskFullInjected(target);
      if (!out.writableEnded) out.end();
      await Promise.race([finished(out), failed]);
      fs.renameSync(tmp, target);
      return out.bytesWritten;
    } catch (err) {
      out.destroy();
      fs.rmSync(tmp, { force: true });
      throw asNoSpace(err, target);
    }
  }

  async writeFileStream(write: (stream: Writable) => void | Promise<void>, options: WriteFileOptions = {}): Promise<FileID> {
    const executable = options.executable ?? false;
    const t = this.newFileTarget(options, options.basename ?? "stream", executable);
    this.makeFileDir(t.dir);
    let size: number;
    try {
      size = await this.streamToFile(t.file, write, executable ? EXEC_FILE_MODE : FILE_MODE);
    } catch (err) {
      fs.rmSync(t.dir, { recursive: true, force: true });
      throw err;
    }
    this.notePending(t.file);
    return withSize(t.parsed, size);
  }

  async getEmptyFileStoreId(options: WriteFileOptions = {}): Promise<FileID> {
    return this.writeFileStream(() => {}, { basename: "empty", ...options });
  }

  async readFile(fileId: string, localPath: string, options: ReadFileOptions = {}): Promise<void> {
    const src = this.requireReadable(fileId);
    const real = src.link ? fs.realpathSync(src.path) : src.path;
    const symlinkOk = options.symlink === true && (this.options.symlinkReads ?? this.configValue?.symlinkJobStoreReads ?? true);
    await fs.promises.rm(localPath, { force: true });
    if (symlinkOk) {
      await fs.promises.symlink(real, localPath);
      return;
    }
    if (options.mutable === false) {
      try {
        await fs.promises.link(real, localPath);
        return;
      } catch (err) {
        if (!isErrno(err, "EXDEV", "EPERM", "EMLINK")) throw err;
      }
    }
    await fs.promises.copyFile(real, localPath);
    await fs.promises.chmod(localPath, src.parsed.executable ? EXEC_FILE_MODE : FILE_MODE);
  }

  async readFileStream(fileId: string): Promise<Readable> {
    const src = this.requireReadable(fileId);
    const fd = await fs.promises.open(src.path, src.link ? "r" : fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    return fd.createReadStream();
  }

  /** Stored path of a file (for the file stores' link/copy decisions). Throws NoSuchFileError. */
  storedPath(fileId: string): string {
    const src = this.requireReadable(fileId);
    return src.link ? fs.realpathSync(src.path) : src.path;
  }

  async updateFile(fileId: string, localPath: string): Promise<FileID> {
    const { parsed, dir, file } = this.locate(fileId);
    if (this.checkedDir(dir, fileId) === undefined) throw new NoSuchFileError(fileId);
    const tmp = tempNameFor(file);
    try {
      failIfDiskFullInjected(file);
      await fs.promises.copyFile(localPath, tmp);
      await fs.promises.chmod(tmp, parsed.executable ? EXEC_FILE_MODE : FILE_MODE);
      fs.renameSync(tmp, file);
    } catch (err) {
      fs.rmSync(tmp, { force: true });
      throw asNoSpace(err, file);
    }
    fs.rmSync(path.join(dir, LINK_MARKER), { force: true });
    this.notePending(file);
    return withSize({ ...parsed, link: false }, fs.statSync(file).size);
  }

  async updateFileStream(fileId: string, write: (stream: Writable) => void | Promise<void>): Promise<FileID> {
    const { parsed, dir, file } = this.locate(fileId);
    if (this.checkedDir(dir, fileId) === undefined) throw new NoSuchFileError(fileId);
    const size = await this.streamToFile(file, write, parsed.executable ? EXEC_FILE_MODE : FILE_MODE);
    fs.rmSync(path.join(dir, LINK_MARKER), { force: true });
    this.notePending(file);
    return withSize({ ...parsed, link: false }, size);
  }

  async deleteFile(fileId: string): Promise<void> {
    const { dir } = this.locate(fileId);
    if (this.checkedDir(dir, fileId) === undefined) return;
    fs.rmSync(dir, { recursive: true, force: true });
  }

  async fileExists(fileId: string): Promise<boolean> {
    return this.readablePath(fileId) !== undefined;
  }

  watchFile(fileId: string, listener: () => void): () => void {
    // Each file has a directory of its own (deleteFile removes it): watch that directory.
    const { dir } = this.locate(fileId);
    let watcher: fs.FSWatcher;
    try {
      watcher = fs.watch(dir, { persistent: false }, () => listener());
    } catch (err) {
      // Already deleted: say so at once. Cannot watch (no inotify instances left): the caller polls.
      if (isErrno(err, "ENOENT", "ENOTDIR")) queueMicrotask(listener);
      return () => {};
    }
    // The watch ends by itself when the directory goes; errors only mean no more events.
    watcher.on("error", () => watcher.close());
    return () => watcher.close();
  }

  async getFileSize(fileId: string): Promise<number> {
    const src = this.readablePath(fileId);
    if (!src) return 0;
    try {
      return fs.statSync(src.path).size;
    } catch {
      return 0;
    }
  }

  async getPublicUrl(fileId: string): Promise<string> {
    return pathToFileURL(this.requireReadable(fileId).path).href;
  }

  // ------------------------------------------------------------------ shared files

  async writeSharedFile(name: string, data: string | Uint8Array): Promise<void> {
    writeFileAtomicSync(this.sharedPath(name), data, { durable: this.durable });
  }

  async writeSharedFileStream(name: string, write: (stream: Writable) => void | Promise<void>): Promise<void> {
    const target = this.sharedPath(name);
    await this.streamToFile(target, write, FILE_MODE);
    if (this.durable) syncPaths([target], [path.dirname(target)]);
  }

  async readSharedFile(name: string): Promise<Buffer> {
    const raw = readIfExists(this.sharedPath(name));
    if (raw === undefined) throw new NoSuchFileError(`shared file ${name}`);
    return raw;
  }

  async readSharedFileStream(name: string): Promise<Readable> {
    try {
      const fd = await fs.promises.open(this.sharedPath(name), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
      return fd.createReadStream();
    } catch (err) {
      if (isErrno(err, "ENOENT")) throw new NoSuchFileError(`shared file ${name}`);
      if (isErrno(err, "ELOOP")) throw new InvalidIdError("shared file name", name, "the stored entry is a symlink");
      throw err;
    }
  }

  async sharedFileExists(name: string): Promise<boolean> {
    return fs.existsSync(this.sharedPath(name));
  }

  async getSharedPublicUrl(name: string): Promise<string> {
    const p = this.sharedPath(name);
    if (!fs.existsSync(p)) throw new NoSuchFileError(`shared file ${name}`);
    return pathToFileURL(p).href;
  }

  // ------------------------------------------------------------------ logs mailbox

  async writeLogs(message: string | Uint8Array): Promise<void> {
    const name = `${Date.now().toString().padStart(15, "0")}-${process.pid}-${(this.logCounter++).toString().padStart(8, "0")}-${randomBytes(4).toString("hex")}`;
    writeFileAtomicSync(this.p("logs", "inbox", name), message, { durable: this.durable });
    const data = typeof message === "string" ? Buffer.from(message, "utf8") : Buffer.from(message);
    const text = data.toString("utf8");
    const record = Buffer.from(text, "utf8").equals(data) ? { t: Date.now(), m: text } : { t: Date.now(), b: data.toString("base64") };
    appendRecords(this.p(...LOG_JOURNAL), [record]);
  }

  async peekLogs(callback: (message: MailboxMessage) => void): Promise<number> {
    const records = readRecords<{ t: number; m?: string; b?: string }>(this.p(...LOG_JOURNAL));
    let count = 0;
    if (records !== undefined) {
      for (const r of records) {
        if (typeof r?.t !== "number") continue;
        const data = typeof r.m === "string" ? Buffer.from(r.m, "utf8") : typeof r.b === "string" ? Buffer.from(r.b, "base64") : undefined;
        if (data === undefined) continue;
        callback({ data, writtenAt: r.t });
        count++;
      }
      return count;
    }
    // A store without a journal (older version): read both mailbox directories in place.
    const names: [string, string][] = [];
    for (const box of ["archive", "inbox"]) {
      try {
        for (const n of fs.readdirSync(this.p("logs", box))) if (!isTempName(n)) names.push([n, box]);
      } catch (err) {
        if (!isErrno(err, "ENOENT")) throw err;
      }
    }
    names.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    for (const [n, box] of names) {
      const raw = readIfExists(this.p("logs", box, n)) ?? (box === "inbox" ? readIfExists(this.p("logs", "archive", n)) : undefined);
      if (raw === undefined) continue;
      callback({ data: raw, writtenAt: Number(n.slice(0, n.indexOf("-"))) || 0 });
      count++;
    }
    return count;
  }

  async readLogs(callback: (message: Buffer) => void, readAll = false): Promise<number> {
    let count = 0;
    if (readAll) {
      for (const n of fs.readdirSync(this.p("logs", "archive")).filter((n) => !isTempName(n)).sort()) {
        const raw = readIfExists(this.p("logs", "archive", n));
        if (raw !== undefined) {
          callback(raw);
          count++;
        }
      }
    }
    for (const n of fs.readdirSync(this.p("logs", "inbox")).filter((n) => !isTempName(n)).sort()) {
      const archived = this.p("logs", "archive", n);
      try {
        // Claim by moving to the archive: a message is handed out once even with two readers.
        fs.renameSync(this.p("logs", "inbox", n), archived);
      } catch (err) {
        if (isErrno(err, "ENOENT")) continue;
        throw err;
      }
      const raw = readIfExists(archived);
      if (raw !== undefined) {
        callback(raw);
        count++;
      }
    }
    return count;
  }

  // ------------------------------------------------------------------ leader bookkeeping

  async acquireLeaderLock(): Promise<LeaderLock> {
    return acquireLeaderLockFile(this.p("meta", "leader.lock"), this.locator);
  }

  async readLeaderLock(): Promise<LeaderLockInfo | undefined> {
    return readLeaderLockFile(this.p("meta", "leader.lock"));
  }

  async writeLeaderPid(): Promise<void> {
    writeFileAtomicSync(this.p("meta", "leader.pid"), JSON.stringify({ pid: process.pid, host: os.hostname() }), {
      durable: false,
    });
  }

  async readLeaderPid(): Promise<
    | {
        /** Process id of the leader. */
        pid: number;
        /** Host name of the leader. */
        host: string;
      }
    | undefined
  > {
    const raw = readIfExists(this.p("meta", "leader.pid"));
    if (raw === undefined) return undefined;
    const doc = JSON.parse(raw.toString("utf8")) as { pid: number; host: string };
    return { pid: doc.pid, host: doc.host };
  }

  async writeKillFlag(kill = true): Promise<void> {
    writeFileAtomicSync(this.p("meta", "kill-flag"), kill ? "YES" : "NO", { durable: this.durable });
  }

  async readKillFlag(): Promise<boolean> {
    return readIfExists(this.p("meta", "kill-flag"))?.toString("utf8") === "YES";
  }

  getEnv(): Record<string, string> {
    return {};
  }

  defaultCaching(): boolean {
    return false;
  }

  // ------------------------------------------------------------------ import / export

  async importFile(srcUrl: string, options: ImportOptions = {}): Promise<FileID | undefined> {
    const url = normalizeUrl(srcUrl);
    const shared = options.sharedFileName === undefined ? undefined : assertSharedFileName(options.sharedFileName);
    const writeOpts: WriteFileOptions = {
      ...(options.jobId === undefined ? {} : { jobId: options.jobId }),
      ...(options.cleanup === undefined ? {} : { cleanup: options.cleanup }),
    };
    if (url.protocol === "file:") {
      const src = filePathOf(url);
      let st: fs.Stats;
      try {
        st = fs.statSync(src);
      } catch {
        throw new InvalidImportExportUrlError(srcUrl, `no such file ${src}`);
      }
      if (!st.isFile()) throw new InvalidImportExportUrlError(srcUrl, `${src} is not a regular file`);
      if (shared !== undefined) {
        await this.writeSharedFile(shared, fs.readFileSync(src));
        return undefined;
      }
      const executable = (st.mode & 0o100) !== 0;
      const linkImports = this.options.symlinkImports ?? this.configValue?.symlinkImports ?? true;
      if (options.symlink === true && linkImports) {
        const t = this.newFileTarget(writeOpts, path.basename(src), executable, true);
        this.makeFileDir(t.dir);
        fs.symlinkSync(fs.realpathSync(src), t.file);
        this.notePending(t.file);
        return withSize(t.parsed, st.size);
      }
      if (options.hardlink === true) {
        const t = this.newFileTarget(writeOpts, path.basename(src), executable);
        this.makeFileDir(t.dir);
        try {
          fs.linkSync(fs.realpathSync(src), t.file);
          return withSize(t.parsed, st.size);
        } catch (err) {
          fs.rmSync(t.dir, { recursive: true, force: true });
          if (!isErrno(err, "EXDEV", "EPERM", "EMLINK")) throw err;
        }
      }
      return this.writeFile(src, { ...writeOpts, basename: path.basename(src), executable });
    }
    const access = urlAccessFor(url, "import");
    const source = await access.open!(url);
    const basename = decodeURIComponent(path.posix.basename(url.pathname)) || "download";
    let written = 0;
    const counter = new PassThrough();
    counter.on("data", (chunk: Buffer) => (written += chunk.length));
    const write = async (out: Writable) => {
      await pipeline(source.stream, counter, out);
    };
    const check = () => {
      if (source.size !== undefined && written !== source.size) {
        throw new InvalidImportExportUrlError(srcUrl, `transfer incomplete: got ${written} of ${source.size} bytes`);
      }
    };
    if (shared !== undefined) {
      const target = this.sharedPath(shared);
      await this.streamToFile(target, async (out) => {
        await write(out);
        check();
      }, FILE_MODE);
      return undefined;
    }
    return this.writeFileStream(
      async (out) => {
        await write(out);
        check();
      },
      { ...writeOpts, basename, executable: source.executable ?? false },
    );
  }

  async exportFile(fileId: string, dstUrl: string): Promise<void> {
    const url = normalizeUrl(dstUrl);
    const src = this.requireReadable(fileId);
    const executable = src.parsed.executable;
    if (url.protocol === "file:") {
      const dst = filePathOf(url);
      await fs.promises.mkdir(path.dirname(dst), { recursive: true });
      const moveExports = this.options.moveExports ?? this.configValue?.moveOutputs ?? false;
      const mode = executable ? 0o755 : 0o644;
      if (moveExports && !src.link) {
        // Move the data out and leave a store-made symlink behind, so the id stays readable.
        const tmp = `${dst}.toil-export-${process.pid}`;
        try {
          fs.renameSync(src.path, tmp);
        } catch (err) {
          if (!isErrno(err, "EXDEV")) throw err;
          await fs.promises.copyFile(src.path, tmp);
          fs.rmSync(src.path);
        }
        fs.chmodSync(tmp, mode);
        fs.renameSync(tmp, dst);
        fs.writeFileSync(path.join(path.dirname(src.path), LINK_MARKER), "", { mode: FILE_MODE });
        fs.symlinkSync(dst, src.path);
        return;
      }
      const real = src.link ? fs.realpathSync(src.path) : src.path;
      const tmp = `${dst}.toil-export-${process.pid}`;
      try {
        await fs.promises.copyFile(real, tmp);
        await fs.promises.chmod(tmp, mode);
        await fs.promises.rename(tmp, dst);
      } catch (err) {
        await fs.promises.rm(tmp, { force: true });
        throw err;
      }
      return;
    }
    const access = urlAccessFor(url, "export");
    await access.write!(url, fs.createReadStream(src.path), { executable });
  }
}

registerJobStoreKind("file", (loc: ParsedLocator) => new FileJobStore(loc.rest));
