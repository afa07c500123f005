/**
 * InitialWorkDirRequirement: what a tool finds in its output (working) directory when it starts.
 * The listing is evaluated into a plan of entries (a File or Directory to place under a name, or a
 * new file with given text); the plan is then laid out, on the host as links (read-only entries)
 * and copies (`writable: true`), or, for a container, partly as bind mounts. Inputs that appear in
 * the listing get their `path` set to where they were placed (CWL v1.2).
 */
import { constants } from "node:fs";
import { chmod, copyFile, cp, lstat, mkdir, readdir, rm, stat, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { CwlPermanentFailureError } from "../errors.js";
import { evaluateExpressions, interpolationText, type ExpressionEngine } from "../expr/engine.js";
import { isFileOrDirectory, type CwlFileOrDirectory } from "../files.js";
import { findRequirement, type CommandLineTool, type CwlDirectory, type CwlFile } from "../model.js";
import type { FileBackend } from "./backend.js";
import { Stager } from "./stage.js";
import { urlToPath } from "../load/uri.js";

/** One thing the listing places in the working directory. */
export interface WorkDirEntry {
  /** Where it goes: a path relative to the output directory, or (in a container only) absolute. */
  target: string;
  /** Whether the tool may change it (a copy), or may only read it (a link or read-only mount). */
  writable: boolean;
  /** A File or Directory to place (with its local `path`), or undefined for new text. */
  value?: CwlFileOrDirectory;
  /** The text of a new file. */
  text?: string;
}

/** What evaluating the listing needs. */
export interface WorkDirContext {
  inputs: Record<string, unknown>;
  runtime: Record<string, unknown>;
  engine: ExpressionEngine;
  /** Whether the tool runs in a container (absolute entrynames are allowed only there). */
  inContainer: boolean;
  /** Where the tool's working directory is as the tool sees it (the container's, in a container). */
  runtimeOutdir: string;
  /** Where the document says the tool is: for messages. */
  where: string;
}

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** A File/Directory with its name: the entryname, else its basename. */
function nameOf(value: CwlFileOrDirectory): string {
  if (typeof value.basename === "string" && value.basename !== "") return value.basename;
  const from = value.path ?? value.location;
  if (typeof from === "string") return from.replace(/\/+$/, "").slice(from.replace(/\/+$/, "").lastIndexOf("/") + 1);
  return value.class === "File" ? "file" : "dir";
}

/** The relative target an entryname gives, checked: never above the output directory. */
function targetFor(entryname: string, ctx: WorkDirContext): string {
  if (path.isAbsolute(entryname)) {
    const rel = path.relative(ctx.runtimeOutdir, entryname);
    if (!rel.startsWith("..") && !path.isAbsolute(rel)) return rel === "" ? "." : rel;
    if (!ctx.inContainer) {
      throw new CwlPermanentFailureError(
        `${ctx.where}: InitialWorkDirRequirement entryname ${JSON.stringify(entryname)} is an absolute path outside the output directory; that is allowed only when DockerRequirement is under requirements and the tool runs in a container.`,
      );
    }
    return path.normalize(entryname);
  }
  const norm = path.normalize(entryname);
  if (norm === ".." || norm.startsWith(`..${path.sep}`)) {
    throw new CwlPermanentFailureError(`${ctx.where}: InitialWorkDirRequirement entryname ${JSON.stringify(entryname)} points above the output directory.`);
  }
  return norm;
}

/** Evaluate the InitialWorkDirRequirement listing into a plan of entries (in listing order). */
export function planInitialWorkDir(tool: CommandLineTool, ctx: WorkDirContext): WorkDirEntry[] {
  const found = findRequirement(tool, "InitialWorkDirRequirement");
  if (!found) return [];
  const evaluate = (v: string): unknown => evaluateExpressions(v, { inputs: ctx.inputs, self: null, runtime: ctx.runtime }, ctx.engine);
  let listing: unknown = found.req.listing;
  if (typeof listing === "string") listing = evaluate(listing);
  if (listing === null || listing === undefined) return [];
  if (!Array.isArray(listing)) {
    throw new CwlPermanentFailureError(`${ctx.where}: InitialWorkDirRequirement listing evaluated to ${JSON.stringify(listing).slice(0, 200)}, not a list.`);
  }
  const plan: WorkDirEntry[] = [];
  const addValues = (value: unknown, writable: boolean, entryname: string | undefined): void => {
    if (value === null || value === undefined) return;
    if (Array.isArray(value)) {
      if (value.every((v) => v === null || isFileOrDirectory(v))) {
        if (entryname !== undefined && value.length > 0) {
          throw new CwlPermanentFailureError(`${ctx.where}: InitialWorkDirRequirement entryname ${JSON.stringify(entryname)} cannot name a list of Files or Directories.`);
        }
        for (const v of value) addValues(v, writable, undefined);
        return;
      }
    }
    if (isFileOrDirectory(value)) {
      plan.push({ target: targetFor(entryname ?? nameOf(value), ctx), writable, value });
      return;
    }
    // Other values become a file holding their text (JSON for numbers, objects and other lists).
    if (entryname === undefined) {
      throw new CwlPermanentFailureError(`${ctx.where}: an InitialWorkDirRequirement entry of text needs an entryname.`);
    }
    plan.push({ target: targetFor(entryname, ctx), writable, text: typeof value === "string" ? value : interpolationText(value) });
  };
  for (const item of listing) {
    if (item === null || item === undefined) continue;
    if (typeof item === "string") {
      const v = evaluate(item);
      addListingValue(v);
      continue;
    }
    addListingValue(item);
  }
  function addListingValue(v: unknown): void {
    if (v === null || v === undefined) return;
    if (Array.isArray(v)) {
      for (const x of v) addListingValue(x);
      return;
    }
    if (isObj(v) && "entry" in v && !isFileOrDirectory(v)) {
      addDirent(v);
      return;
    }
    if (isFileOrDirectory(v)) {
      addValues(v, false, undefined);
      return;
    }
    throw new CwlPermanentFailureError(`${ctx.where}: an InitialWorkDirRequirement listing item evaluated to ${JSON.stringify(v).slice(0, 200)}, not a File, Directory or Dirent.`);
  }
  function addDirent(d: Record<string, unknown>): void {
    const rawName = d.entryname;
    let entryname: string | undefined;
    if (typeof rawName === "string") {
      const n = evaluate(rawName);
      if (n !== null && n !== undefined) {
        if (typeof n !== "string" || n === "") throw new CwlPermanentFailureError(`${ctx.where}: InitialWorkDirRequirement entryname evaluated to ${JSON.stringify(n)}, not a name.`);
        entryname = n;
      }
    }
    const writable = d.writable === true;
    const rawEntry = d.entry;
    const value = typeof rawEntry === "string" ? evaluateExpressions(rawEntry, { inputs: ctx.inputs, self: null, runtime: ctx.runtime }, ctx.engine, { stripWhitespace: false }) : rawEntry;
    addValues(value, writable, entryname);
  }
  return plan;
}

/** Where each placed input went: old local path → new local path (host side). */
export type PathMoves = Map<string, string>;

/** A bind mount for a container: a host path seen at a path inside the container. */
export interface BindMount {
  /** The host path. */
  source: string;
  /** The path inside the container. */
  target: string;
  /** Mounted read-only. */
  readonly: boolean;
}

/** What laying out the plan produced. */
export interface LaidOutWorkDir {
  /** Host paths of placed inputs, old → new (for rewriting the input object). */
  moves: PathMoves;
  /** Read-only entries a container mounts instead of finding links (empty on the host). */
  mounts: BindMount[];
  /** Entries to link on the host after a container run, so output globs find them. */
  linkAfter: { source: string; dest: string }[];
  /** Writable Files placed by copy: host copy path → the original value (for in-place updates). */
  writableCopies: Map<string, CwlFileOrDirectory>;
}

async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch {
    return false;
  }
}

