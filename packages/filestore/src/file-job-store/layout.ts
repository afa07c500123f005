/**
 * Where everything of a file job store lives: the directory layout (versioned by `format.json`),
 * the path of each kind of entry, and the checks that keep every path inside the store.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { InvalidIdError, NoSuchJobStoreError } from "../errors.js";
import { assertSharedFileName, shardOf, type ParsedFileId } from "../ids.js";
import { isErrno, isWithin, readIfExists } from "../internal/fsx.js";

/**
 * Layout version written to `format.json`; stores with a higher version are refused. Version 2
 * keeps job changes in commit logs (`log/`); a version-1 store is read as one whose logs are all
 * folded, and a leader that takes it over rewrites its version first.
 */
export const FILE_JOB_STORE_VERSION = 2;
/** The commit logs' directory. */
export const LOG_DIR = "log";
/** The store's current generation (one per leader run; see the README). */
export const GENERATION_FILE = ["meta", "generation"] as const;
/** The `format` field of `format.json`. */
export const FORMAT_NAME = "toil-ts-file-job-store";
/** The 256 shard directories of `jobs/` and `results/`. */
export const SHARDS = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
/** Top-level entries this store creates (destroy() refuses to delete a directory with anything else). */
export const KNOWN_ENTRIES = new Set(["format.json", "meta", "jobs", "results", "files", "job-files", "shared", "logs", "index", "log"]);
/** The store's own directories: never symbolic links. */
const OWN_DIRECTORIES = ["meta", "shared", "logs", "logs/inbox", "logs/archive", "files", "job-files", "index", "jobs", "results", "log"];
/** The job-state index: an append-only log of JobStateRecords and deletions (see the README). */
export const JOB_INDEX = ["index", "jobs.log"] as const;
/** The mailbox journal: every message written, one JSON line each, for readers that must not claim. */
export const LOG_JOURNAL = ["logs", "journal.jsonl"] as const;

/** Paths of a store rooted at one directory. */
export class StoreLayout {
  /** Absolute path of the store directory (as given: a symlinked path is not resolved). */
  readonly root: string;
  /** `file:<root>`. */
  readonly locator: string;
  private realRoot: string | undefined;

  constructor(location: string) {
    const p = location.startsWith("file:") ? location.slice(5) : location;
    if (p === "" || p.includes("\0")) throw new InvalidIdError("job store path", location, "empty or contains NUL");
    this.root = path.resolve(p);
    this.locator = `file:${this.root}`;
  }

  /** A path inside the store. */
  p(...parts: string[]): string {
    return path.join(this.root, ...parts);
  }
  jobPath(id: string): string {
    return this.p("jobs", shardOf(id), `${id}.json`);
  }
  resultPath(id: string): string {
    return this.p("results", shardOf(id), id);
  }
  jobFilesDir(id: string): string {
    return this.p("job-files", shardOf(id), id);
  }
  fileDir(f: ParsedFileId): string {
    const token = [...f.hints, f.rand].join(".");
    return f.jobId === undefined ? this.p("files", f.rand.slice(-2), token) : path.join(this.jobFilesDir(f.jobId), token);
  }
  sharedPath(name: string): string {
    return this.p("shared", assertSharedFileName(name));
  }

  /** Forget the resolved root (the directory was just created). */
  forgetResolvedRoot(): void {
    this.realRoot = undefined;
  }

  private resolvedRoot(): string {
    if (this.realRoot === undefined) this.realRoot = fs.realpathSync(this.root);
    return this.realRoot;
  }

  /** Realpath of an entry's directory, checked to be inside the store; undefined if it does not exist. */
  checkedDir(dir: string, id: string): string | undefined {
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

  /**
   * What `format.json` says: undefined without one; the version (or why it is unusable), and
   * whether a leader upgraded the store from format 1 (its files may still hold documents).
   */
  readFormat(): { version: unknown; upgraded?: boolean } | undefined {
    const raw = readIfExists(this.p("format.json"));
    if (raw === undefined) return undefined;
    try {
      const doc = JSON.parse(raw.toString("utf8")) as { format?: unknown; version?: unknown; upgraded?: unknown };
      if (doc.format !== FORMAT_NAME) return { version: doc.version ?? "unknown" };
      return { version: doc.version, upgraded: doc.upgraded !== undefined };
    } catch {
      return { version: "unreadable" };
    }
  }

  /**
   * The store's own top-level directories are never symbolic links: one planted there (by anyone
   * who can write the store) would send reads and writes outside it. Refuse such a store.
   */
  checkOwnDirectories(): void {
    for (const top of OWN_DIRECTORIES) {
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
}
