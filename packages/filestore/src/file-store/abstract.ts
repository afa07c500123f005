/**
 * The per-job file store (the seed's AbstractFileStore): what a job's `run(fileStore)` receives,
 * plus the worker-side lifecycle (`open`, `startCommit`, `waitForCommit`, disk-use report).
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Readable, Writable } from "node:stream";
import type {
  DeferredFunctionRef,
  FileID,
  FileStore,
  ImportFileOptions,
  JobDescription,
  LogLevel,
  ReadGlobalFileOptions,
  ReadGlobalFileStreamOptions,
  WriteGlobalFileOptions,
} from "@toil/job/core";
import { asFileID } from "@toil/job/core";
import type { DeferredFunctionManager } from "../deferred.js";
import { FileStoreStateError, InvalidIdError, NoSuchFileError } from "../errors.js";
import { parseFileId, type ParsedFileId } from "../ids.js";
import { DIR_MODE, isWithin } from "../internal/fsx.js";
import type { JobStore } from "../job-store.js";

/** A message for the leader's log, as the worker ships it in its report. */
export interface LeaderLogLine {
  /** The message. */
  text: string;
  /** Its log level. */
  level: LogLevel;
  /** Id of the job that sent it. */
  jobId: string;
  /** Display name of the job that sent it. */
  jobName: string;
}

/** A message for the leader's log, collected during the job. */
export interface LeaderLogMessage extends LeaderLogLine {
  /** When it was logged (ms since the epoch). */
  time: number;
}

/**
 * The job attempt's private directory: a path, or a function returning one (called at most once,
 * when the job first needs local space). Either way the directory is created on first use only.
 */
export type LocalTempDir = string | (() => string);

/** Options of the file store constructors (set by the worker). */
export interface FileStoreOptions {
  /** Resolves when the previous (chained) job's commit is done; commits wait for it. */
  waitForPreviousCommit?: () => Promise<void>;
  /** Receives deferred functions registered by the job. */
  deferredFunctionManager?: DeferredFunctionManager;
  /** Called for each `logToLeader` message (they are also kept in `logMessages`). */
  onLog?: (message: LeaderLogMessage) => void;
}

function enoent(message: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(message);
  err.code = "ENOENT";
  err.errno = -2;
  return err;
}

/** Shared behaviour of both file stores; subclasses decide how reads (and the cache) work. */
export abstract class AbstractFileStore implements FileStore {
  readonly jobId: string;
  /** Messages sent with logToLeader, for the worker to ship in its stats/log report. */
  readonly logMessages: LeaderLogMessage[] = [];
  /** "Downloaded file X to path Y" / "Streamed file X" lines, dumped on failure. */
  readonly accessedFiles: string[] = [];
  /** Local copies this job made, by file key (reads into its temp dir, and writes from it). */
  protected readonly localCopies = new Map<string, Set<string>>();
  /** Keys of the files deleted by the job: removed from the job store at commit. */
  protected readonly deletedKeys = new Set<string>();
  private commit: Promise<void> = Promise.resolve();
  private diskUsage: number | undefined;
  private opened = false;
  private tempDirSource: LocalTempDir;
  private tempDir: string | undefined;

  constructor(
    /** The job store the job's files live in. */
    readonly jobStore: JobStore,
    /** The description of the job this file store serves. */
    readonly jobDesc: JobDescription,
    /**
     * This job attempt's private directory (removed by the worker after the job). Nothing is created
     * until the job needs local space: a job that only streams or writes files costs no directory.
     */
    localTempDir: LocalTempDir,
    /** Hooks and helpers from the worker. */
    protected readonly options: FileStoreOptions = {},
  ) {
    this.jobId = jobDesc.id;
    this.tempDirSource = localTempDir;
  }

  /** The job's temp dir, created (with its parents) on first access. */
  get localTempDir(): string {
    if (this.tempDir === undefined) {
      const source = this.tempDirSource;
      const dir = path.resolve(typeof source === "function" ? source() : source);
      fs.mkdirSync(dir, { recursive: true, mode: DIR_MODE });
      this.tempDir = dir;
      this.tempDirSource = dir;
    }
    return this.tempDir;
  }

