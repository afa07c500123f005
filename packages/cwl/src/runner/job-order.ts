/**
 * The input object of a run (the "job order"): read from YAML/JSON, with tool inputs given as
 * command-line flags merged in, File and Directory locations resolved against the file they are
 * written in, Directory listings read from disk, secondary files found next to their primaries,
 * and `format` names expanded with the process's namespaces.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { CwlInputError } from "../errors.js";
import { parameterReferenceEngine } from "../expr/engine.js";
import { fetchText, parseYaml } from "../load/fetch.js";
import { expandCurie, hasScheme, resolveUri, toUrl, urlToPath } from "../load/uri.js";
import { LISTED_BY_RUNNER, fillNames, visitFiles, type CwlFileOrDirectory } from "../files.js";
import type { CwlType, InputParameter, Process, Requirement } from "../model.js";
import { resolveDocument } from "../load/resolve.js";
import { expressionEngineFor } from "../tool/requirements.js";
import { filesWithSecondarySchemas, secondaryExpectations } from "../tool/secondary.js";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);

/** Resolve `location`/`path` of File and Directory values against `baseUrl` (the file they were read from). */
function resolveFileLocations(value: unknown, baseUrl: string): void {
  visitFiles(value, (f) => {
    if (typeof f.location === "string" && !f.location.startsWith("_:")) f.location = resolveUri(f.location, baseUrl);
    if (typeof f.path === "string") {
      const p = hasScheme(f.path) ? (urlToPath(f.path) ?? f.path) : path.resolve(path.dirname(urlToPath(baseUrl) ?? process.cwd()), f.path);
      f.path = p;
      if (f.location === undefined) f.location = pathToFileURL(p).href;
    }
  });
}

/** A job order: the input values, and requirements given with them (`cwl:requirements`). */
export interface JobOrder {
  /** The input values, File locations resolved. */
  inputs: Obj;
  /** Requirements given in the input object (`cwl:requirements`). */
  requirements: Requirement[];
}

/** Read a job order file (YAML or JSON); an empty file is an empty object. */
export async function readJobOrder(pathOrUrl: string, cwd = process.cwd()): Promise<JobOrder> {
  const url = toUrl(pathOrUrl, cwd);
  const raw = parseYaml(await fetchText(url), url);
  if (raw === null || raw === undefined) return { inputs: {}, requirements: [] };
  if (!isObj(raw)) throw new CwlInputError(`${pathOrUrl} must hold a map of input names to values, not ${Array.isArray(raw) ? "a list" : typeof raw}.`);
  const inputs = { ...raw };
  delete inputs["cwl:tool"];
  let requirements: Requirement[] = [];
  if (inputs["cwl:requirements"] !== undefined) {
    // Requirements given with the inputs get the same preprocessing as a document's (idmaps).
    const resolved = await resolveDocument({ requirements: inputs["cwl:requirements"] }, url);
    const list = (resolved.root as { requirements?: unknown }).requirements;
    requirements = (Array.isArray(list) ? list : []).filter(isObj).map((r) => ({ ...r, class: String(r.class) }));
    delete inputs["cwl:requirements"];
  }
  resolveFileLocations(inputs, url);
  return { inputs, requirements };
}

/** Record the size of each input File with a local location (expressions may read it before staging). */
export function fillLocalSizes(value: unknown): void {
  visitFiles(value, (f) => {
    if (f.class !== "File" || f.size !== undefined || f.location === undefined) return;
    const p = urlToPath(f.location);
    if (p === undefined) return;
    try {
      f.size = statSync(p).size;
    } catch {
      // A missing file is reported where it is used.
    }
  });
}

/** A Directory with a `file:` location and no listing gets its listing (deep) from disk. */
export function expandDirectoryListings(value: unknown): void {
  const expand = (d: CwlFileOrDirectory): void => {
    if (d.class !== "Directory" || d.listing !== undefined) return;
    const dir = d.location !== undefined ? urlToPath(d.location) : undefined;
    if (dir === undefined) return;
    if (!existsSync(dir)) throw new CwlInputError(`Directory ${d.location} does not exist.`);
    d[LISTED_BY_RUNNER] = true;
    d.listing = readdirSync(dir)
      .sort()
      .map((name) => {
        const p = path.join(dir, name);
        const child: CwlFileOrDirectory = statSync(p).isDirectory()
          ? { class: "Directory", location: pathToFileURL(p).href, basename: name }
          : { class: "File", location: pathToFileURL(p).href, basename: name };
        expand(child);
        return child;
      });
  };
  visitFiles(value, (f) => {
    expand(f);
    fillNames(f);
  });
}

/**
 * Secondary files of the inputs, found on disk next to their primaries (for `file:` locations)
 * when the input object does not list them. A required one that is missing is an error.
 */
