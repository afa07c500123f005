/**
 * Collecting a CommandLineTool's outputs from its output directory: `cwl.output.json` when the tool
 * wrote one, otherwise each output's binding (glob with POSIX semantics and sorted results,
 * loadContents, outputEval), secondary files, formats; every value checked against its type.
 */
import { existsSync } from "node:fs";
import { lstat, readFile, readlink, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { glob, isDynamicPattern } from "tinyglobby";
import { CwlOutputError } from "../errors.js";
import { evaluateExpressions, type ExpressionEngine } from "../expr/engine.js";
import { isFileOrDirectory, localDirectoryObject, localFileObject, type CwlFileOrDirectory, visitFiles, fillNames, sha1File } from "../files.js";
import { urlToPath } from "../load/uri.js";
import type { CommandLineTool, CommandOutputBinding, CwlFile, CwlType, OutputParameter, SecondaryFileSchema } from "../model.js";
import { typeMismatch, matchingType } from "../types/check.js";
import { readContents } from "./inputs.js";
import { secondaryExpectations } from "./secondary.js";

/** What output collection needs. */
export interface CollectContext {
  outdir: string;
  /** Directories an output may be a symbolic link into (besides the output directory): the staged inputs. */
  linkRoots?: readonly string[];
  inputs: Record<string, unknown>;
  runtime: Record<string, unknown>;
  engine: ExpressionEngine;
  /** The host path of a path the tool saw (in a container, its paths differ from the host's). */
  toHost?: (runtimePath: string) => string;
}

/** Files and directories a glob pattern matches in the output directory, sorted by path. */
async function globOutputs(pattern: string, outdir: string, toHost: (runtimePath: string) => string = (p) => p): Promise<string[]> {
  if (path.isAbsolute(pattern)) pattern = toHost(pattern);
  let rel = pattern;
  if (path.isAbsolute(pattern)) {
    const r = path.relative(outdir, pattern);
    if (r.startsWith("..") || path.isAbsolute(r)) {
      throw new CwlOutputError(`glob ${JSON.stringify(pattern)} points outside the tool's output directory ${outdir}.`);
    }
    rel = r === "" ? "." : r;
  }
  if (rel === "." || rel === "./") return [outdir];
  if (!isDynamicPattern(rel, { caseSensitiveMatch: true })) {
    const p = path.join(outdir, rel);
    return existsSync(p) ? [p] : [];
  }
  const found = await glob(rel, {
    cwd: outdir,
    absolute: true,
    onlyFiles: false,
    dot: false,
    expandDirectories: false,
    braceExpansion: false,
    extglob: false,
    globstar: false,
    followSymbolicLinks: true,
  });
  return found.map((f) => f.replace(/\/$/, "")).sort();
}

/**
 * A glob match that is a symbolic link must point inside the output directory, or at an input the
 * runner staged. Links are followed one at a time: a link the tool made inside the output directory
 * is followed further; one into the runner's staging directories is an input (whatever that points
 * at, as the runner placed it); anything else is outside.
 */
async function checkLink(p: string, ctx: CollectContext): Promise<void> {
  if (!(await lstat(p)).isSymbolicLink()) return;
  const real = async (r: string): Promise<string> => realpath(r).catch(() => r);
  const outdir = await real(ctx.outdir);
  const staged = await Promise.all((ctx.linkRoots ?? []).map(real));
  const within = (x: string, root: string): boolean => x === root || x.startsWith(`${root}${path.sep}`);
  let current = p;
  for (let hops = 0; hops < 40; hops++) {
    const target = path.resolve(await real(path.dirname(current)), await readlink(current));
    if (staged.some((r) => within(target, r))) return;
    if (!within(target, outdir)) break;
    const st = await lstat(target).catch(() => undefined);
    if (st === undefined || !st.isSymbolicLink()) return;
    current = target;
  }
  const shown = await realpath(p).catch(() => undefined);
  throw new CwlOutputError(`Output ${path.relative(ctx.outdir, p)} is a symbolic link to ${shown ?? "a missing file"}, outside the tool's output directory.`);
}

async function objectFor(p: string): Promise<CwlFileOrDirectory> {
  const st = await stat(p);
  return st.isDirectory() ? localDirectoryObject(p) : localFileObject(p);
}

/** Add the secondary files the patterns name, when they exist next to the primary file. */
async function addSecondaryFiles(file: CwlFile, schemas: SecondaryFileSchema[], ctx: CollectContext): Promise<void> {
  if (typeof file.path !== "string") return;
  const dir = path.dirname(file.path);
  const found: CwlFileOrDirectory[] = [...(file.secondaryFiles ?? [])];
  for (const e of secondaryExpectations(file, schemas, { inputs: ctx.inputs, runtime: ctx.runtime }, ctx.engine, false)) {
    if (e.object) {
      found.push(e.object);
      continue;
    }
    const p = path.resolve(dir, e.name!);
    if (existsSync(p)) {
      if (!found.some((f) => f.path === p)) found.push(await objectFor(p));
    } else if (e.required) {
      throw new CwlOutputError(`Output ${file.basename} is missing its required secondary file ${e.name} (pattern ${e.pattern}).`);
    }
  }
  if (found.length > 0) file.secondaryFiles = found;
}

function applyFormat(value: unknown, format: string | string[] | undefined, ctx: CollectContext): void {
  if (format === undefined) return;
  visitFiles(value, (f) => {
    if (f.class !== "File") return;
    const v = typeof format === "string" ? evaluateExpressions(format, { inputs: ctx.inputs, self: f, runtime: ctx.runtime }, ctx.engine) : format;
    if (typeof v === "string") f.format = v;
  });
}

async function collectBinding(type: CwlType, binding: CommandOutputBinding | undefined, ctx: CollectContext, name: string): Promise<unknown> {
  const member = Array.isArray(type) ? type.find((t) => t !== "null") : type;
  if (binding === undefined) {
    // A record output without its own binding is built from its fields' bindings.
    if (member !== undefined && typeof member === "object" && !Array.isArray(member) && member.type === "record") {
      const rec: Record<string, unknown> = {};
      for (const f of member.fields) {
        rec[f.name] = await collectParameter({ id: `${name}.${f.name}`, type: f.type, outputBinding: f.outputBinding, secondaryFiles: f.secondaryFiles, format: f.format }, ctx);
      }
      return rec;
    }
    return null;
  }
  let files: CwlFileOrDirectory[] = [];
  if (binding.glob !== undefined) {
    const globs = (Array.isArray(binding.glob) ? binding.glob : [binding.glob]).flatMap((g) => {
      const v = evaluateExpressions(g, { inputs: ctx.inputs, self: null, runtime: ctx.runtime }, ctx.engine);
      return Array.isArray(v) ? v : [v];
    });
    for (const g of globs) {
      if (g === null || g === undefined) continue;
      if (typeof g !== "string") throw new CwlOutputError(`Output '${name}': glob evaluated to ${JSON.stringify(g)}, not a string.`);
      for (const p of await globOutputs(g, ctx.outdir, ctx.toHost)) {
        await checkLink(p, ctx);
        files.push(await objectFor(p));
      }
    }
    if (binding.loadContents) {
      for (const f of files) if (f.class === "File" && f.path) f.contents = await readContents(f.path, `output '${name}' (${f.basename})`);
    }
  }
  if (binding.outputEval !== undefined) {
    const self = binding.glob !== undefined ? files : [];
    // Files an expression names (by path or location) are described from disk, like cwl.output.json's.
    return resolveReported(evaluateExpressions(binding.outputEval, { inputs: ctx.inputs, self, runtime: ctx.runtime }, ctx.engine), ctx.outdir, ctx.toHost);
  }
  if (binding.glob === undefined) return null;
  const single = member === "File" || member === "Directory";
  if (single && !(Array.isArray(type) && type.some((t) => typeof t === "object" && !Array.isArray(t) && t.type === "array"))) {
    if (files.length === 0) return null;
    if (files.length > 1) throw new CwlOutputError(`Output '${name}' is a single ${member}, but its glob matched ${files.length} paths.`);
    return files[0];
  }
  if (member === "string" && binding.loadContents) return files.map((f) => (f as CwlFile).contents);
  return files;
}

async function collectParameter(p: Pick<OutputParameter, "id" | "type" | "outputBinding" | "secondaryFiles" | "format">, ctx: CollectContext): Promise<unknown> {
  const value = await collectBinding(p.type, p.outputBinding, ctx, p.id);
  if (p.secondaryFiles && p.secondaryFiles.length > 0) {
    const primaries: CwlFile[] = [];
    const collect = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(collect);
      else if (isFileOrDirectory(v) && v.class === "File") primaries.push(v);
    };
    collect(value);
    for (const f of primaries) await addSecondaryFiles(f, p.secondaryFiles, ctx);
  }
  applyFormat(value, p.format, ctx);
  return value;
}