/** Make a copy of a file or directory tree the tool may change: links followed, every entry writable by its owner. */
async function writableCopy(source: string, dest: string): Promise<void> {
  const st = await stat(source);
  if (st.isDirectory()) {
    await cp(source, dest, { recursive: true, dereference: true, mode: constants.COPYFILE_FICLONE });
    await makeWritable(dest);
  } else {
    await copyFile(source, dest, constants.COPYFILE_FICLONE);
    await chmod(dest, (st.mode & 0o777) | 0o200);
  }
}

async function makeWritable(p: string): Promise<void> {
  const st = await lstat(p);
  if (st.isSymbolicLink()) return;
  await chmod(p, (st.mode & 0o777) | 0o200 | (st.isDirectory() ? 0o100 : 0));
  if (st.isDirectory()) for (const e of await readdir(p)) await makeWritable(path.join(p, e));
}

/**
 * Lay out the plan under `outdir` (host paths). Values without a local path (literals of the
 * document, Directory literals) are staged first under `stageDir`. In a container
 * (`containerOutdir` set), read-only Files and Directories are bind mounts rather than links.
 */
export async function layOutInitialWorkDir(
  plan: readonly WorkDirEntry[],
  opts: { outdir: string; stageDir: string; backend: FileBackend; containerOutdir?: string; where: string },
): Promise<LaidOutWorkDir> {
  const moves: PathMoves = new Map();
  const mounts: BindMount[] = [];
  const linkAfter: { source: string; dest: string }[] = [];
  const writableCopies = new Map<string, CwlFileOrDirectory>();
  const stager = new Stager(opts.stageDir, opts.backend);
  const inContainer = opts.containerOutdir !== undefined;

  const place = async (value: CwlFileOrDirectory, hostDest: string, runtimeDest: string, writable: boolean): Promise<void> => {
    let v = value;
    if (typeof v.path !== "string" || !(await exists(v.path))) {
      if (v.class === "Directory") {
        const local = typeof v.location === "string" ? urlToPath(v.location) : undefined;
        if (v.listing === undefined && local !== undefined && (await exists(local))) {
          v = { ...v, path: local };
        } else {
          // A Directory literal (or one known by its listing): made here, its entries placed inside it.
          await rm(hostDest, { recursive: true, force: true });
          await mkdir(hostDest, { recursive: true });
          for (const entry of (v as CwlDirectory).listing ?? []) {
            const name = nameOf(entry);
            await place(entry, path.join(hostDest, name), path.join(runtimeDest, name), writable);
          }
          if (typeof value.path === "string") moves.set(value.path, inContainer ? runtimeDest : hostDest);
          return;
        }
      } else v = await stager.stage(v);
    }
    const source = v.path!;
    if (await exists(hostDest)) await rm(hostDest, { recursive: true, force: true });
    await mkdir(path.dirname(hostDest), { recursive: true });
    if (writable) {
      await writableCopy(source, hostDest);
      writableCopies.set(hostDest, value);
    } else if (inContainer) {
      mounts.push({ source, target: runtimeDest, readonly: true });
      if (!path.isAbsolute(path.relative(opts.outdir, hostDest)) && !path.relative(opts.outdir, hostDest).startsWith("..")) linkAfter.push({ source, dest: hostDest });
    } else {
      await symlink(source, hostDest);
    }
    if (typeof value.path === "string") moves.set(value.path, inContainer ? runtimeDest : hostDest);
    if (v.class === "File") {
      for (const s of (v as CwlFile).secondaryFiles ?? []) {
        const name = nameOf(s);
        await place(s, path.join(path.dirname(hostDest), name), path.join(path.dirname(runtimeDest), name), writable);
      }
    }
  };

  for (const entry of plan) {
    const absolute = path.isAbsolute(entry.target);
    // An absolute target (containers only) lives outside the output directory: a mount of its own.
    const hostDest = absolute ? path.join(opts.stageDir, "abs", entry.target) : path.join(opts.outdir, entry.target);
    const runtimeDest = absolute ? entry.target : path.join(opts.containerOutdir ?? opts.outdir, entry.target);
    if (entry.value === undefined) {
      await mkdir(path.dirname(hostDest), { recursive: true });
      await writeFile(hostDest, entry.text ?? "");
      if (absolute) mounts.push({ source: hostDest, target: runtimeDest, readonly: !entry.writable });
      continue;
    }
    if (absolute) {
      // Made on the host under the staging directory, then mounted where the entryname says.
      await place(entry.value, hostDest, hostDest, entry.writable);
      mounts.push({ source: hostDest, target: runtimeDest, readonly: !entry.writable });
      if (typeof entry.value.path === "string") moves.set(entry.value.path, runtimeDest);
      continue;
    }
    await place(entry.value, hostDest, runtimeDest, entry.writable);
  }
  return { moves, mounts, linkAfter, writableCopies };
}

/** Rewrite `path` (and `dirname`) of every File and Directory in `value` that was placed, or lies inside a placed Directory. */
export function applyMoves<T>(value: T, moves: PathMoves): T {
  if (moves.size === 0) return value;
  const moved = (p: string): string | undefined => {
    const direct = moves.get(p);
    if (direct !== undefined) return direct;
    for (const [from, to] of moves) if (p.startsWith(`${from}/`)) return to + p.slice(from.length);
    return undefined;
  };
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (!isObj(v)) return v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = walk(x);
    if ((out.class === "File" || out.class === "Directory") && typeof out.path === "string") {
      const to = moved(out.path);
      if (to !== undefined) {
        out.path = to;
        if (out.class === "File") out.dirname = path.dirname(to);
      }
    }
    return out;
  };
  return walk(value) as T;
}
