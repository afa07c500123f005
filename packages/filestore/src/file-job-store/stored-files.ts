/**
 * Files of a file job store (`files/`, `job-files/`): written through temp files, named by FileIDs,
 * read only through paths checked to stay inside the store.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Readable, Writable } from "node:stream";
import { finished } from "node:stream/promises";
import { pathToFileURL } from "node:url";
import type { Config, FileID } from "@toil/job/core";
import { InvalidIdError, JobStoreError, NoSuchFileError } from "../errors.js";
import { mintFileId, parseFileId, withSize, type ParsedFileId } from "../ids.js";
import { EXEC_FILE_MODE, FILE_MODE, asNoSpace, failIfDiskFullInjected, isErrno, mkdirp, tempNameFor } from "../internal/fsx.js";
import type { ReadFileOptions, WriteFileOptions } from "../job-store.js";
import { checkSum, forgetOtherSums, recordSum, recordedSums, verifyAgainst, VerifyingStream, type FileSum } from "./file-checksums.js";
import { STREAM_CHUNK, copyFileSummed, SummingFileSink } from "./summed-copy.js";
import type { StoreLayout } from "./layout.js";
import type { PendingFileSync } from "./pending-sync.js";

/** Marker file in a file's directory: its entry is a symlink the store made (moved export). */
export const LINK_MARKER = ".store-link";

/** A file's stored entry as a reader opens it. */
export interface ReadableEntry {
  /** What the id says. */
  parsed: ParsedFileId;
  /** The entry's path. */
  path: string;
  /** The entry is a store-made symlink. */
  link: boolean;
}

/** Where a new file goes. */
export interface FileTarget {
  /** The new id (size 0 until written). */
  parsed: ParsedFileId;
  /** Its directory (to create). */
  dir: string;
  /** Its path. */
  file: string;
}

/**
 * Stream `write`'s output into `target` through a temp file; returns the byte count and the sum of
 * the bytes written (taken as they pass, so the file is not read again). `beforeRename` sees the
 * complete temp file and its sum before it takes the target's name (to record its checksum).
 */
export async function streamToFile(
  target: string,
  write: (stream: Writable) => void | Promise<void>,
  mode: number,
  beforeRename?: (tmp: string, sum: FileSum) => void,
): Promise<FileSum> {
  const tmp = tempNameFor(target);
  let fd: number | undefined;
  let out: SummingFileSink | undefined;
  try {
    fd = fs.openSync(tmp, "wx", mode);
    fs.fchmodSync(fd, mode);
    const sink = new SummingFileSink(fd);
    out = sink;
    // A write error (a full disk) fails the write at once, even while the caller's callback still
    // waits for a 'drain' that a failed stream never emits. The listener stays, so a later error
    // of the destroyed stream is never unhandled.
    const failed = new Promise<never>((_, reject) => sink.on("error", reject));
    failed.catch(() => undefined);
    try {
      await Promise.race([Promise.resolve().then(() => write(sink)), failed]);
      failIfDiskFullInjected(target);
      if (!sink.writableEnded) sink.end();
      await Promise.race([finished(sink), failed]);
    } catch (err) {
      sink.destroy();
      throw err;
    }
    fs.closeSync(fd);
    fd = undefined;
    beforeRename?.(tmp, sink.sum);
    fs.renameSync(tmp, target);
    return sink.sum;
  } catch (err) {
    // A write may still be under way on the thread pool: let it end before the file is closed.
    await out?.settled();
    if (fd !== undefined) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw asNoSpace(err, target);
  }
}

/** Options of {@link StoredFiles} that override the workflow config. */
export interface StoredFilesOptions {
  /** Let reads link to the stored file instead of copying it (config `symlinkJobStoreReads`). */
  symlinkReads?: boolean;
}

/** The user files of one store. */
export class StoredFiles {
  constructor(
    private readonly layout: StoreLayout,
    private readonly pending: PendingFileSync,
    private readonly options: StoredFilesOptions,
    private readonly config: () => Config | undefined,
  ) {}

  /**
   * Resolve a file id to its stored path, refusing anything that leaves the store: the directory
   * chain must resolve inside the store, and the entry itself may be a symlink only where the store
   * made one (link imports, moved exports).
   */
  locate(fileId: string): { parsed: ParsedFileId; dir: string; file: string } {
    const parsed = parseFileId(fileId);
    const dir = this.layout.fileDir(parsed);
    return { parsed, dir, file: path.join(dir, parsed.basename) };
  }

