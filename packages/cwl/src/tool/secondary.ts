/**
 * Secondary files: the name a pattern gives (`.bai` appended, each `^` removing one extension),
 * patterns that are expressions, and which declarations apply to which File values (a parameter's
 * own `secondaryFiles`, and those of record fields).
 */
import { CwlInputError } from "../errors.js";
import { evaluateExpressions, type ExpressionContext, type ExpressionEngine } from "../expr/engine.js";
import { isFileOrDirectory, type CwlFileOrDirectory } from "../files.js";
import type { CwlFile, CwlType, SecondaryFileSchema } from "../model.js";
import { matchingType } from "../types/check.js";

/** The secondary file name `pattern` gives for a primary named `primary` (`a.bam` + `^.bai` → `a.bai`). */
export function secondaryName(primary: string, pattern: string): string {
  let name = primary;
  let p = pattern;
  while (p.startsWith("^")) {
    const slash = name.lastIndexOf("/");
    const dot = name.lastIndexOf(".");
    if (dot > slash + 1) name = name.slice(0, dot);
    p = p.slice(1);
  }
  return name + p;
}

/** What one pattern asks for a given primary file. */
export interface SecondaryExpectation {
  /** Expected basename, or a File/Directory object an expression produced. */
  name?: string;
  object?: CwlFileOrDirectory;
  required: boolean;
  pattern: string;
}

/** Evaluate the patterns for one primary file. `defaultRequired`: true for inputs, false for outputs. */
export function secondaryExpectations(
  primary: CwlFile,
  schemas: readonly SecondaryFileSchema[],
  context: Omit<ExpressionContext, "self">,
  engine: ExpressionEngine,
  defaultRequired: boolean,
): SecondaryExpectation[] {
  const out: SecondaryExpectation[] = [];
  const base = primary.basename ?? "";
  for (const s of schemas) {
    let required = defaultRequired;
    if (typeof s.required === "boolean") required = s.required;
    else if (typeof s.required === "string") required = Boolean(evaluateExpressions(s.required, { ...context, self: primary }, engine));
    const isExpression = s.pattern.includes("$(") || s.pattern.includes("${");
    const value = isExpression ? evaluateExpressions(s.pattern, { ...context, self: primary }, engine) : s.pattern;
    for (const v of Array.isArray(value) ? value : [value]) {
      if (v === null || v === undefined) continue;
      // A name an expression returns is the secondary file's own name (next to the primary); a
      // plain pattern is a suffix (with `^` removing extensions).
      if (typeof v === "string") out.push({ name: isExpression ? v : secondaryName(base, v), required, pattern: s.pattern });
      else if (isFileOrDirectory(v)) out.push({ object: v, required, pattern: s.pattern });
      else throw new CwlInputError(`secondaryFiles pattern ${JSON.stringify(s.pattern)} evaluated to ${JSON.stringify(v)}, not a name or a File.`);
    }
  }
  return out;
}

/** A File value together with the secondaryFiles declarations that apply to it. */
export interface FileWithSchemas {
  file: CwlFile;
  schemas: SecondaryFileSchema[];
  /** Where the file sits, for messages (`inputs.record_input.f1`). */
  where: string;
}

/** Every File in `value` (of `type`) to which a `secondaryFiles` declaration applies. */
export function filesWithSecondarySchemas(
  type: CwlType,
  value: unknown,
  schemas: SecondaryFileSchema[] | undefined,
  where: string,
  out: FileWithSchemas[] = [],
): FileWithSchemas[] {
  if (value === null || value === undefined) return out;
  const member = matchingType(type, value) ?? type;
  if (isFileOrDirectory(value)) {
    if (value.class === "File" && schemas && schemas.length > 0) out.push({ file: value, schemas, where });
    return out;
  }
  if (Array.isArray(value)) {
    const items = typeof member === "object" && !Array.isArray(member) && member.type === "array" ? member.items : "Any";
    value.forEach((v, i) => filesWithSecondarySchemas(items, v, schemas, `${where}[${i}]`, out));
    return out;
  }
  if (typeof member === "object" && !Array.isArray(member) && member.type === "record" && typeof value === "object") {
    for (const f of member.fields) {
      filesWithSecondarySchemas(f.type, (value as Record<string, unknown>)[f.name], f.secondaryFiles, `${where}.${f.name}`, out);
    }
  }
  return out;
}
