/**
 * From a resolved, validated document to the package's model (model.ts): local names for ids and
 * sources, inlined SchemaDef types, `stdin`/`stdout`/`stderr` shortcuts expanded, numeric codes
 * and lists defaulted.
 */
import { randomBytes } from "node:crypto";
import { CwlDocumentError } from "../errors.js";
import type {
  CommandLineBinding,
  CommandOutputBinding,
  CwlRecordField,
  CwlType,
  InputParameter,
  OutputParameter,
  ParameterCommon,
  Process,
  Requirement,
  SecondaryFileSchema,
  WorkflowStep,
  WorkflowStepInput,
} from "../model.js";
import { localName, shortName } from "./uri.js";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);
const asList = <T>(v: T | T[] | undefined | null): T[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);

const PRIMITIVE = new Set(["null", "boolean", "int", "long", "float", "double", "string", "File", "Directory", "Any"]);

/** What normalization needs from the loader. */
export interface NormalizeContext {
  cwlVersion: string;
  namespaces: Record<string, string>;
  schemas: string[];
  /** Find an object by its full id in any loaded document (named types). */
  lookup(id: string): Obj | undefined;
  /** Load the process a step's `run` names (another document, or an id in this one). */
  loadRun(url: string, parent: NormalizeContext): Promise<Process>;
}

function copyDefined<T extends object>(target: T, source: Obj, keys: readonly string[]): T {
  for (const k of keys) if (source[k] !== undefined && source[k] !== null) (target as Obj)[k] = source[k];
  return target;
}

function binding(raw: unknown): CommandLineBinding | undefined {
  if (!isObj(raw)) return undefined;
  return copyDefined({}, raw, ["position", "prefix", "separate", "itemSeparator", "valueFrom", "shellQuote", "loadContents"]);
}

function outputBinding(raw: unknown): CommandOutputBinding | undefined {
  if (!isObj(raw)) return undefined;
  return copyDefined({}, raw, ["glob", "loadContents", "loadListing", "outputEval"]);
}

function secondaryFiles(raw: unknown): SecondaryFileSchema[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  return asList(raw as unknown[]).map((s) => {
    if (typeof s === "string") return { pattern: s };
    const o = s as Obj;
    const out: SecondaryFileSchema = { pattern: String(o.pattern) };
    if (o.required !== undefined) out.required = o.required as SecondaryFileSchema["required"];
    return out;
  });
}

function common(raw: Obj): ParameterCommon {
  const out: ParameterCommon = copyDefined({}, raw, ["label", "doc", "format", "loadContents", "loadListing", "streamable"]);
  const sf = secondaryFiles(raw.secondaryFiles);
  if (sf) out.secondaryFiles = sf;
  return out;
}

/** Normalize a type expression, inlining named types. */
function normType(t: unknown, ctx: NormalizeContext, seen: ReadonlySet<string>, where: string): CwlType {
  if (typeof t === "string") {
    if (PRIMITIVE.has(t)) return t as CwlType;
    const def = ctx.lookup(t);
    if (!def) throw new CwlDocumentError(`${where}: unknown type '${t}'. Define it in a SchemaDefRequirement, or check its name.`);
    if (seen.has(t)) throw new CwlDocumentError(`${where}: type '${t}' refers to itself; recursive types are not supported.`);
    return normType(def, ctx, new Set([...seen, t]), where);
  }
  if (Array.isArray(t)) return t.map((x) => normType(x, ctx, seen, where));
  if (!isObj(t)) throw new CwlDocumentError(`${where}: invalid type ${JSON.stringify(t)}.`);
  const ib = binding(t.inputBinding);
  switch (t.type) {
    case "array": {
      const out: CwlType = { type: "array", items: normType(t.items, ctx, seen, where) };
      if (ib) out.inputBinding = ib;
      return out;
    }
    case "enum": {
      const out: CwlType = { type: "enum", symbols: asList(t.symbols as string[]).map((s) => shortName(String(s))) };
      if (typeof t.name === "string") out.name = t.name;
      if (ib) out.inputBinding = ib;
      return out;
    }
    case "record": {
      const fields: CwlRecordField[] = asList(t.fields as Obj[]).map((f) => {
        const field: CwlRecordField = { name: shortName(String(f.name)), type: normType(f.type, ctx, seen, `${where}.${shortName(String(f.name))}`), ...common(f) };
        const fb = binding(f.inputBinding);
        if (fb) field.inputBinding = fb;
        const ob = outputBinding(f.outputBinding);
        if (ob) field.outputBinding = ob;
        return field;
      });
      const out: CwlType = { type: "record", fields };
      if (typeof t.name === "string") out.name = t.name;
      if (ib) out.inputBinding = ib;
      return out;
    }
    default:
      // `{type: File}` style wrapper around a named or primitive type.
      if (t.type !== undefined) return normType(t.type, ctx, seen, where);
      throw new CwlDocumentError(`${where}: invalid type ${JSON.stringify(t)}.`);
  }
}

function requirements(raw: unknown, ctx: NormalizeContext, where: string): Requirement[] {
  return asList(raw as Obj[])
    .filter(isObj)
    .map((r) => {
      const out: Requirement = { ...r, class: String(r.class) };
      if (out.class === "SchemaDefRequirement") {
        out.types = asList(r.types as unknown[]).map((t, i) => normType(t, ctx, new Set(), `${where}.SchemaDefRequirement.types[${i}]`));
      }
      return out;
    });
}

const randomName = (): string => randomBytes(20).toString("hex");