  /** Path to open for reading, following only store-made links. undefined if the file is missing. */
  readablePath(fileId: string): ReadableEntry | undefined {
    const { parsed, dir } = this.locate(fileId);
    const realDir = this.layout.checkedDir(dir, fileId);
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

  requireReadable(fileId: string): ReadableEntry {
    const r = this.readablePath(fileId);
    if (!r) throw new NoSuchFileError(fileId);
    return r;
  }

  /** Mint an id for a new file and say where it goes. */
  newFileTarget(options: WriteFileOptions, basename: string, executable: boolean, link = false): FileTarget {
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
    return this.locate(draft);
  }

  makeFileDir(dir: string): void {
    mkdirp(dir);
    if (this.layout.checkedDir(dir, dir) === undefined) throw new JobStoreError(`could not create ${dir}`);
  }

  /** A new file was written: its data is made durable before the next job-state write. */
  notePending(file: string): void {
    this.pending.note(file);
  }

  async writeFile(localPath: string, options: WriteFileOptions = {}): Promise<FileID> {
    const st = fs.statSync(localPath);
    if (!st.isFile()) throw new InvalidIdError("local path", localPath, "not a regular file");
    const executable = options.executable ?? (st.mode & 0o100) !== 0;
    const t = this.newFileTarget(options, options.basename ?? path.basename(localPath), executable);
    this.makeFileDir(t.dir);
    const tmp = tempNameFor(t.file);
    let sum: FileSum;
    try {
      failIfDiskFullInjected(t.file);
      sum = await copyFileSummed(localPath, tmp, executable ? EXEC_FILE_MODE : FILE_MODE, "wx");
      recordSum(t.dir, sum);
      fs.renameSync(tmp, t.file);
    } catch (err) {
      fs.rmSync(t.dir, { recursive: true, force: true });
      throw asNoSpace(err, t.file);
    }
    this.notePending(t.file);
    return withSize(t.parsed, sum.size);
  }

  async writeFileStream(write: (stream: Writable) => void | Promise<void>, options: WriteFileOptions = {}): Promise<FileID> {
    const executable = options.executable ?? false;
    const t = this.newFileTarget(options, options.basename ?? "stream", executable);
    this.makeFileDir(t.dir);
    let sum: FileSum;
    try {
      sum = await streamToFile(t.file, write, executable ? EXEC_FILE_MODE : FILE_MODE, (_tmp, written) => void recordSum(t.dir, written));
    } catch (err) {
      fs.rmSync(t.dir, { recursive: true, force: true });
      throw err;
    }
    this.notePending(t.file);
    return withSize(t.parsed, sum.size);
  }

  async readFile(fileId: string, localPath: string, options: ReadFileOptions = {}): Promise<void> {
    const src = this.requireReadable(fileId);
    const real = src.link ? fs.realpathSync(src.path) : src.path;
    const symlinkOk = options.symlink === true && (this.options.symlinkReads ?? this.config()?.symlinkJobStoreReads ?? true);
    const what = `file ${fileId}`;
    fs.rmSync(localPath, { force: true });
    if (symlinkOk || options.mutable === false) {
      // A link shares the stored bytes: check them once, here.
      await verifyAgainst(src.path, real, what);
    }
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
    // The reader gets the bytes that were summed on their way through: check that sum (a damaged
    // copy is never left behind).
    const sums = recordedSums(path.dirname(src.path));
    const got = await copyFileSummed(real, localPath, src.parsed.executable ? EXEC_FILE_MODE : FILE_MODE, "w");
    try {
      checkSum(sums, got, src.path, what);
    } catch (err) {
      fs.rmSync(localPath, { force: true });
      throw err;
    }
  }

  async readFileStream(fileId: string): Promise<Readable> {
    const src = this.requireReadable(fileId);
    const fd = await fs.promises.open(src.path, src.link ? "r" : fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    const stream = fd.createReadStream({ highWaterMark: STREAM_CHUNK });
    return this.verifying(stream, src.path, `file ${fileId}`);
  }

  /** `stream` of the stored file `storedPath`, failing at its end if it does not match its checksum. */
  verifying(stream: Readable, storedPath: string, what: string): Readable {
    const sums = recordedSums(path.dirname(storedPath));
    if (sums === undefined) return stream;
    const checked = new VerifyingStream(sums, storedPath, what);
    stream.on("error", (err) => checked.destroy(err));
    checked.on("close", () => stream.destroy());
    return stream.pipe(checked);
  }

  /** Stored path of a file (for the file stores' link/copy decisions). Throws NoSuchFileError. */
  storedPath(fileId: string): string {
    const src = this.requireReadable(fileId);
    return src.link ? fs.realpathSync(src.path) : src.path;
  }

  async updateFile(fileId: string, localPath: string): Promise<FileID> {
    const { parsed, dir, file } = this.locate(fileId);
    if (this.layout.checkedDir(dir, fileId) === undefined) throw new NoSuchFileError(fileId);
    const tmp = tempNameFor(file);
    let sum: FileSum;
    try {
      failIfDiskFullInjected(file);
      sum = await copyFileSummed(localPath, tmp, parsed.executable ? EXEC_FILE_MODE : FILE_MODE, "wx");
      recordSum(dir, sum);
      fs.renameSync(tmp, file);
    } catch (err) {
      fs.rmSync(tmp, { force: true });
      throw asNoSpace(err, file);
    }
    return this.replaced(parsed, dir, file, sum);
  }

  async updateFileStream(fileId: string, write: (stream: Writable) => void | Promise<void>): Promise<FileID> {
    const { parsed, dir, file } = this.locate(fileId);
    if (this.layout.checkedDir(dir, fileId) === undefined) throw new NoSuchFileError(fileId);
    const sum = await streamToFile(file, write, parsed.executable ? EXEC_FILE_MODE : FILE_MODE, (_tmp, written) => void recordSum(dir, written));
    return this.replaced(parsed, dir, file, sum);
  }

  /** An update's new data is in place: drop the old checksums and any link marker, sync it later. */
  private replaced(parsed: ParsedFileId, dir: string, file: string, sum: FileSum): FileID {
    forgetOtherSums(dir, sum);
    fs.rmSync(path.join(dir, LINK_MARKER), { force: true });
    this.notePending(file);
    return withSize({ ...parsed, link: false }, sum.size);
  }

  async deleteFile(fileId: string): Promise<void> {
    const { dir } = this.locate(fileId);
    if (this.layout.checkedDir(dir, fileId) === undefined) return;
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
}
