/**
 * Staging: every input File and Directory is placed under the job's staging directory, each
 * top-level file in a directory of its own (so two inputs named `out.txt` do not collide), its
 * secondary files next to it, a Directory's listing inside it, and File literals (`contents`)
 * written out. Each staged value gets its local `path`.
 */
import { mkdir, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { CwlInputError } from "../errors.js";
import { basenameOf, fillNames, mapFiles, type CwlFileOrDirectory } from "../files.js";
import type { CwlDirectory, CwlFile } from "../model.js";
import type { FileBackend } from "./backend.js";

/** Stages input values under a root directory. */
export class Stager {
  private counter = 0;
  constructor(
    private readonly root: string,
    private readonly backend: FileBackend,
  ) {}

  /** Stage every File and Directory in `value`; returns the value with local paths. */
  stage<T>(value: T): Promise<T> {
    return mapFiles(value, async (f) => {
      const dir = path.join(this.root, `stg${this.counter++}`);
      await mkdir(dir, { recursive: true });
      return this.place(f, dir);
    }) as Promise<T>;
  }

  /** Place one File or Directory inside `dir`. */
  private async place(f: CwlFileOrDirectory, dir: string): Promise<CwlFileOrDirectory> {
    const basename = f.basename ?? (f.location !== undefined ? basenameOf(f.location) : undefined) ?? (f.class === "File" ? `file${this.counter++}` : `dir${this.counter++}`);
    const dest = path.join(dir, basename);
    if (f.class === "Directory") {
      await mkdir(dest, { recursive: true });
      const listing: CwlFileOrDirectory[] = [];
      for (const entry of f.listing ?? []) listing.push(await this.place(entry, dest));
      const out: CwlDirectory = { ...f, basename, path: dest, listing };
      if (out.location === undefined) out.location = `_:${dest}`;
      return out;
    }
    if (f.location !== undefined && !f.location.startsWith("_:")) {
      await this.backend.fetch(f.location, dest);
    } else if (typeof f.contents === "string") {
      await writeFile(dest, f.contents);
    } else {
      throw new CwlInputError(`File ${JSON.stringify(f.basename ?? f)} has neither a location nor contents.`);
    }
    const out: CwlFile = fillNames({ ...f, basename, path: dest, dirname: dir } as CwlFile);
    if (out.size === undefined) out.size = (await stat(dest)).size;
    if (f.secondaryFiles) {
      const secondary: CwlFileOrDirectory[] = [];
      for (const s of f.secondaryFiles) secondary.push(await this.place(s, dir));
      out.secondaryFiles = secondary;
    }
    if (out.location === undefined) out.location = `_:${dest}`;
    return out;
  }
}
