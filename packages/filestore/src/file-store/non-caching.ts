/** NonCachingFileStore: reads go straight to the job store (link or copy), writes straight to it. */
import type { FileID, ReadGlobalFileOptions } from "@toil/job/core";
import { AbstractFileStore } from "./abstract.js";

export class NonCachingFileStore extends AbstractFileStore {
  async readGlobalFile(fileId: FileID | string, userPath?: string, options: ReadGlobalFileOptions = {}): Promise<string> {
    const dest = this.destinationFor(fileId, userPath);
    await this.jobStore.readFile(fileId, dest, {
      symlink: options.symlink ?? false,
      // An immutable read may share the stored file through a hard link.
      mutable: options.mutable ?? false,
    });
    if (this.inTempDir(dest)) this.noteLocalCopy(fileId, dest);
    this.logAccess(fileId, dest);
    return dest;
  }
}
