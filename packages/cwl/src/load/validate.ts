/**
 * Validation of a resolved CWL document against the record types of the CWL v1.2 schema: every
 * field known (extension fields must be namespaced, `prefix:name`), every value of its declared
 * type, required fields present. Errors name the place (`inputs[2].type`) and what was expected.
 */
import { CwlDocumentError } from "../errors.js";
import { schemaTable, type SchemaRecord, type SchemaType } from "./schema.js";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);

const PRIMITIVES: Record<string, (v: unknown) => boolean> = {
  null: (v) => v === null || v === undefined,
  boolean: (v) => typeof v === "boolean",
  int: (v) => typeof v === "number" && Number.isInteger(v),
  long: (v) => typeof v === "number" && Number.isInteger(v),
  float: (v) => typeof v === "number",
  double: (v) => typeof v === "number",
  string: (v) => typeof v === "string",
  Any: (v) => v !== null && v !== undefined,
};

function describe(t: SchemaType): string {
  if (typeof t === "string") return t;
  if (Array.isArray(t)) return t.map(describe).join(" | ");
  if ("array" in t) return `array of ${describe(t.array)}`;
  if ("enum" in t) return `one of ${t.enum.join(", ")}`;
  return `map of ${describe(t.map)}`;
}

function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** Whether `value` is of `type`; problems go to `errors` (only for the alternative that fits best). */
function check(value: unknown, type: SchemaType, where: string, errors: string[]): boolean {
  if (typeof type === "string") {
    const prim = PRIMITIVES[type];
    if (prim) {
      if (prim(value)) return true;
      errors.push(`${where}: expected ${type}, got ${show(value)}`);
      return false;
    }
    const symbols = schemaTable.enums[type];
    if (symbols) {
      if (typeof value === "string" && symbols.includes(value)) return true;
      errors.push(`${where}: expected one of ${symbols.join(", ")}, got ${show(value)}`);
      return false;
    }
    const rec = schemaTable.records[type];
    if (rec) return checkRecord(value, type, rec, where, errors);
    errors.push(`${where}: unknown schema type ${type}`);
    return false;
  }
  if (Array.isArray(type)) return checkUnion(value, type, where, errors);
  if ("array" in type) {
    if (!Array.isArray(value)) {
      errors.push(`${where}: expected a list (${describe(type)}), got ${show(value)}`);
      return false;
    }
    let ok = true;
    value.forEach((v, i) => {
      if (!check(v, type.array, `${where}[${i}]`, errors)) ok = false;
    });
    return ok;
  }
  if ("enum" in type) {
    if (typeof value === "string" && type.enum.includes(value)) return true;
    errors.push(`${where}: expected ${describe(type)}, got ${show(value)}`);
    return false;
  }
  if (!isObj(value)) {
    errors.push(`${where}: expected a map, got ${show(value)}`);
    return false;
  }
  let ok = true;
  for (const [k, v] of Object.entries(value)) if (!check(v, type.map, `${where}.${k}`, errors)) ok = false;
  return ok;
}

/** Does the value name this record (by its `class` or `type` discriminator)? undefined: no discriminator. */
function discriminates(value: unknown, rec: SchemaRecord): boolean | undefined {
  if (!isObj(value)) return false;
  if (rec.classSymbol !== undefined) return value.class === rec.classSymbol;
  if (rec.typeSymbol !== undefined) return value.type === rec.typeSymbol;
  return undefined;
}

function checkUnion(value: unknown, types: SchemaType[], where: string, errors: string[]): boolean {
  const attempts: { type: SchemaType; errors: string[]; matched: boolean }[] = [];
  for (const t of types) {
    const errs: string[] = [];
    if (check(value, t, where, errs)) return true;
    const rec = typeof t === "string" ? schemaTable.records[t] : undefined;
    attempts.push({ type: t, errors: errs, matched: rec !== undefined && discriminates(value, rec) === true });
  }
  // Report the alternative the value claims to be (its class/type), else the one record it resembles.
  const claimed = attempts.find((a) => a.matched);
  if (claimed) {
    errors.push(...claimed.errors);
    return false;
  }
  const records = attempts.filter((a) => typeof a.type === "string" && schemaTable.records[a.type] && isObj(value));
  const undiscriminated = records.filter((a) => discriminates(value, schemaTable.records[a.type as string]!) === undefined);
  if (undiscriminated.length === 1) {
    errors.push(...undiscriminated[0]!.errors);
    return false;
  }
  if (isObj(value) && typeof value.class === "string") {
    errors.push(`${where}: ${show(value.class)} is not a valid class here (expected ${describe(types.filter((t) => t !== "null"))})`);
    return false;
  }
  errors.push(`${where}: expected ${describe(types)}, got ${show(value)}`);
  return false;
}

function checkRecord(value: unknown, name: string, rec: SchemaRecord, where: string, errors: string[]): boolean {
  if (!isObj(value)) {
    errors.push(`${where}: expected a ${name} object, got ${show(value)}`);
    return false;
  }
  if (discriminates(value, rec) === false) {
    const key = rec.classSymbol !== undefined ? "class" : "type";
    errors.push(`${where}: expected ${key} ${rec.classSymbol ?? rec.typeSymbol}, got ${show(value[key])}`);
    return false;
  }
  let ok = true;
  for (const [k, v] of Object.entries(value)) {
    const field = rec.fields[k];
    if (field === undefined) {
      // Extension fields are namespaced (`cwltool:foo`, or a full IRI); `$namespaces` and friends are directives.
      if (k.includes(":") || k.startsWith("$")) continue;
      errors.push(`${where}: invalid field '${k}' for ${name} (valid fields: ${Object.keys(rec.fields).join(", ")})`);
      ok = false;
      continue;
    }
    if (!check(v, field.type, `${where}.${k}`, errors)) ok = false;
  }
  for (const [k, field] of Object.entries(rec.fields)) {
    if (k in value || field.default !== undefined) continue;
    if (!check(undefined, field.type, `${where}.${k}`, [])) {
      errors.push(`${where}: missing required field '${k}' of ${name}`);
      ok = false;
    }
  }
  return ok;
}

/** Validate a process object (a document root); throws {@link CwlDocumentError} listing what is wrong. */
export function validateProcess(process: Obj, source: string): void {
  const roots = Object.entries(schemaTable.records)
    .filter(([, r]) => r.documentRoot === true)
    .map(([n]) => n);
  const errors: string[] = [];
  if (!check(process, roots, "", errors)) {
    const lines = errors.slice(0, 12).map((e) => `  ${e.replace(/^\./, "") || "(document)"}`);
    if (errors.length > 12) lines.push(`  ... and ${errors.length - 12} more`);
    throw new CwlDocumentError(`${source} is not a valid CWL v1.2 document:\n${lines.join("\n")}`);
  }
}
