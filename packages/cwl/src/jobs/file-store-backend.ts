/**
 * The file backend of a CWL job: inputs are read from the toil-ts job store (`toilfile:` locations
 * the leader imported, or files earlier steps wrote), outputs are written to it.
 */
import { copyFile, symlink } from "node:fs/promises";
import { asFileID, type FileStore } from "@toil/job";
import { CwlInputError } from "../errors.js";
import { urlToPath } from "../load/uri.js";
import { localBackend, readStreamHead, type FileBackend } from "../tool/backend.js";

/** Scheme of locations that name a job-store file: `toilfile:<FileID>`. */
export const TOIL_FILE_SCHEME = "toilfile:";

/** The location of a job-store file. */
export function toilFileLocation(fileId: string): string {
  return `${TOIL_FILE_SCHEME}${fileId}`;
}

/** The FileID a `toilfile:` location names, or undefined. */
export function fileIdOf(location: string): string | undefined {
  return location.startsWith(TOIL_FILE_SCHEME) ? location.slice(TOIL_FILE_SCHEME.length) : undefined;
}

/** A {@link FileBackend} over a job's file store. */
export class FileStoreBackend implements FileBackend {
  constructor(private readonly fileStore: FileStore) {}

  async fetch(location: string, dest: string): Promise<void> {
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
    return toilFileLocation(await this.fileStore.writeGlobalFile(localPath));
  }

  async update(location: string, localPath: string): Promise<string> {
    const id = fileIdOf(location);
    if (id === undefined) throw new CwlInputError(`Cannot update ${location} in place: it is not a job-store file.`);
    return toilFileLocation(await this.fileStore.jobStore.updateFile(id, localPath));
  }

  owns(location: string): boolean {
    return location.startsWith(TOIL_FILE_SCHEME);
  }

  async readHead(location: string, limit: number): Promise<Buffer> {
    const id = fileIdOf(location);
    if (id !== undefined) return readStreamHead(await this.fileStore.readGlobalFileStream(asFileID(id)), limit);
    return localBackend.readHead(location, limit);
  }
}
