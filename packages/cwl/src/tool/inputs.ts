/**
 * Preparing a process's input object: defaults for missing or null inputs, File values completed
 * (`location` from `path`, derived names), type checking, required secondary files present,
 * formats checked against the parameter's format (and the document's ontologies), `loadContents`.
 */
import { existsSync } from "node:fs";
import { open } from "node:fs/promises";
import type { FileBackend } from "./backend.js";
import { CwlInputError } from "../errors.js";
import type { ExpressionEngine } from "../expr/engine.js";
import { evaluateExpressions } from "../expr/engine.js";
import { LISTED_BY_RUNNER, fillNames, isFileOrDirectory, visitFiles } from "../files.js";
import { expandCurie, toUrl } from "../load/uri.js";
import { findRequirement, type CwlFile, type CwlType, type InputParameter, type ProcessCommon } from "../model.js";
import { typeMismatch, matchingType } from "../types/check.js";
import { loadOntology } from "../types/format.js";
import { filesWithSecondarySchemas, secondaryExpectations } from "./secondary.js";

/** Largest file `loadContents` reads (CWL v1.2: 64 KiB). */
export const LOAD_CONTENTS_LIMIT = 64 * 1024;

const clone = <T>(v: T): T => (v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T));

/** Complete File/Directory values: `location` from `path`, `basename`/`nameroot`/`nameext`. */
function completeFileValues(value: unknown): void {
  visitFiles(value, (f) => {
    if (f.location === undefined && typeof f.path === "string") f.location = toUrl(f.path);
    fillNames(f);
  });
}

/**
 * The input object a process sees: its declared inputs only, a missing or null input replaced by
 * its default (or null), File values completed.
 */
export function applyDefaults(params: readonly InputParameter[], given: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of params) {
    let v = given[p.id];
    if ((v === undefined || v === null) && "default" in p) v = clone(p.default);
    out[p.id] = v === undefined ? null : v;
  }
  completeFileValues(out);
  return out;
}

/** Check every input against its type; throws {@link CwlInputError} naming the first mismatch. */
export function checkInputTypes(params: readonly InputParameter[], inputs: Record<string, unknown>, where: string): void {
  for (const p of params) {
    const e = typeMismatch(p.type, inputs[p.id], `${where} input '${p.id}'`);
    if (e !== undefined) {
      const missing = inputs[p.id] === null || inputs[p.id] === undefined;
      throw new CwlInputError(missing ? `${where}: missing required input '${p.id}' (type ${describe(p.type)}).` : `${e}.`);
    }
  }
}

function describe(t: CwlType): string {
  return typeof t === "string" ? t : JSON.stringify(t);
}

/** Required secondary files of every input must be listed with their primary file. */
export function checkSecondaryFiles(params: readonly InputParameter[], inputs: Record<string, unknown>, engine: ExpressionEngine, where: string): void {
  for (const p of params) {
    for (const { file, schemas, where: at } of filesWithSecondarySchemas(p.type, inputs[p.id], p.secondaryFiles, p.id)) {
      const present = new Set((file.secondaryFiles ?? []).map((s) => s.basename ?? ""));
      for (const e of secondaryExpectations(file, schemas, { inputs, runtime: {} }, engine, true)) {
        if (e.name !== undefined && e.required && !present.has(e.name.slice(e.name.lastIndexOf("/") + 1))) {
          throw new CwlInputError(`${where}: input '${at}' (${file.basename}) is missing its required secondary file ${e.name} (pattern ${e.pattern}).`);
        }
      }
    }
  }
}

/** Each File input with a declared `format` must have that format (or a subclass/equivalent of it). */
export async function checkFormats(
  process: Pick<ProcessCommon, "inputs" | "namespaces" | "schemas">,
  inputs: Record<string, unknown>,
  engine: ExpressionEngine,
  where: string,
): Promise<void> {
  const checks: { file: CwlFile; formats: string[]; at: string }[] = [];
  const collect = (type: CwlType, value: unknown, format: unknown, at: string): void => {
    if (value === null || value === undefined) return;
    const member = matchingType(type, value) ?? type;
    if (isFileOrDirectory(value)) {
      if (value.class === "File" && format !== undefined && format !== null) {
        const evaluated = typeof format === "string" ? evaluateExpressions(format, { inputs, self: value, runtime: {} }, engine) : format;
        const formats = (Array.isArray(evaluated) ? evaluated : [evaluated]).filter((f): f is string => typeof f === "string");
        checks.push({ file: value, formats: formats.map((f) => expandCurie(f, process.namespaces)), at });
      }
      return;
    }
    if (Array.isArray(value)) {
      const items = typeof member === "object" && !Array.isArray(member) && member.type === "array" ? member.items : "Any";
      value.forEach((v, i) => collect(items, v, format, `${at}[${i}]`));
      return;
    }
    if (typeof member === "object" && !Array.isArray(member) && member.type === "record" && typeof value === "object") {
      for (const f of member.fields) collect(f.type, (value as Record<string, unknown>)[f.name], f.format, `${at}.${f.name}`);
    }
  };
  for (const p of process.inputs) collect(p.type, inputs[p.id], p.format, p.id);
  for (const c of checks) {
    if (c.formats.length === 0) continue;
    const fmt = c.file.format;
    if (typeof fmt !== "string") {
      throw new CwlInputError(`${where}: input '${c.at}' (${c.file.basename}) has no format, but the tool expects ${c.formats.join(" or ")}.`);
    }
    const actual = expandCurie(fmt, process.namespaces);
    if (c.formats.includes(actual)) continue;
    const ontology = await loadOntology(process.schemas);
    if (c.formats.some((f) => ontology.isSubclassOf(actual, f))) continue;
    throw new CwlInputError(`${where}: input '${c.at}' (${c.file.basename}) has format ${actual}, but the tool expects ${c.formats.join(" or ")}.`);
  }
}

