/**
 * File data written since the last job-state write. It is made durable, in one group, before the
 * next job-state write: the write that makes a FileID reachable never reaches the disk before the
 * file's bytes (see "Atomicity and durability" in the README).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { syncPaths, syncPathsAsync } from "../internal/fsx.js";

/** Files (and their directories) awaiting one durability flush. */
export class PendingFileSync {
  private readonly files = new Set<string>();
  private readonly dirs = new Set<string>();

  constructor(private readonly durable: boolean) {}

  /** A file was written (or replaced): sync it, its directory and its parent before the next job-state write. */
  note(file: string): void {
    if (!this.durable) return;
    this.files.add(file);
    // The file's directory and its parent (a new token directory was created in it).
    this.dirs.add(path.dirname(file));
    this.dirs.add(path.dirname(path.dirname(file)));
  }

  /** Make pending file data durable (called before any job-state write that may reference it). */
  flush(): void {
    if (this.files.size === 0 && this.dirs.size === 0) return;
    if (this.durable) {
      const files = [...this.files].filter((f) => fs.existsSync(f));
      const dirs = [...this.dirs].filter((d) => fs.existsSync(d));
      syncPaths(files, dirs);
    }
    this.files.clear();
    this.dirs.clear();
  }

  /** {@link flush} with the syncs issued together on the thread pool. */
  async flushAsync(): Promise<void> {
    if (this.files.size === 0 && this.dirs.size === 0) return;
    const files = [...this.files].filter((f) => fs.existsSync(f));
    const dirs = [...this.dirs].filter((d) => fs.existsSync(d));
    this.files.clear();
    this.dirs.clear();
    if (this.durable) await syncPathsAsync(files, dirs);
  }
}
