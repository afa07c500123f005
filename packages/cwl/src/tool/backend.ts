/**
 * Where a tool's input files come from and where its output files go. A job uses the toil-ts file
 * store (jobs/file-store-backend.ts); {@link localBackend} works on the local filesystem only.
 */
import { createReadStream } from "node:fs";
import { copyFile, symlink } from "node:fs/promises";
import { pathToFileURL } from "node:url";
import { CwlInputError } from "../errors.js";
import type { CwlFileOrDirectory } from "../files.js";
import { urlToPath } from "../load/uri.js";

/** File access for running a tool. */
export interface FileBackend {
  /** Make the file at `location` available at `dest` (a path that does not exist yet). */
  fetch(location: string, dest: string): Promise<void>;
  /** Keep a local output file; resolves to the location the output object gives it. */
  store(localPath: string): Promise<string>;
  /** Whether `location` names a file this backend keeps (so an output that is an input is not stored twice). */
  owns(location: string): boolean;
  /** The first `limit` bytes of the file at `location` (for `loadContents`). */
  readHead(location: string, limit: number): Promise<Buffer>;
  /**
   * Replace the content of the kept file at `location` with the local file (InplaceUpdateRequirement);
   * resolves to its location afterwards. Backends that cannot update files in place leave it out.
   */
  update?(location: string, localPath: string): Promise<string>;
  /** The listing recorded for a Directory that changed in place (see directory-state.ts), if any. */
  readDirectoryState?(id: string): Promise<CwlFileOrDirectory[] | undefined>;
  /** Record the new listing of a Directory that changed in place. */
  writeDirectoryState?(id: string, listing: readonly CwlFileOrDirectory[]): Promise<void>;
}

/** The first `limit` bytes of a stream. */
export async function readStreamHead(stream: NodeJS.ReadableStream, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    chunks.push(b);
    size += b.length;
    if (size >= limit) break;
  }
  (stream as { destroy?: () => void }).destroy?.();
  return Buffer.concat(chunks).subarray(0, limit);
}

/** Inputs are linked from `file:` locations; outputs stay where the tool wrote them. */
export const localBackend: FileBackend = {
  async fetch(location, dest) {
    const src = urlToPath(location);
    if (src === undefined) throw new CwlInputError(`Cannot read ${location}: only file: locations are available here.`);
    try {
      await symlink(src, dest);
    } catch {
      await copyFile(src, dest);
    }
  },
  async store(localPath) {
    return pathToFileURL(localPath).href;
  },
  owns(location) {
    return location.startsWith("file:");
  },
  async readHead(location, limit) {
    const src = urlToPath(location);
    if (src === undefined) throw new CwlInputError(`Cannot read ${location}: only file: locations are available here.`);
    return readStreamHead(createReadStream(src), limit);
  },
};
