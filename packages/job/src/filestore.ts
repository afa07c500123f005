/**
 * The `FileStore` a job's `run(fileStore)` receives. Declared here (the layer that uses it) and
 * implemented by @toil/filestore.
 */
import type { Readable, Writable } from "node:stream";
import type { Config } from "./config/index.js";
import type { FileID } from "./fileid.js";

/** Severity of a message sent to the leader's log. */
export type LogLevel = "debug" | "info" | "warning" | "error" | "critical";

/** Options for writing a file into the job store. */
export interface WriteGlobalFileOptions {
  /** Delete the file when the job that wrote it (and its subtree) completes. Default false. */
  cleanup?: boolean;
  /** Mark the stored file executable (kept through read and export). Default: taken from the local file when writing a path, false for streams. */
  executable?: boolean;
  /** Basename recorded in the FileID (streams have none otherwise). */
  basename?: string;
  /** Extra words to embed in the FileID to make it readable (Toil's "hints"). */
  hints?: readonly string[];
}

/** Options for reading a file from the job store to a local path. */
export interface ReadGlobalFileOptions {
  /** Use the local cache, if the file store has one. Default true. */
  cache?: boolean;
  /** The caller will modify the local copy (so it must not be a shared link). Default false. */
  mutable?: boolean;
  /** A symlink to the stored file is acceptable. Default false. */
  symlink?: boolean;
}

/** Options for reading a file as a stream. */
export interface ReadGlobalFileStreamOptions {
  /** Decode as text with this encoding (stream yields strings); default: bytes. */
  encoding?: BufferEncoding;
}

/** Options for importing a file from a URL into the job store. */
export interface ImportFileOptions {
  /** Store it as a shared file with this name instead of minting a FileID. */
  sharedFileName?: string;
  /** Allow the store to link to the source instead of copying it (local files only). */
  symlink?: boolean;
}

/**
 * A deferred function reference: the function is named by module + export (the same scheme as job
 * bodies) and its arguments are serialized job data. Built by `job.defer(fn, ...args)`; run with
 * `runDeferredFunction(ref)`.
 */
export interface DeferredFunctionRef {
  /** Absolute `file:` URL (or package specifier) of the module that exports the function. */
  module: string;
  /** The export name. */
  exportName: string;
  /** Serialized arguments (see `serializeValue`). */
  args: unknown;
  /** For messages: the function's name. */
  name: string;
}

/** Where a new job-store file goes and what its id says ({@link JobStoreView.writeFile}). */
export interface WriteFileOptions {
  /** Job the file belongs to. With `cleanup`, the file is deleted when that job is deleted. */
  jobId?: string;
  /** Tie the file's lifetime to `jobId`'s. Default false. */
  cleanup?: boolean;
  /** Words to show in the id (sanitized). */
  hints?: readonly string[];
  /** Basename recorded in the id; default: the local file's name (streams: "stream"). */
  basename?: string;
  /** Executable bit; default: the local file's owner-execute bit (streams: false). */
  executable?: boolean;
}

/** How a stored file is read to a local path ({@link JobStoreView.readFile}). */
export interface ReadFileOptions {
  /** A symlink is acceptable (only honoured when the store allows symlinked reads). Default false. */
  symlink?: boolean;
  /** The caller may modify the result: never a link shared with the store. Default true. */
  mutable?: boolean;
}

/** How an imported file is stored ({@link JobStoreView.importFile}). */
export interface ImportOptions {
  /** Store as this shared file instead of minting a FileID. */
  sharedFileName?: string;
  /** Allow a symlink to a local source instead of a copy (only when the store links imports). */
  symlink?: boolean;
  /** Allow a hard link to a local source on the same device. Default false. */
  hardlink?: boolean;
  /** Tie the imported file to a job (deleted with it). */
  jobId?: string;
  /** With `jobId`: delete the file when that job is deleted. */
  cleanup?: boolean;
}

/**
 * The part of the job store a running job may use directly (Toil's `fileStore.jobStore`): the
 * workflow's configuration, its files by id and its shared files by name. @toil/filestore's
 * `JobStore` extends it with the leader's and worker's bookkeeping (jobs, results, locks).
 */
export interface JobStoreView {
  /** Canonical locator, e.g. `file:/abs/path`. */
  readonly locator: string;
  /** The workflow configuration. */
  readonly config: Config;