/** Normalize a resolved process object. */
export async function normalizeProcess(raw: Obj, ctx: NormalizeContext): Promise<Process> {
  const id = String(raw.id);
  const cls = String(raw.class);
  const where = id;
  const base = {
    id,
    cwlVersion: typeof raw.cwlVersion === "string" ? raw.cwlVersion : ctx.cwlVersion,
    requirements: requirements(raw.requirements, ctx, where),
    hints: requirements(raw.hints, ctx, where),
    namespaces: ctx.namespaces,
    schemas: ctx.schemas,
  };
  copyDefined(base, raw, ["label", "doc", "intent"]);
  let stdin = typeof raw.stdin === "string" ? raw.stdin : undefined;
  const inputs: InputParameter[] = asList(raw.inputs as Obj[]).map((p) => {
    const name = localName(String(p.id), id);
    let type: CwlType;
    if (p.type === "stdin") {
      // `type: stdin` is shorthand for a File fed to standard input.
      type = "File";
      stdin = `$(inputs.${name}.path)`;
    } else type = normType(p.type, ctx, new Set(), `${where} input '${name}'`);
    const param: InputParameter = { id: name, type, ...common(p) };
    if ("default" in p && p.default !== undefined) param.default = p.default;
    const ib = binding(p.inputBinding);
    if (ib) param.inputBinding = ib;
    return param;
  });
  let stdout = typeof raw.stdout === "string" ? raw.stdout : undefined;
  let stderr = typeof raw.stderr === "string" ? raw.stderr : undefined;
  const outputs: OutputParameter[] = asList(raw.outputs as Obj[]).map((p) => {
    const name = localName(String(p.id), id);
    const rawType = p.type;
    let type: CwlType;
    let ob = outputBinding(p.outputBinding);
    if (rawType === "stdout" || rawType === "stderr") {
      type = "File";
      if (rawType === "stdout") stdout ??= randomName();
      else stderr ??= randomName();
      ob = { glob: rawType === "stdout" ? stdout! : stderr! };
    } else type = normType(rawType, ctx, new Set(), `${where} output '${name}'`);
    const param: OutputParameter = { id: name, type, ...common(p) };
    if (ob) param.outputBinding = ob;
    if (p.outputSource !== undefined) {
      param.outputSource = asList(p.outputSource as string[]).map((s) => localName(s, id));
      param.outputSourceIsList = Array.isArray(p.outputSource);
    }
    copyDefined(param, p, ["linkMerge", "pickValue"]);
    return param;
  });
  switch (cls) {
    case "CommandLineTool": {
      const tool = {
        ...base,
        class: "CommandLineTool" as const,
        inputs,
        outputs,
        baseCommand: asList(raw.baseCommand as string[]).map(String),
        arguments: asList(raw.arguments as unknown[]).map((a) => (typeof a === "string" ? a : (binding(a) ?? {}))),
        successCodes: asList(raw.successCodes as number[]),
        temporaryFailCodes: asList(raw.temporaryFailCodes as number[]),
        permanentFailCodes: asList(raw.permanentFailCodes as number[]),
      };
      if (stdin !== undefined) Object.assign(tool, { stdin });
      if (stdout !== undefined) Object.assign(tool, { stdout });
      if (stderr !== undefined) Object.assign(tool, { stderr });
      return tool;
    }
    case "ExpressionTool":
      return { ...base, class: "ExpressionTool", inputs, outputs, expression: String(raw.expression) };
    case "Operation":
      return { ...base, class: "Operation", inputs, outputs };
    case "Workflow": {
      const steps: WorkflowStep[] = [];
      for (const s of asList(raw.steps as Obj[])) steps.push(await normalizeStep(s, id, ctx));
      return { ...base, class: "Workflow", inputs, outputs, steps };
    }
    default:
      throw new CwlDocumentError(`${id}: unknown process class '${cls}'.`);
  }
}

async function normalizeStep(s: Obj, wfId: string, ctx: NormalizeContext): Promise<WorkflowStep> {
  const stepId = String(s.id);
  const name = localName(stepId, wfId);
  let run: Process;
  if (typeof s.run === "string") run = await ctx.loadRun(s.run, ctx);
  else if (isObj(s.run)) run = await normalizeProcess(s.run, ctx);
  else throw new CwlDocumentError(`${wfId}: step '${name}' has no 'run'.`);
  const inputs: WorkflowStepInput[] = asList(s.in as Obj[]).map((i) => {
    const input: WorkflowStepInput = {
      id: localName(String(i.id), stepId),
      source: asList(i.source as string[]).map((src) => localName(src, wfId)),
      sourceIsList: Array.isArray(i.source),
    };
    if ("default" in i && i.default !== undefined) input.default = i.default;
    copyDefined(input, i, ["linkMerge", "pickValue", "valueFrom", "loadContents", "loadListing"]);
    return input;
  });
  const step: WorkflowStep = {
    id: name,
    in: inputs,
    out: asList(s.out as unknown[]).map((o) => localName(typeof o === "string" ? o : String((o as Obj).id), stepId)),
    run,
    requirements: requirements(s.requirements, ctx, `${wfId} step '${name}'`),
    hints: requirements(s.hints, ctx, `${wfId} step '${name}'`),
  };
  copyDefined(step, s, ["label", "doc", "scatterMethod", "when"]);
  if (s.scatter !== undefined && s.scatter !== null) step.scatter = asList(s.scatter as string[]).map((x) => localName(x, stepId));
  return step;
}
