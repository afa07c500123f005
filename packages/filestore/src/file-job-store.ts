/**
 * FileJobStore: the embedded job store, a directory on disk. See the package README for the layout
 * (versioned by `format.json`), what is fsynced and why, and the atomicity argument.
 *
 * This class is the store's lifecycle (create, open, destroy) and its public face; each kind of
 * content is kept by its own part under `file-job-store/`: job records and the job-state index,
 * user files, shared files, the logs mailbox, the leader's files, URL import/export.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import type { Readable, Writable } from "node:stream";
import { type Config, type FileID, type JobDescription, type JobDescriptionJSON, type StoredJobDescriptionJSON, configToJSON, readStoredConfig } from "@toil/job/core";
import {
  DamagedJobStoreFileError,
  JobStoreCreateError,
  JobStoreError,
  JobStoreExistsError,
  JobStoreVersionError,
  NoSuchFileError,
  NoSuchJobError,
  NoSuchJobStoreError,
} from "./errors.js";
import { DIR_MODE, FILE_MODE, fsyncDir, isErrno, isTempName, mkdirp, readIfExists, syncPaths, writeFileAtomicSync } from "./internal/fsx.js";
import type {
  BatchOptions,
  ImportOptions,
  JobStateRecord,
  JobStore,
  LeaderLock,
  LeaderLockInfo,
  MailboxMessage,
  ReadFileOptions,
  WriteFileOptions,
} from "./job-store.js";
import { registerJobStoreKind, type ParsedLocator } from "./locator.js";
import { JobRecords } from "./file-job-store/job-records.js";
import { foldLogs, type FoldOptions, type FoldReport } from "./file-job-store/fold.js";
import { FILE_JOB_STORE_VERSION, FORMAT_NAME, GENERATION_FILE, JOB_INDEX, KNOWN_ENTRIES, LOG_DIR, LOG_JOURNAL, StoreLayout } from "./file-job-store/layout.js";
import { LogMailbox } from "./file-job-store/log-mailbox.js";
import { LeaderFiles, type LeaderPid } from "./file-job-store/leader-files.js";
import { Mailbox } from "./file-job-store/mailbox.js";
import { PendingFileSync } from "./file-job-store/pending-sync.js";
import { cleanJobRecords } from "./file-job-store/restart-clean.js";
import { SharedFiles } from "./file-job-store/shared-files.js";
import { StoredFiles } from "./file-job-store/stored-files.js";
import { UrlTransfer } from "./file-job-store/url-transfer.js";

export { FILE_JOB_STORE_VERSION } from "./file-job-store/layout.js";
export { jobStateRecordOf } from "./file-job-store/job-index.js";

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
  /** A commit larger than this is cut into several log records (default 4 MiB; tests make it small). */
  logRecordBytes?: number;
}

/** The embedded job store: a directory tree of JSON documents and files. */
export class FileJobStore implements JobStore {
  readonly locator: string;
  /** Absolute path of the store directory (as given: a symlinked path is not resolved). */
  readonly root: string;
  private configValue: Config | undefined;
  private readonly durable: boolean;
  private readonly layout: StoreLayout;
  private readonly records: JobRecords;
  private readonly files: StoredFiles;
  private readonly shared: SharedFiles;
  private readonly mailbox: Mailbox;
  private readonly logMailbox: LogMailbox;
  private formatVersion = FILE_JOB_STORE_VERSION;
  private readonly leader: LeaderFiles;
  private readonly transfer: UrlTransfer;

  constructor(location: string, options: FileJobStoreOptions = {}) {
    this.layout = new StoreLayout(location);
    this.root = this.layout.root;
    this.locator = this.layout.locator;
    this.durable = options.durable ?? true;
    const config = () => this.configValue;
    const pending = new PendingFileSync(this.durable);
    this.records = new JobRecords(this.layout, this.durable, pending, `${os.hostname()}:${process.pid}`, options.logRecordBytes);
    this.files = new StoredFiles(this.layout, pending, { ...(options.symlinkReads === undefined ? {} : { symlinkReads: options.symlinkReads }) }, config);
    this.shared = new SharedFiles(this.layout, this.durable);
    this.mailbox = new Mailbox(this.layout, this.durable);
    this.logMailbox = new LogMailbox(this.layout, this.records, this.mailbox);
    this.leader = new LeaderFiles(this.layout, this.durable);
    this.transfer = new UrlTransfer(this.layout, this.files, this.shared, options, config);
  }

  // ------------------------------------------------------------------ lifecycle

