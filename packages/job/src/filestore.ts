/**
 * The `FileStore` a job's `run(fileStore)` receives. Declared here (the layer that uses it) and
 * implemented by @toil/filestore.
 */
import type { Readable, Writable } from "node:stream";
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

/**
 * What a job can do with files and the leader while it runs. All paths are local paths on the worker;
 * all ids are {@link FileID}s of the job store.
 */
export interface FileStore {
  /** Id of the job this file store serves. */
  readonly jobId: string;

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