export function discoverSecondaryFiles(params: readonly InputParameter[], inputs: Obj, process: Process): void {
  const engine = expressionEngineFor(process);
  for (const p of params) {
    for (const { file, schemas, where } of filesWithSecondarySchemas(p.type, inputs[p.id], p.secondaryFiles, p.id)) {
      const listed = new Set((file.secondaryFiles ?? []).map((s) => s.basename ?? (s.location ? s.location.slice(s.location.lastIndexOf("/") + 1) : "")));
      const primaryPath = file.location !== undefined ? urlToPath(file.location) : undefined;
      for (const e of secondaryExpectations(file, schemas, { inputs, runtime: {} }, engine ?? parameterReferenceEngine, true)) {
        if (e.object) {
          file.secondaryFiles = [...(file.secondaryFiles ?? []), e.object];
          continue;
        }
        const name = e.name!;
        if (listed.has(name)) continue;
        if (primaryPath === undefined) continue;
        const candidate = path.join(path.dirname(primaryPath), name);
        if (existsSync(candidate)) {
          const cls = statSync(candidate).isDirectory() ? "Directory" : "File";
          file.secondaryFiles = [...(file.secondaryFiles ?? []), fillNames({ class: cls, location: pathToFileURL(candidate).href, basename: name } as CwlFileOrDirectory)];
          listed.add(name);
        } else if (e.required) {
          throw new CwlInputError(`Input '${where}' (${file.basename}): required secondary file ${name} (pattern ${e.pattern}) not found next to it.`);
        }
      }
    }
  }
}

/** Expand `format` CURIEs of input Files with the process's `$namespaces`. */
export function expandFormats(value: unknown, namespaces: Record<string, string>): void {
  visitFiles(value, (f) => {
    if (f.class === "File" && typeof f.format === "string") f.format = expandCurie(f.format, namespaces);
  });
}

/**
 * Tool inputs given as flags after the process on the command line (`--reads a.fq --threads 4`),
 * as the reference runner accepts them. Files and Directories are paths; booleans are flags
 * (`--verbose`, `--no-verbose`); a repeated flag builds an array.
 */
export function parseInputFlags(args: readonly string[], process: Process, cwd = process_cwd()): Obj {
  const out: Obj = {};
  const byId = new Map(process.inputs.map((p) => [p.id, p]));
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith("--")) throw new CwlInputError(`Unexpected argument ${JSON.stringify(arg)}: inputs after the process are given as --name value.`);
    let name = arg.slice(2);
    let value: string | undefined;
    const eq = name.indexOf("=");
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    let negated = false;
    let param = byId.get(name);
    if (!param && name.startsWith("no-") && byId.has(name.slice(3))) {
      param = byId.get(name.slice(3));
      negated = true;
    }
    if (!param) {
      const known = [...byId.keys()].map((k) => `--${k}`).join(", ");
      throw new CwlInputError(`Unknown input --${name} (the process's inputs are: ${known || "none"}).`);
    }
    const base = scalarType(param.type);
    if (base === "boolean") {
      out[param.id] = value !== undefined ? value !== "false" : !negated;
      continue;
    }
    if (value === undefined) {
      value = args[++i];
      if (value === undefined) throw new CwlInputError(`--${name} needs a value.`);
    }
    const converted = convertFlagValue(base, value, cwd, name);
    if (isArrayType(param.type)) out[param.id] = [...((out[param.id] as unknown[] | undefined) ?? []), converted];
    else out[param.id] = converted;
  }
  return out;
}

function process_cwd(): string {
  return process.cwd();
}

function isArrayType(t: CwlType): boolean {
  if (Array.isArray(t)) return t.some(isArrayType);
  return typeof t === "object" && t.type === "array";
}

function scalarType(t: CwlType): string {
  if (Array.isArray(t)) {
    const nonNull = t.filter((x) => x !== "null");
    return nonNull.length === 1 ? scalarType(nonNull[0]!) : "string";
  }
  if (typeof t === "string") return t;
  if (t.type === "array") return scalarType(t.items);
  return t.type === "enum" ? "string" : "record";
}

function convertFlagValue(type: string, value: string, cwd: string, name: string): unknown {
  switch (type) {
    case "File":
    case "Directory":
      return { class: type, location: toUrl(value, cwd) };
    case "int":
    case "long":
    case "float":
    case "double": {
      const n = Number(value);
      if (value.trim() === "" || Number.isNaN(n)) throw new CwlInputError(`--${name} expects a number, got ${JSON.stringify(value)}.`);
      return n;
    }
    case "record":
      throw new CwlInputError(`--${name} is a record; give it in an input object file instead.`);
    default:
      return value;
  }
}