  /** The job's temp dir if something made it exist already, else undefined (creates nothing). */
  get localTempDirIfCreated(): string | undefined {
    return this.tempDir;
  }

  /**
   * Ids of the files the job deleted with `deleteGlobalFile`, in order: the job store deletes them at
   * commit (`startCommit(true)` does it; a worker with its own commit journals them in the job's
   * `filesToDelete` first).
   */
  get pendingDeletes(): string[] {
    return [...this.pendingDeleteIds.values()];
  }

  // ------------------------------------------------------------------ lifecycle

  /**
   * Run the job body. On failure the accessed-files list goes to the leader's log; at the end the
   * temp dir's size is measured and a use above the job's `disk` requirement is reported.
   */
  async open<T>(body: () => Promise<T>): Promise<T> {
    if (this.opened) throw new FileStoreStateError(`The file store of job ${this.jobId} was already opened.`);
    this.opened = true;
    await this.startJob();
    try {
      return await body();
    } catch (err) {
      if (this.accessedFiles.length > 0) {
        this.logToLeader(`Failed job accessed files:\n${this.accessedFiles.map((l) => `  ${l}`).join("\n")}`, "warning");
      }
      throw err;
    } finally {
      // A job that never asked for local space has no temp dir to measure.
      this.diskUsage = this.tempDir === undefined ? 0 : duBytes(this.tempDir);
      const allowed = this.jobDisk();
      if (allowed !== undefined && this.diskUsage > allowed) {
        this.logToLeader(
          `Job ${this.jobDesc} used ${this.diskUsage} bytes of disk in its temp dir, more than its disk requirement of ` +
            `${allowed} bytes. Raise the job's disk requirement (or --defaultDisk) to keep the scheduler accurate.`,
          "warning",
        );
      }
      await this.endJob();
    }
  }

  /** Bytes used in the job's temp dir when `open` finished (undefined before). */
  getDiskUsage(): number | undefined {
    return this.diskUsage;
  }

  /** The job's disk requirement in bytes, or undefined when it has none. */
  protected jobDisk(): number | undefined {
    try {
      const d = this.jobDesc.disk;
      return Number.isFinite(d) ? d : undefined;
    } catch {
      return undefined;
    }
  }

  /** Called when the job opens the file store (before it runs); subclasses prepare here. */
  protected async startJob(): Promise<void> {}
  /** Called when the job closes the file store (after it ran); subclasses release what they hold here. */
  protected async endJob(): Promise<void> {}

  /**
   * Commit: after the previous chained job's commit, upload anything pending, and with `jobState`
   * write the job description with its deletion journal (`filesToDelete`), delete those files, then
   * clear the journal. Returns at once; `waitForCommit()` waits for it.
   */
  startCommit(jobState = false): Promise<void> {
    const previous = this.commit;
    const waitPrev = this.options.waitForPreviousCommit;
    this.commit = (async () => {
      await previous;
      if (waitPrev) await waitPrev();
      await this.uploadPending();
      if (!jobState) return;
      const deletes = [...this.pendingDeleteIds.values()];
      if (deletes.length > 0) {
        this.jobDesc.filesToDelete = [...new Set([...this.jobDesc.filesToDelete, ...deletes])];
        await this.jobStore.updateJob(this.jobDesc);
        for (const id of this.jobDesc.filesToDelete) {
          await this.jobStore.deleteFile(id).catch((err: unknown) => {
            if (!(err instanceof InvalidIdError)) throw err;
          });
          await this.forgetCached(id);
        }
        this.jobDesc.filesToDelete = [];
        this.deletedKeys.clear();
        this.pendingDeleteIds.clear();
      }
      await this.jobStore.updateJob(this.jobDesc);
    })();
    return this.commit;
  }

  /** Resolves when every started commit has finished (rejects if one failed). */
  waitForCommit(): Promise<void> {
    return this.commit;
  }

  /** Called first in a commit: subclasses upload files written but not yet in the job store. */
  protected async uploadPending(): Promise<void> {}
  /** Called after a deleted file left the job store: subclasses drop their cached copy. */
  protected async forgetCached(_fileId: string): Promise<void> {}

  // ------------------------------------------------------------------ temp space

