/**
 * The CWL type system: does a value fit a type (null, boolean, int, long, float, double, string,
 * File, Directory, Any, arrays, records, enums, unions)?
 */
import type { CwlType } from "../model.js";

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

const INT32 = 2 ** 31;

/** Short description of a type for messages. */
export function describeType(t: CwlType): string {
  if (typeof t === "string") return t;
  if (Array.isArray(t)) return t.map(describeType).join(" | ");
  if (t.type === "array") return `${describeType(t.items)}[]`;
  if (t.type === "enum") return `enum(${t.symbols.join(", ")})`;
  return `record{${t.fields.map((f) => `${f.name}: ${describeType(f.type)}`).join(", ")}}`;
}

function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 100 ? `${s.slice(0, 97)}...` : s;
}

/** How strict a type check is. */
export interface TypeCheckOptions {
  /** `Any` accepts null too (outputs: a tool may leave an `Any` output empty). */
  anyAcceptsNull?: boolean;
}

/**
 * Check `value` against `type`. Returns undefined when it fits, else a message naming the place
 * (`where`) and the mismatch.
 */
export function typeMismatch(type: CwlType, value: unknown, where: string, options: TypeCheckOptions = {}): string | undefined {
  if (Array.isArray(type)) {
    const errors: string[] = [];
    for (const t of type) {
      const e = typeMismatch(t, value, where, options);
      if (e === undefined) return undefined;
      errors.push(e);
    }
    // One error only when exactly one alternative could plausibly apply.
    const nonNull = type.filter((t) => t !== "null");
    if (nonNull.length === 1 && value !== null && value !== undefined) return errors[type.indexOf(nonNull[0]!)];
    return `${where}: ${show(value)} is not a valid ${describeType(type)}`;
  }
  const bad = (): string => `${where}: expected ${describeType(type)}, got ${show(value)}`;
  if (typeof type === "string") {
    switch (type) {
      case "null":
        return value === null || value === undefined ? undefined : bad();
      case "Any":
        return (value === null || value === undefined) && !options.anyAcceptsNull ? `${where}: a value is required (type Any does not accept null)` : undefined;
      case "boolean":
        return typeof value === "boolean" ? undefined : bad();
      case "int":
        return typeof value === "number" && Number.isInteger(value) && value >= -INT32 && value < INT32 ? undefined : bad();
      case "long":
        return typeof value === "number" && Number.isInteger(value) ? undefined : bad();
      case "float":
      case "double":
        return typeof value === "number" ? undefined : bad();
      case "string":
        return typeof value === "string" ? undefined : bad();
      case "File":
      case "Directory":
        return isObj(value) && value.class === type ? undefined : bad();
      default:
        return bad();
    }
  }
  switch (type.type) {
    case "array": {
      if (!Array.isArray(value)) return bad();
      for (const [i, v] of value.entries()) {
        const e = typeMismatch(type.items, v, `${where}[${i}]`, options);
        if (e !== undefined) return e;
      }
      return undefined;
    }
    case "enum":
      return typeof value === "string" && type.symbols.includes(value) ? undefined : bad();
    case "record": {
      if (!isObj(value) || value.class === "File" || value.class === "Directory") return bad();
      for (const f of type.fields) {
        const e = typeMismatch(f.type, value[f.name], `${where}.${f.name}`, options);
        if (e !== undefined) return e;
      }
      return undefined;
    }
  }
}

/** The member of a union (or the type itself) that `value` fits, or undefined. */
export function matchingType(type: CwlType, value: unknown): CwlType | undefined {
  if (Array.isArray(type)) {
    for (const t of type) {
      const m = matchingType(t, value);
      if (m !== undefined) return m;
    }
    return undefined;
  }
  return typeMismatch(type, value, "") === undefined ? type : undefined;
}

/** Whether the type accepts null. */
export function isOptional(type: CwlType): boolean {
  return type === "null" || (Array.isArray(type) && type.some(isOptional));
}