/** Resolve File/Directory values of `cwl.output.json` (paths relative to the output directory) and describe them. */
async function resolveReported(value: unknown, outdir: string, toHost: (runtimePath: string) => string = (p) => p): Promise<unknown> {
  if (Array.isArray(value)) return Promise.all(value.map((v) => resolveReported(v, outdir, toHost)));
  if (value === null || typeof value !== "object") return value;
  if (isFileOrDirectory(value)) {
    const f = { ...value } as CwlFileOrDirectory;
    const ref = f.path ?? f.location;
    if (typeof ref === "string") {
      const named = ref.startsWith("file:") ? urlToPath(ref)! : /^[A-Za-z][A-Za-z0-9+.-]*:/.test(ref) ? undefined : ref;
      const local = named === undefined ? undefined : path.isAbsolute(named) ? toHost(named) : path.resolve(outdir, named);
      if (local !== undefined) {
        if (!existsSync(local)) throw new CwlOutputError(`cwl.output.json names ${ref}, which does not exist.`);
        const described = await objectFor(local);
        const out = { ...described, ...f, location: described.location, path: local };
        if (out.class === "File") {
          out.size = (described as CwlFile).size;
          out.checksum = (described as CwlFile).checksum;
        } else if (f.listing === undefined) out.listing = (described as { listing?: CwlFileOrDirectory[] }).listing;
        return fillNames(out);
      }
    }
    if (f.class === "File" && typeof f.contents === "string") return fillNames(f);
    if (f.class === "File" && f.secondaryFiles) f.secondaryFiles = (await resolveReported(f.secondaryFiles, outdir, toHost)) as CwlFileOrDirectory[];
    if (f.class === "Directory" && f.listing) f.listing = (await resolveReported(f.listing, outdir, toHost)) as CwlFileOrDirectory[];
    return f;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = await resolveReported(v, outdir, toHost);
  return out;
}

/** Collect and type-check the tool's outputs. */
export async function collectOutputs(tool: CommandLineTool, ctx: CollectContext): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const reported = path.join(ctx.outdir, "cwl.output.json");
  if (existsSync(reported)) {
    let json: unknown;
    try {
      json = JSON.parse(await readFile(reported, "utf8"));
    } catch (err) {
      throw new CwlOutputError(`The tool wrote cwl.output.json, but it is not valid JSON: ${(err as Error).message}`, { cause: err });
    }
    if (json === null || typeof json !== "object" || Array.isArray(json)) throw new CwlOutputError("cwl.output.json must hold a JSON object.");
    const resolved = (await resolveReported(json, ctx.outdir, ctx.toHost)) as Record<string, unknown>;
    for (const p of tool.outputs) out[p.id] = resolved[p.id] ?? null;
  } else {
    for (const p of tool.outputs) out[p.id] = await collectParameter(p, ctx);
  }
  checkOutputTypes(tool.outputs, out);
  return out;
}

/** Every output must fit its declared type. */
export function checkOutputTypes(params: readonly OutputParameter[], out: Record<string, unknown>): void {
  for (const p of params) {
    const v = out[p.id];
    const e = typeMismatch(p.type, v, `output '${p.id}'`, { anyAcceptsNull: true });
    if (e !== undefined) throw new CwlOutputError(`${e}.`);
    // Normalize: a value of a union type keeps its matching member's shape.
    void matchingType(p.type, v);
  }
}

/** Fill in sizes and checksums of local output Files that lack them. */
export async function describeLocalFiles(value: unknown): Promise<void> {
  const pending: Promise<void>[] = [];
  visitFiles(value, (f) => {
    if (f.class !== "File" || typeof f.path !== "string" || !existsSync(f.path)) return;
    const file = f as CwlFile;
    pending.push(
      (async () => {
        if (file.size === undefined) file.size = (await stat(f.path!)).size;
        if (file.checksum === undefined) file.checksum = await sha1File(f.path!);
      })(),
    );
  });
  await Promise.all(pending);
}