  private tempName(suffix = "", prefix = "tmp"): string {
    // A suffix or prefix is part of one file name: a "/" (or NUL) would place the file elsewhere.
    for (const [what, part] of [["temp file suffix", suffix], ["temp file prefix", prefix]] as const) {
      if (typeof part !== "string" || part.includes("/") || part.includes("\0") || part.length > 200) {
        throw new InvalidIdError(what, String(part), "it must be part of one file name: no \"/\", no NUL, at most 200 characters");
      }
    }
    return path.join(this.localTempDir, `${prefix}${randomBytes(8).toString("hex")}${suffix}`);
  }

  async getLocalTempDir(): Promise<string> {
    const d = this.tempName("", "dir-");
    fs.mkdirSync(d, { mode: DIR_MODE });
    return d;
  }

  async getLocalTempFile(suffix?: string, prefix?: string): Promise<string> {
    const f = this.tempName(suffix, prefix);
    fs.writeFileSync(f, "", { flag: "wx", mode: 0o600 });
    return f;
  }

  async getLocalTempFileName(suffix?: string, prefix?: string): Promise<string> {
    return this.tempName(suffix, prefix);
  }

  /** Whether `p` lies inside the job's temp directory. */
  protected inTempDir(p: string): boolean {
    // Before the temp dir exists nothing can be in it (a plain-path source is known already).
    const dir = this.tempDir ?? (typeof this.tempDirSource === "string" ? path.resolve(this.tempDirSource) : undefined);
    return dir !== undefined && isWithin(dir, path.resolve(p));
  }

  /** Records that `p` is a local copy of the file (for `deleteLocalFile`). */
  protected noteLocalCopy(fileId: string, p: string): void {
    const key = parseFileId(fileId).key;
    const set = this.localCopies.get(key) ?? new Set<string>();
    set.add(path.resolve(p));
    this.localCopies.set(key, set);
  }

  /** Records a read for the failure report (`accessedFiles`). */
  protected logAccess(fileId: string, destination?: string): void {
    this.accessedFiles.push(destination === undefined ? `Streamed file '${fileId}'` : `Downloaded file '${fileId}' to path '${destination}'`);
  }

  // ------------------------------------------------------------------ writes

  async writeGlobalFile(localPath: string, options: WriteGlobalFileOptions = {}): Promise<FileID> {
    const id = await this.jobStore.writeFile(localPath, {
      jobId: this.jobId,
      ...(options.cleanup === undefined ? {} : { cleanup: options.cleanup }),
      ...(options.executable === undefined ? {} : { executable: options.executable }),
      ...(options.basename === undefined ? {} : { basename: options.basename }),
      ...(options.hints === undefined ? {} : { hints: options.hints }),
    });
    if (this.inTempDir(localPath)) this.noteLocalCopy(id, localPath);
    return id;
  }

  async writeGlobalFileStream(write: (stream: Writable) => void | Promise<void>, options: WriteGlobalFileOptions = {}): Promise<FileID> {
    return this.jobStore.writeFileStream(write, {
      jobId: this.jobId,
      ...(options.cleanup === undefined ? {} : { cleanup: options.cleanup }),
      ...(options.executable === undefined ? {} : { executable: options.executable }),
      ...(options.basename === undefined ? {} : { basename: options.basename }),
      ...(options.hints === undefined ? {} : { hints: options.hints }),
    });
  }

  // ------------------------------------------------------------------ reads

  /**
   * Parse an id a job asks to read. An id that cannot name a stored file is a NoSuchFileError like
   * any other missing file (as in Toil), with the InvalidIdError saying what is wrong as its cause.
   */
  protected parseReadId(fileId: FileID | string): ParsedFileId {
    try {
      return parseFileId(fileId);
    } catch (err) {
      if (!(err instanceof InvalidIdError)) throw err;
      throw new NoSuchFileError(String(fileId), `it is not a file id: ${err.reason}`, { cause: err });
    }
  }

