import { existsSync, mkdirSync, promises as fsp, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";
import type { Readable, Writable } from "node:stream";
import type { JobStore } from "@toil/filestore";
import type {
  Config,
  DeferredFunctionRef,
  FileID,
  FileStore,
  ImportFileOptions,
  JobDescription,
  LogLevel,
  ReadGlobalFileOptions,
  ReadGlobalFileStreamOptions,
  WriteGlobalFileOptions,
} from "@toil/job";

/** A message a job sent to the leader's log. */
export interface LeaderLogLine {
  text: string;
  level: LogLevel;
  jobId: string;
  jobName: string;
}

/** A file a job touched (for the "failed job accessed files" report). */
interface Access {
  what: string;
}

function toFileUrl(uri: string): string {
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(uri)) return uri;
  return `file://${path.resolve(uri)}`;
}

/**
 * The worker's file store: what a job's `run(fileStore)` uses. Reads and writes go straight to the
 * job store; deletions of global files wait for the job's commit (so a retried job still finds its
 * inputs); deferred functions are recorded in a state file the worker runs (or a later worker runs,
 * if this one dies).
 */
export class WorkerFileStore implements FileStore {
  /** Files to delete from the job store when this job's changes are committed. */
  readonly pendingDeletes: string[] = [];
  /** Messages for the leader. */
  readonly logs: LeaderLogLine[] = [];
  readonly accessed: Access[] = [];
  private readonly localCopies = new Map<string, Set<string>>();
  private tempDirCount = 0;

  constructor(
    private readonly store: JobStore,
    private readonly description: JobDescription,
    private readonly tempDirOf: () => string,
    private readonly config: Config,
    private readonly deferred: DeferredRegistry,
  ) {}

  /** The job's temporary directory (created on first use). */
  private get tempDir(): string {
    return this.tempDirOf();
  }

  get jobId(): string {
    return this.description.id;
  }