/** Read up to 64 KiB of a local file for `contents`; a larger file is an error (CWL v1.2). */
export async function readContents(file: string, label: string): Promise<string> {
  const fh = await open(file, "r");
  try {
    const buf = Buffer.alloc(LOAD_CONTENTS_LIMIT + 1);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    if (bytesRead > LOAD_CONTENTS_LIMIT) {
      throw new CwlInputError(`loadContents: ${label} is larger than 64 KiB; read it in the tool instead.`);
    }
    return buf.subarray(0, bytesRead).toString("utf8");
  } finally {
    await fh.close();
  }
}

/** The contents of a File for `loadContents`: read through the backend (at most 64 KiB; larger is an error). */
async function contentsOf(file: CwlFile, backend: FileBackend, label: string): Promise<string> {
  if (typeof file.path === "string" && existsSync(file.path)) return readContents(file.path, label);
  if (typeof file.contents === "string") return file.contents;
  if (file.location === undefined) throw new CwlInputError(`loadContents: ${label} has no location.`);
  const head = await backend.readHead(file.location, LOAD_CONTENTS_LIMIT + 1);
  if (head.length > LOAD_CONTENTS_LIMIT) throw new CwlInputError(`loadContents: ${label} is larger than 64 KiB; read it in the tool instead.`);
  return head.toString("utf8");
}

/** Fill `contents` of the Files in `value` (a File or a list of them). */
export async function loadContentsInto(value: unknown, backend: FileBackend, label: string): Promise<void> {
  for (const f of Array.isArray(value) ? value : [value]) {
    if (isFileOrDirectory(f) && f.class === "File") f.contents = await contentsOf(f, backend, `${label} (${f.basename})`);
  }
}

/** `loadContents` of inputs (parameter-level, or the deprecated inputBinding-level): fills `contents` of their Files. */
export async function loadInputContents(params: readonly InputParameter[], inputs: Record<string, unknown>, backend: FileBackend): Promise<void> {
  for (const p of params) {
    if (!(p.loadContents ?? p.inputBinding?.loadContents)) continue;
    await loadContentsInto(inputs[p.id], backend, `input '${p.id}'`);
  }
}

/**
 * The input object as expressions see it: a Directory's `listing` kept as deep as `loadListing`
 * says (the parameter's, else LoadListingRequirement's, else `no_listing`; `deep_listing` for
 * CWL v1.0 documents, as the reference runner upgrades them). The staged values keep their full
 * listings.
 */
export function listingView(
  process: Pick<ProcessCommon, "inputs" | "requirements" | "hints" | "cwlVersion">,
  inputs: Record<string, unknown>,
): Record<string, unknown> {
  const req = findRequirement(process, "LoadListingRequirement")?.req.loadListing;
  const fallback = (typeof req === "string" ? req : undefined) ?? (process.cwlVersion === "v1.0" ? "deep_listing" : "no_listing");
  const trim = (v: unknown, depth: "no_listing" | "shallow_listing" | "deep_listing"): unknown => {
    if (Array.isArray(v)) return v.map((x) => trim(x, depth));
    if (v === null || typeof v !== "object") return v;
    const o = v as Record<string, unknown>;
    if (o.class === "Directory") {
      const { listing, [LISTED_BY_RUNNER]: byRunner, ...rest } = o;
      if (!Array.isArray(listing)) return rest;
      // A listing the user wrote out (a Directory literal) is kept whole; one the runner read from
      // disk is kept as deep as loadListing says.
      const effective = byRunner === true ? depth : "deep_listing";
      if (effective === "no_listing") return rest;
      const below = effective === "shallow_listing" ? "no_listing" : "deep_listing";
      return { ...rest, listing: listing.map((e) => (isFileOrDirectory(e) && e.class === "Directory" ? trim(e, byRunner === true ? below : depth) : e)) };
    }
    if (o.class === "File") return o;
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, trim(x, depth)]));
  };
  const out: Record<string, unknown> = { ...inputs };
  for (const p of process.inputs) {
    const depth = (p.loadListing ?? fallback) as "no_listing" | "shallow_listing" | "deep_listing";
    out[p.id] = trim(inputs[p.id], depth);
  }
  return out;
}
