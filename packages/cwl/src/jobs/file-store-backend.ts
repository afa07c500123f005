/**
 * The file backend of a CWL job: inputs are read from the toil-ts job store (`toilfile:` locations
 * the leader imported, or files earlier steps wrote), outputs are written to it. A small output
 * file (at most {@link INLINE_FILE_LIMIT} bytes, not executable) travels inside the step's result
 * as a `data:` location instead: a scatter of many trivial steps then costs no job-store file (a
 * directory, a copy, a sync and a deletion) per step.
 */
import { copyFile, readFile, stat, symlink, writeFile } from "node:fs/promises";
import { asFileID, type FileStore, type JobStoreView } from "@toil/job";
import { CwlInputError } from "../errors.js";
import { urlToPath } from "../load/uri.js";
import type { CwlFileOrDirectory } from "../files.js";
import { localBackend, readStreamHead, type FileBackend } from "../tool/backend.js";
import type { DirectoryStates } from "../tool/directory-state.js";

/** Scheme of locations that name a job-store file: `toilfile:<FileID>`. */
export const TOIL_FILE_SCHEME = "toilfile:";

/** Largest output file (bytes) kept inside a step's result as a `data:` location rather than in the job store. */
export const INLINE_FILE_LIMIT = 4096;

const DATA_PREFIX = "data:application/octet-stream;base64,";

/** A `data:` location holding `bytes`. */
export function inlineFileLocation(bytes: Buffer): string {
  return `${DATA_PREFIX}${bytes.toString("base64")}`;
}

/** The bytes of a `data:` location (RFC 2397: base64 or percent-encoded), or undefined for another scheme. */
export function inlineFileBytes(location: string): Buffer | undefined {
  if (!location.startsWith("data:")) return undefined;
  const comma = location.indexOf(",");
  if (comma < 0) throw new CwlInputError(`Malformed data: location (no comma): ${location.slice(0, 60)}`);
  const meta = location.slice(5, comma);
  const data = location.slice(comma + 1);
  return meta.endsWith(";base64") ? Buffer.from(data, "base64") : Buffer.from(decodeURIComponent(data), "utf8");
}

/** The location of a job-store file. */
export function toilFileLocation(fileId: string): string {
  return `${TOIL_FILE_SCHEME}${fileId}`;
}

/** The FileID a `toilfile:` location names, or undefined. */
export function fileIdOf(location: string): string | undefined {
  return location.startsWith(TOIL_FILE_SCHEME) ? location.slice(TOIL_FILE_SCHEME.length) : undefined;
}

/** The job-store shared file that keeps the listing of a Directory changed in place. */
function directoryStateFile(id: string): string {
  return `cwl-directory-${id}.json`;
}

/**
 * Listings of Directories changed in place (InplaceUpdateRequirement), kept as shared files of a
 * job store: jobs record them, and the leader reads them when it exports a run's outputs.
 */
export function jobStoreDirectoryStates(store: Pick<JobStoreView, "sharedFileExists" | "readSharedFile" | "writeSharedFile">): DirectoryStates {
  return {
    async readDirectoryState(id) {
      const name = directoryStateFile(id);
      if (!(await store.sharedFileExists(name))) return undefined;
      return JSON.parse((await store.readSharedFile(name)).toString("utf8")) as CwlFileOrDirectory[];
    },
    async writeDirectoryState(id, listing) {
      await store.writeSharedFile(directoryStateFile(id), JSON.stringify(listing));
    },
  };
}

/** A {@link FileBackend} over a job's file store. */
export class FileStoreBackend implements FileBackend {
  /**
   * `inlineSmallFiles: false` keeps every output in the job store: a workflow in which some tool
   * updates files in place (InplaceUpdateRequirement) needs each file to be one job-store file that
   * every step holding it reads, and a `data:` location cannot change under its holders.
   */
  constructor(
    private readonly fileStore: FileStore,
    private readonly options: { inlineSmallFiles?: boolean } = {},
  ) {}

  async fetch(location: string, dest: string): Promise<void> {
    const inline = inlineFileBytes(location);
    if (inline !== undefined) {
      await writeFile(dest, inline);
      return;
    }
    const id = fileIdOf(location);
    if (id !== undefined) {
      await this.fileStore.readGlobalFile(asFileID(id), dest);
      return;
    }
    const local = urlToPath(location);
    if (local !== undefined) {
      // A file the leader did not import (shared filesystem): link it, or copy it.
      try {
        await symlink(local, dest);
      } catch {
        await copyFile(local, dest);
      }
      return;
    }
    throw new CwlInputError(`Cannot stage ${location}: only job-store and file: locations can be read by a job.`);
  }

  async store(localPath: string): Promise<string> {
    const st = await stat(localPath);
    if (this.options.inlineSmallFiles !== false && st.isFile() && st.size <= INLINE_FILE_LIMIT && (st.mode & 0o111) === 0) return inlineFileLocation(await readFile(localPath));
    return toilFileLocation(await this.fileStore.writeGlobalFile(localPath));
  }

  async update(location: string, localPath: string): Promise<string> {
    const id = fileIdOf(location);
    if (id === undefined) throw new CwlInputError(`Cannot update ${location} in place: it is not a job-store file.`);
    return toilFileLocation(await this.fileStore.jobStore.updateFile(id, localPath));
  }

  readDirectoryState(id: string): Promise<CwlFileOrDirectory[] | undefined> {
    return jobStoreDirectoryStates(this.fileStore.jobStore).readDirectoryState(id);
  }

  writeDirectoryState(id: string, listing: readonly CwlFileOrDirectory[]): Promise<void> {
    return jobStoreDirectoryStates(this.fileStore.jobStore).writeDirectoryState(id, listing);
  }

  owns(location: string): boolean {
    return location.startsWith(TOIL_FILE_SCHEME) || location.startsWith("data:");
  }

  async readHead(location: string, limit: number): Promise<Buffer> {
    const inline = inlineFileBytes(location);
    if (inline !== undefined) return inline.subarray(0, limit);
    const id = fileIdOf(location);
    if (id !== undefined) return readStreamHead(await this.fileStore.readGlobalFileStream(asFileID(id)), limit);
    return localBackend.readHead(location, limit);
  }
}