  async getLocalTempDir(): Promise<string> {
    const dir = path.join(this.tempDir, `t${this.tempDirCount++}-${randomBytes(4).toString("hex")}`);
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  async getLocalTempFileName(suffix = "", prefix = "tmp"): Promise<string> {
    return path.join(this.tempDir, `${prefix}${randomBytes(6).toString("hex")}${suffix}`);
  }

  async getLocalTempFile(suffix = "", prefix = "tmp"): Promise<string> {
    const file = await this.getLocalTempFileName(suffix, prefix);
    writeFileSync(file, "");
    return file;
  }

  private remember(id: string, local: string): void {
    if (!path.resolve(local).startsWith(this.tempDir + path.sep)) return;
    let set = this.localCopies.get(id);
    if (!set) this.localCopies.set(id, (set = new Set()));
    set.add(path.resolve(local));
  }

  async writeGlobalFile(localPath: string, options: WriteGlobalFileOptions = {}): Promise<FileID> {
    const id = await this.store.writeFile(localPath, {
      jobId: this.description.id,
      cleanup: options.cleanup ?? false,
      ...(options.hints ? { hints: options.hints } : {}),
      ...(options.basename ? { basename: options.basename } : {}),
      ...(options.executable !== undefined ? { executable: options.executable } : {}),
    });
    this.remember(id, localPath);
    this.accessed.push({ what: `Wrote file '${localPath}' as ${id}` });
    return id;
  }

  async writeGlobalFileStream(write: (stream: Writable) => void | Promise<void>, options: WriteGlobalFileOptions = {}): Promise<FileID> {
    const id = await this.store.writeFileStream(write, {
      jobId: this.description.id,
      cleanup: options.cleanup ?? false,
      ...(options.hints ? { hints: options.hints } : {}),
      ...(options.basename ? { basename: options.basename } : {}),
      ...(options.executable !== undefined ? { executable: options.executable } : {}),
    });
    this.accessed.push({ what: `Wrote a stream as ${id}` });
    return id;
  }

  async readGlobalFile(fileId: FileID, userPath?: string, options: ReadGlobalFileOptions = {}): Promise<string> {
    const target = userPath ? path.resolve(this.tempDir, userPath) : await this.getLocalTempFileName("", "read-");
    if (existsSync(target)) throw new Error(`Cannot overwrite ${target}: readGlobalFile needs a path that does not exist yet.`);
    mkdirSync(path.dirname(target), { recursive: true });
    await this.store.readFile(fileId, target, {
      symlink: (options.symlink ?? false) && this.config.symlinkJobStoreReads,
      mutable: options.mutable ?? false,
    });
    this.remember(fileId, target);
    this.accessed.push({ what: `Downloaded file '${fileId}' to path '${target}'` });
    return target;
  }

  async readGlobalFileStream(fileId: FileID, options: ReadGlobalFileStreamOptions = {}): Promise<Readable> {
    const stream = await this.store.readFileStream(fileId);
    if (options.encoding) stream.setEncoding(options.encoding);
    this.accessed.push({ what: `Streamed file '${fileId}'` });
    return stream;
  }

  async deleteLocalFile(fileId: FileID): Promise<void> {
    const copies = this.localCopies.get(fileId);
    if (!copies || copies.size === 0) {
      const err = new Error(`No local copy of file ${fileId} was made by this job.`) as NodeJS.ErrnoException;
      err.code = "ENOENT";
      throw err;
    }
    for (const p of copies) await fsp.rm(p, { force: true });
    this.localCopies.delete(fileId);
  }

  async deleteGlobalFile(fileId: FileID): Promise<void> {
    const copies = this.localCopies.get(fileId);
    if (copies) for (const p of copies) await fsp.rm(p, { force: true });
    this.localCopies.delete(fileId);
    this.pendingDeletes.push(fileId);
  }

  async getGlobalFileSize(fileId: FileID): Promise<number> {
    return this.store.getFileSize(fileId);
  }

  async importFile(srcUrl: string, options: ImportFileOptions = {}): Promise<FileID> {
    const id = await this.store.importFile(toFileUrl(srcUrl), {
      symlink: (options.symlink ?? true) && this.config.symlinkImports,
      ...(options.sharedFileName ? { sharedFileName: options.sharedFileName } : {}),
    });
    return id as FileID;
  }

  async exportFile(fileId: FileID, dstUrl: string): Promise<void> {
    await this.store.exportFile(fileId, toFileUrl(dstUrl));
  }

  logToLeader(message: string, level: LogLevel = "info"): void {
    this.logs.push({ text: message, level, jobId: this.description.id, jobName: this.description.displayName });
  }

  async registerDeferredFunction(ref: DeferredFunctionRef): Promise<void> {
    this.deferred.add(ref);
  }
}

/**
 * Deferred functions of one worker process, persisted in `<dir>/<pid>-<random>.json` so that if the
 * worker dies, the next worker on this machine runs them (it finds the file of a dead process).
 */
export class DeferredRegistry {
  private refs: DeferredFunctionRef[] = [];
  readonly file: string;

  constructor(readonly dir: string) {
    this.file = path.join(dir, `${process.pid}-${randomBytes(6).toString("hex")}.json`);
  }

  add(ref: DeferredFunctionRef): void {
    if (this.refs.length === 0) mkdirSync(this.dir, { recursive: true });
    this.refs.push(ref);
    writeFileSync(`${this.file}.tmp`, JSON.stringify({ pid: process.pid, refs: this.refs }));
    renameSync(`${this.file}.tmp`, this.file);
  }

  /** Take the registered functions (and forget the state file). */
  async take(): Promise<DeferredFunctionRef[]> {
    const refs = this.refs;
    this.refs = [];
    if (refs.length > 0) {
      await fsp.rm(this.file, { force: true });
      await fsp.rm(`${this.file}.tmp`, { force: true });
    }
    return refs;
  }

  /** Deferred functions left by workers that died (their process is gone). Claims their files. */
  static async orphans(dir: string): Promise<DeferredFunctionRef[]> {
    let names: string[];
    try {
      names = await fsp.readdir(dir);
    } catch {
      return [];
    }
    const out: DeferredFunctionRef[] = [];
    for (const name of names) {
      const m = /^(\d+)-[0-9a-f]+\.json$/.exec(name);
      if (!m) continue;
      const pid = Number(m[1]);
      if (pid === process.pid || alive(pid)) continue;
      const file = path.join(dir, name);
      const claimed = `${file}.claimed-${process.pid}`;
      try {
        await fsp.rename(file, claimed);
      } catch {
        continue; // another worker claimed it
      }
      try {
        const doc = JSON.parse(await fsp.readFile(claimed, "utf8")) as { refs?: DeferredFunctionRef[] };
        out.push(...(doc.refs ?? []));
      } catch {
        // unreadable: drop it
      }
      await fsp.rm(claimed, { force: true });
    }
    return out;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
