/**
 * The end of a CWL run: every File and Directory of the output object is written to the output
 * directory (`--outdir`), under its basename (a clash gets a `_2`, `_3`... suffix), secondary files
 * next to their primary, and the output object is rewritten to point at them.
 */
import { existsSync } from "node:fs";
import { copyFile, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { CwlOutputError } from "../errors.js";
import { LISTED_BY_RUNNER, fillNames, mapFiles, sha1File, type CwlFileOrDirectory } from "../files.js";
import { urlToPath } from "../load/uri.js";
import { fileIdOf, inlineFileBytes } from "../jobs/file-store-backend.js";
import type { CwlFile } from "../model.js";
import { refreshDirectories, type DirectoryStates } from "../tool/directory-state.js";

/** Copies a job-store file (by FileID) to a local path. */
export type FileExporter = (fileId: string, destPath: string) => Promise<void>;

/** Names given so far: each path taken, and per wanted name the next suffix to try. */
interface Names {
  taken: Set<string>;
  next: Map<string, number>;
}

/** A name in `dir` not taken yet: `basename`, else `basename_2`, `basename_3`... (linear in the outputs, not quadratic). */
function freeName(dir: string, basename: string, names: Names): string {
  const key = path.join(dir, basename);
  let i = names.next.get(key) ?? 1;
  let name = i === 1 ? basename : `${basename}_${i}`;
  while (names.taken.has(path.join(dir, name)) || existsSync(path.join(dir, name))) name = `${basename}_${++i}`;
  names.next.set(key, i + 1);
  names.taken.add(path.join(dir, name));
  return name;
}

/**
 * Write the output object's files under `outdir`; resolves to the output object the runner prints.
 * `states` gives the listings of Directories changed in place (InplaceUpdateRequirement).
 */
export async function exportCwlOutputs(
  outputs: Record<string, unknown>,
  outdir: string,
  exportFile: FileExporter,
  states: Partial<DirectoryStates> = {},
): Promise<Record<string, unknown>> {
  await mkdir(outdir, { recursive: true });
  outputs = await refreshDirectories(outputs, states);
  const taken: Names = { taken: new Set(), next: new Map() };
  // The same stored file named twice in one directory (two outputs that are one file) is written once.
  const written = new Map<string, CwlFileOrDirectory>();
  const place = async (f: CwlFileOrDirectory, dir: string): Promise<CwlFileOrDirectory> => {
    const once = f.class === "File" && f.location !== undefined && !f.location.startsWith("_:") ? `${dir}\n${f.basename ?? ""}\n${f.location}` : undefined;
    const earlier = once !== undefined ? written.get(once) : undefined;
    if (earlier !== undefined) return structuredClone(earlier);
    const placed = await placeNew(f, dir);
    if (once !== undefined) written.set(once, placed);
    return placed;
  };
  const placeNew = async (f: CwlFileOrDirectory, dir: string): Promise<CwlFileOrDirectory> => {
    const basename = f.basename ?? (f.class === "File" ? "output" : "directory");
    const name = freeName(dir, basename, taken);
    const dest = path.join(dir, name);
    const out = { ...f, basename: name } as CwlFileOrDirectory;
    delete out[LISTED_BY_RUNNER];
    if (f.class === "Directory") {
      await mkdir(dest, { recursive: true });
      const listing: CwlFileOrDirectory[] = [];
      for (const entry of f.listing ?? []) listing.push(await place(entry, dest));
      out.listing = listing;
    } else {
      const id = f.location !== undefined ? fileIdOf(f.location) : undefined;
      const local = f.location !== undefined ? urlToPath(f.location) : undefined;
      const inline = f.location !== undefined ? inlineFileBytes(f.location) : undefined;
      if (id !== undefined) await exportFile(id, dest);
      else if (inline !== undefined) await writeFile(dest, inline);
      else if (local !== undefined) await copyFile(local, dest);
      else if (typeof f.contents === "string") await writeFile(dest, f.contents);
      else throw new CwlOutputError(`Output file ${JSON.stringify(basename)} has no location and no contents.`);
      const file = out as CwlFile;
      if (file.checksum === undefined) file.checksum = await sha1File(dest);
      if (f.secondaryFiles) {
        const secondary: CwlFileOrDirectory[] = [];
        for (const s of f.secondaryFiles) secondary.push(await place(s, dir));
        file.secondaryFiles = secondary;
      }
      delete (file as { contents?: string }).contents;
    }
    out.location = pathToFileURL(dest).href;
    out.path = dest;
    return fillNames(out);
  };
  return (await mapFiles(outputs, (f) => place(f, outdir))) as Record<string, unknown>;
}