  /** Where a read goes: `userPath` (must not exist) or a fresh temp name ending in the file's basename. */
  protected destinationFor(fileId: string, userPath?: string): string {
    const parsed = this.parseReadId(fileId);
    if (this.deletedKeys.has(parsed.key)) throw enoent(`File ${fileId} was deleted by this job (deleteGlobalFile).`);
    if (userPath === undefined) return this.tempName(`-${parsed.basename}`, "read-");
    const dest = path.isAbsolute(userPath) ? path.resolve(userPath) : path.resolve(this.localTempDir, userPath);
    if (fs.existsSync(dest) || isSymlink(dest)) {
      throw new FileStoreStateError(`Cannot overwrite ${dest}: readGlobalFile never replaces an existing path. Choose a new path.`);
    }
    return dest;
  }

  abstract readGlobalFile(fileId: FileID | string, userPath?: string, options?: ReadGlobalFileOptions): Promise<string>;

  async readGlobalFileStream(fileId: FileID | string, options: ReadGlobalFileStreamOptions = {}): Promise<Readable> {
    const parsed = this.parseReadId(fileId);
    if (this.deletedKeys.has(parsed.key)) throw enoent(`File ${fileId} was deleted by this job (deleteGlobalFile).`);
    const stream = await this.jobStore.readFileStream(fileId);
    if (options.encoding) stream.setEncoding(options.encoding);
    this.logAccess(fileId);
    return stream;
  }

  async getGlobalFileSize(fileId: FileID | string): Promise<number> {
    return this.parseReadId(fileId).size;
  }

  // ------------------------------------------------------------------ deletes

  async deleteLocalFile(fileId: FileID | string): Promise<void> {
    const key = parseFileId(fileId).key;
    const copies = this.localCopies.get(key);
    if (!copies || copies.size === 0) throw enoent(`Job ${this.jobId} has no local copy of file ${fileId} to delete.`);
    await this.removeLocalCopies(fileId, [...copies]);
    this.localCopies.delete(key);
  }

  /** Removes the job's local copies of a file (subclasses also update their cache bookkeeping). */
  protected async removeLocalCopies(_fileId: string, paths: string[]): Promise<void> {
    for (const p of paths) fs.rmSync(p, { force: true });
  }

  async deleteGlobalFile(fileId: FileID | string): Promise<void> {
    try {
      await this.deleteLocalFile(fileId);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    this.deletedKeys.add(parseFileId(fileId).key);
    // Keep the full id for the journal.
    this.pendingDeleteIds.set(parseFileId(fileId).key, fileId);
  }

  /** Files the job deleted (by key, with their full ids), deleted from the job store at commit. */
  protected readonly pendingDeleteIds = new Map<string, string>();

  // ------------------------------------------------------------------ import/export, logs, deferred

  async importFile(srcUrl: string, options: ImportFileOptions = {}): Promise<FileID> {
    const id = await this.jobStore.importFile(srcUrl, {
      ...(options.sharedFileName === undefined ? {} : { sharedFileName: options.sharedFileName }),
      // As in Toil, a job's import may link to a local source (the store's symlinkImports decides).
      symlink: options.symlink ?? true,
    });
    // Imports to a shared file name have no FileID: the empty string says so.
    return id ?? asFileID("");
  }

  async exportFile(fileId: FileID | string, dstUrl: string): Promise<void> {
    this.parseReadId(fileId);
    await this.uploadPending();
    await this.jobStore.exportFile(fileId, dstUrl);
  }

  logToLeader(message: string, level: LogLevel = "info"): void {
    const m: LeaderLogMessage = { text: message, level, jobId: this.jobId, jobName: this.jobDesc.displayName, time: Date.now() };
    this.logMessages.push(m);
    this.options.onLog?.(m);
  }

  async registerDeferredFunction(ref: DeferredFunctionRef): Promise<void> {
    const mgr = this.options.deferredFunctionManager;
    if (!mgr) {
      throw new FileStoreStateError(
        `Job ${this.jobId} deferred '${ref.name}', but its file store has no DeferredFunctionManager (the worker must pass one).`,
      );
    }
    mgr.register(ref);
  }
}

function isSymlink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Bytes used under a directory (regular files, counted once per inode). */
export function duBytes(dir: string): number {
  let total = 0;
  const seen = new Set<string>();
  const walk = (d: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        try {
          const st = fs.statSync(p);
          const key = `${st.dev}:${st.ino}`;
          if (!seen.has(key)) {
            seen.add(key);
            total += st.size;
          }
        } catch {
          /* vanished */
        }
      }
    }
  };
  walk(dir);
  return total;
}