  get config(): Config {
    if (!this.configValue) {
      throw new JobStoreError(`The job store ${this.locator} is not open: call initialize(config) or resume() first.`);
    }
    return this.configValue;
  }

  async initialize(config: Config): Promise<void> {
    const p = (...parts: string[]) => this.layout.p(...parts);
    if (this.layout.readFormat() !== undefined) throw new JobStoreExistsError(this.locator);
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
      fs.mkdirSync(p("meta"), { mode: DIR_MODE });
    } catch (err) {
      if (isErrno(err, "EEXIST")) throw new JobStoreExistsError(`${this.locator} (another leader is creating a job store there)`);
      throw err;
    }
    fs.chmodSync(this.root, DIR_MODE);
    for (const top of ["meta", "shared", "logs/inbox", "logs/archive", "files", "job-files", "index", "jobs", "results", LOG_DIR]) mkdirp(p(top));
    // Present from the start, so they are complete: stores without them fall back to scanning.
    fs.writeFileSync(p(...JOB_INDEX), "", { mode: FILE_MODE });
    fs.writeFileSync(p(...LOG_JOURNAL), "", { mode: FILE_MODE });
    this.layout.forgetResolvedRoot();
    this.configValue = config;
    this.formatVersion = FILE_JOB_STORE_VERSION;
    this.records.setGeneration(0);
    this.records.setFormatOneFiles(false);
    writeFileAtomicSync(p("meta", "config.json"), configToJSON(config), { durable: this.durable });
    // The format file is written last: its presence is what makes this directory a job store.
    if (this.durable) syncPaths([], [p("meta"), p(LOG_DIR), this.root]);
    writeFileAtomicSync(
      p("format.json"),
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
    const format = this.layout.readFormat();
    if (format === undefined) throw new NoSuchJobStoreError(this.locator, "no format.json: not a job store, or one whose creation was interrupted");
    if (typeof format.version !== "number" || format.version > FILE_JOB_STORE_VERSION || format.version < 1) {
      throw new JobStoreVersionError(this.locator, format.version, FILE_JOB_STORE_VERSION);
    }
    this.layout.checkOwnDirectories();
    const configFile = this.layout.p("meta", "config.json");
    const raw = readIfExists(configFile);
    if (raw === undefined) throw new NoSuchJobStoreError(this.locator, "its configuration (meta/config.json) is missing");
    this.configValue = await readStoredConfig(raw.toString("utf8"), configFile);
    this.formatVersion = format.version;
    this.records.setGeneration(this.readGeneration());
    this.records.setFormatOneFiles(format.version < 2 || format.upgraded === true);
  }

  /** The store's generation: how many leader runs took it (0 before the first). */
  private readGeneration(): number {
    const file = this.layout.p(...GENERATION_FILE);
    const raw = readIfExists(file);
    if (raw === undefined) return 0;
    const n = Number(raw.toString("latin1").trim());
    if (!Number.isSafeInteger(n) || n < 0) throw new DamagedJobStoreFileError(file, "it should hold a whole number (the store's generation)");
    return n;
  }

  /**
   * Start a new generation (a leader run): the logs of the earlier ones are complete from now on,
   * so they can be folded. A format-1 store becomes format 2 first (its files are all it holds).
   */
  private async startGeneration(): Promise<number> {
    if (this.formatVersion < FILE_JOB_STORE_VERSION) {
      mkdirp(this.layout.p(LOG_DIR));
      const doc = JSON.parse(readIfExists(this.layout.p("format.json"))!.toString("utf8")) as Record<string, unknown>;
      writeFileAtomicSync(this.layout.p("format.json"), JSON.stringify({ ...doc, version: FILE_JOB_STORE_VERSION, upgraded: new Date().toISOString() }), {
        durable: this.durable,
      });
      this.formatVersion = FILE_JOB_STORE_VERSION;
    }
    await this.records.sync();
    const next = this.readGeneration() + 1;
    writeFileAtomicSync(this.layout.p(...GENERATION_FILE), String(next), { durable: this.durable });
    this.records.setGeneration(next);
    return next;
  }

  /** The generation this instance reads and writes in. */
  get generation(): number {
    return this.records.currentView.generation;
  }

  /**
   * Fold the commit logs of every earlier generation into the store's files and delete them (see
   * the README). A restarted leader calls it as its run ends (the earlier runs' workers are stopped).
   */
  async fold(options: Partial<FoldOptions> = {}): Promise<FoldReport> {
    return foldLogs(this.layout, this.generation, { durable: this.durable, ...options });
  }

