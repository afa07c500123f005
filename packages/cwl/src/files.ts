/**
 * File and Directory values: their derived names (`basename`, `nameroot`, `nameext`), walking an
 * object for them, sha1 checksums, and reading a local directory into CWL objects.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { CwlDirectory, CwlFile } from "./model.js";

/**
 * Marks a Directory whose `listing` the runner read from disk (rather than one the user wrote out,
 * a Directory literal): `loadListing` decides how much of such a listing expressions see. Never
 * shown to expressions or in a run's output object.
 */
export const LISTED_BY_RUNNER = "_toilListed";

/** A File or a Directory. */
export type CwlFileOrDirectory = CwlFile | CwlDirectory;

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** Whether a value is a File or Directory object. */
export function isFileOrDirectory(v: unknown): v is CwlFileOrDirectory {
  return isObj(v) && (v.class === "File" || v.class === "Directory");
}

/** `nameroot` and `nameext` of a basename (`a.tar.gz` → `a.tar`, `.gz`; `.bashrc` → `.bashrc`, ``). */
function splitName(basename: string): { nameroot: string; nameext: string } {
  const dot = basename.lastIndexOf(".");
  if (dot <= 0) return { nameroot: basename, nameext: "" };
  return { nameroot: basename.slice(0, dot), nameext: basename.slice(dot) };
}

/** The last path segment of a location or path (percent-decoded for URLs). */
export function basenameOf(locationOrPath: string): string {
  const noSlash = locationOrPath.replace(/\/+$/, "");
  const tail = noSlash.slice(noSlash.lastIndexOf("/") + 1);
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(locationOrPath)) {
    try {
      return decodeURIComponent(tail);
    } catch {
      return tail;
    }
  }
  return tail;
}

/** Fill `basename`, `nameroot`, `nameext` of a File (and `basename` of a Directory) from its location or path. */
export function fillNames<T extends CwlFileOrDirectory>(f: T): T {
  if (f.basename === undefined) {
    const from = f.path ?? f.location;
    if (from !== undefined) f.basename = basenameOf(from);
  }
  if (f.class === "File" && f.basename !== undefined) {
    const { nameroot, nameext } = splitName(f.basename);
    f.nameroot = nameroot;
    f.nameext = nameext;
  }
  return f;
}

/** Visit every File and Directory in a value (secondaryFiles and listings included), outer first. */
export function visitFiles(value: unknown, visit: (f: CwlFileOrDirectory) => void): void {
  if (Array.isArray(value)) {
    for (const v of value) visitFiles(v, visit);
    return;
  }
  if (!isObj(value)) return;
  if (isFileOrDirectory(value)) {
    visit(value);
    if (value.class === "File") for (const s of value.secondaryFiles ?? []) visitFiles(s, visit);
    else for (const l of value.listing ?? []) visitFiles(l, visit);
    return;
  }
  for (const v of Object.values(value)) visitFiles(v, visit);
}

/** Rebuild a value, replacing each outermost File/Directory by `map(f)` (which handles its own nested files). */
export async function mapFiles(value: unknown, map: (f: CwlFileOrDirectory) => Promise<unknown>): Promise<unknown> {
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const v of value) out.push(await mapFiles(v, map));
    return out;
  }
  if (!isObj(value)) return value;
  if (isFileOrDirectory(value)) return map(value);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = await mapFiles(v, map);
  return out;
}

/** `sha1$<hex>` of a local file. */
export function sha1File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha1");
    createReadStream(file)
      .on("data", (d) => hash.update(d))
      .on("error", reject)
      .on("end", () => resolve(`sha1$${hash.digest("hex")}`));
  });
}

/** A File object for a local file (location, path, names, size, checksum). */
export async function localFileObject(p: string, withChecksum = true): Promise<CwlFile> {
  const st = await stat(p);
  const f: CwlFile = { class: "File", location: pathToFileURL(p).href, path: p, basename: path.basename(p), size: st.size };
  if (withChecksum) f.checksum = await sha1File(p);
  return fillNames(f);
}

/** A Directory object for a local directory, with its listing (deep, sorted by name). */
export async function localDirectoryObject(p: string, withChecksum = true): Promise<CwlDirectory> {
  const entries = (await readdir(p, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const listing: CwlFileOrDirectory[] = [];
  for (const e of entries) {
    const child = path.join(p, e.name);
    const st = await stat(child);
    if (st.isDirectory()) listing.push(await localDirectoryObject(child, withChecksum));
    else listing.push(await localFileObject(child, withChecksum));
  }
  return { class: "Directory", location: pathToFileURL(p).href, path: p, basename: path.basename(p), listing, [LISTED_BY_RUNNER]: true };
}
