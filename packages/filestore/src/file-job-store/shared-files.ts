/** Shared files of a file job store (`shared/<name>`): small named files, replaced atomically. */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Readable, Writable } from "node:stream";
import { pathToFileURL } from "node:url";
import { InvalidIdError, NoSuchFileError } from "../errors.js";
import { FILE_MODE, isErrno, readIfExists, syncPaths, writeFileAtomicSync } from "../internal/fsx.js";
import type { StoreLayout } from "./layout.js";
import { streamToFile } from "./stored-files.js";

/** The shared files of one store. */
export class SharedFiles {
  constructor(
    private readonly layout: StoreLayout,
    private readonly durable: boolean,
  ) {}

  async writeSharedFile(name: string, data: string | Uint8Array): Promise<void> {
    writeFileAtomicSync(this.layout.sharedPath(name), data, { durable: this.durable });
  }

  async writeSharedFileStream(name: string, write: (stream: Writable) => void | Promise<void>): Promise<void> {
    const target = this.layout.sharedPath(name);
    await streamToFile(target, write, FILE_MODE);
    if (this.durable) syncPaths([target], [path.dirname(target)]);
  }

  async readSharedFile(name: string): Promise<Buffer> {
    const raw = readIfExists(this.layout.sharedPath(name));
    if (raw === undefined) throw new NoSuchFileError(`shared file ${name}`);
    return raw;
  }

  async readSharedFileStream(name: string): Promise<Readable> {
    try {
      const fd = await fs.promises.open(this.layout.sharedPath(name), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
      return fd.createReadStream();
    } catch (err) {
      if (isErrno(err, "ENOENT")) throw new NoSuchFileError(`shared file ${name}`);
      if (isErrno(err, "ELOOP")) throw new InvalidIdError("shared file name", name, "the stored entry is a symlink");
      throw err;
    }
  }

  async sharedFileExists(name: string): Promise<boolean> {
    return fs.existsSync(this.layout.sharedPath(name));
  }

  async getSharedPublicUrl(name: string): Promise<string> {
    const p = this.layout.sharedPath(name);
    if (!fs.existsSync(p)) throw new NoSuchFileError(`shared file ${name}`);
    return pathToFileURL(p).href;
  }
}