  /**
   * Make the log entry that holds `jobId`'s newest state durable, whoever wrote it. The leader
   * calls it before it trusts a commit whose worker died without reporting (the worker may have
   * appended its commit and been killed before its sync).
   */
  async syncCommitOf(jobId: string): Promise<void> {
    await this.records.syncLogHolding(jobId);
  }

  /**
   * Sync, seal this instance's commit log (readers stop polling it) and close its files. The store
   * can be used again afterwards (a new log is started).
   */
  async close(): Promise<void> {
    await this.records.close();
  }

  /** Make every change this instance made durable (what a worker does before it reports). */
  async sync(): Promise<void> {
    await this.records.sync();
  }

  async writeConfig(config: Config): Promise<void> {
    writeFileAtomicSync(this.layout.p("meta", "config.json"), configToJSON(config), { durable: this.durable });
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
    fs.rmSync(this.layout.p("format.json"), { force: true });
    fs.rmSync(this.root, { recursive: true, force: true, maxRetries: 3 });
    this.configValue = undefined;
  }

  // ------------------------------------------------------------------ jobs

  assignJobId(job: JobDescription): void {
    this.records.assignJobId(job);
  }

  async createJob(job: JobDescription): Promise<JobDescription> {
    return this.records.createJob(job);
  }

  async createJobs(jobs: Iterable<JobDescription>): Promise<void> {
    return this.records.createJobs(jobs);
  }

  async batch<T>(fn: () => Promise<T>, options: BatchOptions = {}): Promise<T> {
    return this.records.batch(fn, options);
  }

  async jobExists(jobId: string): Promise<boolean> {
    return this.records.jobExists(jobId);
  }

  async loadJob(jobId: string): Promise<JobDescription> {
    return this.records.loadJob(jobId);
  }

  async updateJob(job: JobDescription): Promise<void> {
    return this.records.updateJob(job);
  }

  async deleteJob(jobId: string): Promise<void> {
    return this.records.deleteJob(jobId);
  }

  /**
   * Ids of every stored job (cheap: no parsing). After a crash this may also name a creation that
   * was cut short, whose document is incomplete: loadJob() raises NoSuchJobError for it and
   * jobDocuments() skips it; clean() at restart deletes it.
   */
  jobIds(): AsyncIterable<string> {
    return this.records.jobIds();
  }

  jobs(): AsyncIterable<JobDescription> {
    return this.records.jobs();
  }

  jobDocuments(): AsyncIterable<JobDescriptionJSON> {
    return this.records.jobDocuments();
  }

  /**
   * The state of every job from the job-state index (one file read); a store without an index
   * (created by an older version) is scanned document by document instead.
   */
  jobStates(): AsyncIterable<JobStateRecord> {
    return this.records.jobStates();
  }

  /**
   * Rewrite the job-state index from the stored documents (or from `docs`, when the caller has them
   * all), replacing it atomically. clean() does this at every restart, which also compacts it.
   * Call it only while no other process writes jobs (the leader, before workers start).
   */
  async rebuildJobIndex(docs?: Iterable<StoredJobDescriptionJSON>): Promise<number> {
    return this.records.rebuildJobIndex(docs);
  }

  async setRootJob(jobId: string): Promise<void> {
    return this.records.setRootJob(jobId);
  }

  async rootJobId(): Promise<string | undefined> {
    return this.records.rootJobId();
  }

  async loadRootJob(): Promise<JobDescription> {
    const id = await this.rootJobId();
    if (id === undefined) throw new NoSuchJobError("(root job: none was set)");
    return this.loadJob(id);
  }

  async writeResult(jobId: string, value: string): Promise<void> {
    return this.records.writeResult(jobId, value);
  }

  async readResult(jobId: string): Promise<string> {
    return this.records.readResult(jobId);
  }

  async hasResult(jobId: string): Promise<boolean> {
    return this.records.hasResult(jobId);
  }

  resultReader(): (jobId: string) => string | undefined {
    return this.records.resultReader();
  }

  async deleteResult(jobId: string): Promise<void> {
    return this.records.deleteResult(jobId);
  }

  async getRootJobReturnValue(): Promise<string> {
    const id = await this.rootJobId();
    if (id === undefined) throw new NoSuchFileError("root job return value", "no root job was set");
    return this.readResult(id);
  }

  async clean(jobCache?: Map<string, JobDescription>): Promise<JobDescription | undefined> {
    return cleanJobRecords(this.records, (id) => this.deleteFile(id), jobCache);
  }

  // ------------------------------------------------------------------ files