  /** Copies a local file into the store and returns its new id. */
  writeFile(localPath: string, options?: WriteFileOptions): Promise<FileID>;
  /** Creates a file from what `write` writes to the stream, and returns its id. */
  writeFileStream(write: (stream: Writable) => void | Promise<void>, options?: WriteFileOptions): Promise<FileID>;
  /** Creates an empty file and returns its id (fill it later with {@link updateFile}). */
  getEmptyFileStoreId(options?: WriteFileOptions): Promise<FileID>;
  /** Copies (or, when allowed, links) a stored file to `localPath`. */
  readFile(fileId: string, localPath: string, options?: ReadFileOptions): Promise<void>;
  /** Opens a stored file for reading. */
  readFileStream(fileId: string): Promise<Readable>;
  /** Atomic: a failure keeps the old content. Returns the id with the new size. */
  updateFile(fileId: string, localPath: string): Promise<FileID>;
  /** Like {@link updateFile}, with the new content written to a stream. */
  updateFileStream(fileId: string, write: (stream: Writable) => void | Promise<void>): Promise<FileID>;
  /** Idempotent. */
  deleteFile(fileId: string): Promise<void>;
  /** Whether a file with this id is stored. */
  fileExists(fileId: string): Promise<boolean>;
  /** Current size in bytes, 0 if the file does not exist. */
  getFileSize(fileId: string): Promise<number>;
  /** A URL other processes can read the file from (a `file:` URL for the file store). */
  getPublicUrl(fileId: string): Promise<string>;

  /** Writes (or replaces) a shared file with `data`. */
  writeSharedFile(name: string, data: string | Uint8Array): Promise<void>;
  /** Writes (or replaces) a shared file with what `write` writes to the stream. */
  writeSharedFileStream(name: string, write: (stream: Writable) => void | Promise<void>): Promise<void>;
  /** Reads a whole shared file. */
  readSharedFile(name: string): Promise<Buffer>;
  /** Opens a shared file for reading. */
  readSharedFileStream(name: string): Promise<Readable>;
  /** Whether a shared file of this name exists. */
  sharedFileExists(name: string): Promise<boolean>;
  /** A URL other processes can read the shared file from. */
  getSharedPublicUrl(name: string): Promise<string>;

  /**
   * Copies a file from a URL (`file:`, `http(s):`) into the store: returns its id, or undefined when stored
   * as a shared file.
   */
  importFile(srcUrl: string, options?: ImportOptions): Promise<FileID | undefined>;
  /** Copies a stored file to a URL (a `file:` destination's directories are created). */
  exportFile(fileId: string, dstUrl: string): Promise<void>;
}

/**
 * What a job can do with files and the leader while it runs. All paths are local paths on the worker;
 * all ids are {@link FileID}s of the job store.
 */
export interface FileStore {
  /** Id of the job this file store serves. */
  readonly jobId: string;
  /**
   * The job store the job belongs to (Toil's `fileStore.jobStore`): shared files, the configuration,
   * and files by id without this file store's bookkeeping (no local-copy tracking, no delete at commit).
   */
  readonly jobStore: JobStoreView;

  /** A directory private to this job attempt, deleted after the job. */
  getLocalTempDir(): Promise<string>;
  /** Create an empty file inside the job's temp dir and return its path. */
  getLocalTempFile(suffix?: string, prefix?: string): Promise<string>;
  /** A fresh path inside the job's temp dir, without creating the file. */
  getLocalTempFileName(suffix?: string, prefix?: string): Promise<string>;

  /** Copy a local file into the job store. */
  writeGlobalFile(localPath: string, options?: WriteGlobalFileOptions): Promise<FileID>;
  /**
   * Write a new job-store file through a stream. `write` receives the stream, writes to it and
   * returns (or resolves); the file store then ends the stream and resolves with the new FileID.
   */
  writeGlobalFileStream(
    write: (stream: Writable) => void | Promise<void>,
    options?: WriteGlobalFileOptions,
  ): Promise<FileID>;
  /** Make a local copy (or link) of a job-store file and return its path (`userPath`, or a temp file). */
  readGlobalFile(fileId: FileID, userPath?: string, options?: ReadGlobalFileOptions): Promise<string>;
  /** Open a job-store file as a stream. */
  readGlobalFileStream(fileId: FileID, options?: ReadGlobalFileStreamOptions): Promise<Readable>;
  /** Delete the local copies this job made of the file. Fails (ENOENT) if it has none. */
  deleteLocalFile(fileId: FileID): Promise<void>;
  /** Delete the file from the job store (and local copies), once this job's changes are committed. */
  deleteGlobalFile(fileId: FileID): Promise<void>;
  /** Size in bytes of a job-store file. */
  getGlobalFileSize(fileId: FileID): Promise<number>;

  /** Import a file from a URL (or plain path) into the job store. */
  importFile(srcUrl: string, options?: ImportFileOptions): Promise<FileID>;
  /** Export a job-store file to a URL (or plain path). */
  exportFile(fileId: FileID, dstUrl: string): Promise<void>;

  /** Send a message to the leader's log. */
  logToLeader(message: string, level?: LogLevel): void;

  /**
   * Register a function to run after this job attempt ends, even if the worker dies (then it runs
   * later on the same node). Deferred functions may run more than once: make them idempotent.
   */
  registerDeferredFunction(ref: DeferredFunctionRef): Promise<void>;
}
