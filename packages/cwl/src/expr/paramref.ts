/**
 * Parameter references, the expressions CWL allows without JavaScript: `inputs.x`, `self[0].path`,
 * `inputs['b az']`, `inputs.list.length`, `runtime.outdir`.
 */
import { CwlExpressionError } from "../errors.js";
import type { ExpressionContext } from "./types.js";

const SEGMENT = /^(?:\.(\w+)|\['((?:[^'\\]|\\.)*)'\]|\["((?:[^"\\]|\\.)*)"\]|\[(\d+)\])/;

type Step = { key: string } | { index: number };

/** Parse `inputs.a['b'][0]` into its root and steps, or undefined if it is not a parameter reference. */
function parseParameterReference(code: string): { root: string; steps: Step[] } | undefined {
  const m = /^\s*(\w+)/.exec(code);
  if (!m) return undefined;
  const steps: Step[] = [];
  let rest = code.slice(m[0].length).trimEnd();
  while (rest.length > 0) {
    const s = SEGMENT.exec(rest);
    if (!s) return undefined;
    if (s[1] !== undefined) steps.push({ key: s[1] });
    else if (s[2] !== undefined) steps.push({ key: s[2].replace(/\\(.)/g, "$1") });
    else if (s[3] !== undefined) steps.push({ key: s[3].replace(/\\(.)/g, "$1") });
    else steps.push({ index: Number(s[4]) });
    rest = rest.slice(s[0].length);
  }
  return { root: m[1]!, steps };
}

/** Evaluate a parameter reference against `inputs`, `self` and `runtime`. */
export function evaluateParameterReference(code: string, context: ExpressionContext): unknown {
  const ref = parseParameterReference(code);
  if (!ref) {
    throw new CwlExpressionError(
      `$(${code}) is not a parameter reference (like inputs.x, self[0].path or runtime.outdir); JavaScript expressions need InlineJavascriptRequirement.`,
    );
  }
  let value: unknown;
  if (ref.root === "inputs") value = context.inputs;
  else if (ref.root === "self") value = context.self;
  else if (ref.root === "runtime") value = context.runtime;
  else if (ref.root === "null" && ref.steps.length === 0) return null;
  else throw new CwlExpressionError(`$(${code}): unknown name '${ref.root}' (a parameter reference starts with inputs, self or runtime).`);
  let path = ref.root;
  for (const step of ref.steps) {
    if ("index" in step) {
      if (!Array.isArray(value)) throw new CwlExpressionError(`$(${code}): ${path} is not a list, so [${step.index}] cannot be taken.`);
      if (step.index >= value.length) throw new CwlExpressionError(`$(${code}): ${path} has ${value.length} items, so [${step.index}] is out of range.`);
      value = value[step.index];
      path += `[${step.index}]`;
      continue;
    }
    if (Array.isArray(value)) {
      if (step.key === "length") value = value.length;
      else throw new CwlExpressionError(`$(${code}): ${path} is a list; it has no field '${step.key}'.`);
    } else if (value !== null && typeof value === "object") {
      if (!(step.key in (value as object))) {
        throw new CwlExpressionError(`$(${code}): ${path} has no field '${step.key}'.`);
      }
      value = (value as Record<string, unknown>)[step.key];
    } else {
      throw new CwlExpressionError(`$(${code}): ${path} is ${value === null || value === undefined ? "null" : `a ${typeof value}`}, so it has no field '${step.key}'.`);
    }
    path += `.${step.key}`;
  }
  return value === undefined ? null : value;
}