  async writeFile(localPath: string, options: WriteFileOptions = {}): Promise<FileID> {
    return this.files.writeFile(localPath, options);
  }

  async writeFileStream(write: (stream: Writable) => void | Promise<void>, options: WriteFileOptions = {}): Promise<FileID> {
    return this.files.writeFileStream(write, options);
  }

  async getEmptyFileStoreId(options: WriteFileOptions = {}): Promise<FileID> {
    return this.writeFileStream(() => {}, { basename: "empty", ...options });
  }

  async readFile(fileId: string, localPath: string, options: ReadFileOptions = {}): Promise<void> {
    return this.files.readFile(fileId, localPath, options);
  }

  async readFileStream(fileId: string): Promise<Readable> {
    return this.files.readFileStream(fileId);
  }

  /** Stored path of a file (for the file stores' link/copy decisions). Throws NoSuchFileError. */
  storedPath(fileId: string): string {
    return this.files.storedPath(fileId);
  }

  async updateFile(fileId: string, localPath: string): Promise<FileID> {
    return this.files.updateFile(fileId, localPath);
  }

  async updateFileStream(fileId: string, write: (stream: Writable) => void | Promise<void>): Promise<FileID> {
    return this.files.updateFileStream(fileId, write);
  }

  async deleteFile(fileId: string): Promise<void> {
    return this.files.deleteFile(fileId);
  }

  async fileExists(fileId: string): Promise<boolean> {
    return this.files.fileExists(fileId);
  }

  watchFile(fileId: string, listener: () => void): () => void {
    return this.files.watchFile(fileId, listener);
  }

  async getFileSize(fileId: string): Promise<number> {
    return this.files.getFileSize(fileId);
  }

  async getPublicUrl(fileId: string): Promise<string> {
    return this.files.getPublicUrl(fileId);
  }

  // ------------------------------------------------------------------ shared files

  async writeSharedFile(name: string, data: string | Uint8Array): Promise<void> {
    return this.shared.writeSharedFile(name, data);
  }

  async writeSharedFileStream(name: string, write: (stream: Writable) => void | Promise<void>): Promise<void> {
    return this.shared.writeSharedFileStream(name, write);
  }

  async readSharedFile(name: string): Promise<Buffer> {
    return this.shared.readSharedFile(name);
  }

  async readSharedFileStream(name: string): Promise<Readable> {
    return this.shared.readSharedFileStream(name);
  }

  async sharedFileExists(name: string): Promise<boolean> {
    return this.shared.sharedFileExists(name);
  }

  async getSharedPublicUrl(name: string): Promise<string> {
    return this.shared.getSharedPublicUrl(name);
  }

  // ------------------------------------------------------------------ logs mailbox

  async writeLogs(message: string | Uint8Array): Promise<void> {
    return this.logMailbox.writeLogs(message);
  }

  async peekLogs(callback: (message: MailboxMessage) => void): Promise<number> {
    return this.logMailbox.peekLogs(callback);
  }

  async readLogs(callback: (message: Buffer) => void, readAll = false): Promise<number> {
    return this.logMailbox.readLogs(callback, readAll);
  }

  // ------------------------------------------------------------------ leader bookkeeping

  async acquireLeaderLock(): Promise<LeaderLock> {
    const lock = await this.leader.acquireLeaderLock();
    if (this.configValue !== undefined) await this.startGeneration();
    return lock;
  }

  async readLeaderLock(): Promise<LeaderLockInfo | undefined> {
    return this.leader.readLeaderLock();
  }

  async writeLeaderPid(): Promise<void> {
    return this.leader.writeLeaderPid();
  }

  async readLeaderPid(): Promise<LeaderPid | undefined> {
    return this.leader.readLeaderPid();
  }

  async writeKillFlag(kill = true): Promise<void> {
    return this.leader.writeKillFlag(kill);
  }

  async readKillFlag(): Promise<boolean> {
    return this.leader.readKillFlag();
  }

  getEnv(): Record<string, string> {
    return {};
  }

  defaultCaching(): boolean {
    return false;
  }

  // ------------------------------------------------------------------ import / export

  async importFile(srcUrl: string, options: ImportOptions = {}): Promise<FileID | undefined> {
    return this.transfer.importFile(srcUrl, options);
  }

  async exportFile(fileId: string, dstUrl: string): Promise<void> {
    return this.transfer.exportFile(fileId, dstUrl);
  }
}

registerJobStoreKind("file", (loc: ParsedLocator) => new FileJobStore(loc.rest));
