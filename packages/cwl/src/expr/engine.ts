/**
 * Expression evaluation, as a pluggable step: an {@link ExpressionEngine} evaluates the code of one
 * `$(...)` or `${...}`; {@link evaluateExpressions} does the CWL interpolation around it. Two engines:
 * parameter references only (`$(inputs.x.path)`, no JavaScript: the default) and JavaScript (when
 * `InlineJavascriptRequirement` is in effect; javascript.ts).
 */
import { CwlExpressionError } from "../errors.js";
import { hasExpression, scanExpressions } from "./scan.js";
import { evaluateParameterReference } from "./paramref.js";
import type { ExpressionContext, ExpressionEngine } from "./types.js";

export type { ExpressionContext, ExpressionEngine } from "./types.js";

/** The engine used without `InlineJavascriptRequirement`: parameter references only. */
export const parameterReferenceEngine: ExpressionEngine = {
  interpretsBraces: false,
  evaluate(kind, code, context) {
    if (kind === "brace") throw new CwlExpressionError("${...} needs InlineJavascriptRequirement.");
    return evaluateParameterReference(code, context);
  },
};

/** JSON as Python's `json.dumps(v, sort_keys=True)` writes it (how CWL interpolation turns values into text). */
export function interpolationText(value: unknown): string {
  if (typeof value === "string") return value;
  const dump = (v: unknown): string => {
    if (v === null || v === undefined) return "null";
    if (typeof v === "boolean") return v ? "true" : "false";
    if (typeof v === "number") return Number.isFinite(v) ? JSON.stringify(v) : v > 0 ? "Infinity" : v < 0 ? "-Infinity" : "NaN";
    if (typeof v === "string") return JSON.stringify(v);
    if (Array.isArray(v)) return `[${v.map(dump).join(", ")}]`;
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}: ${dump(o[k])}`)
      .join(", ")}}`;
  };
  return dump(value);
}

/**
 * Evaluate a string that may contain expressions. A string that is one expression (after trimming
 * surrounding whitespace) evaluates to its value, of any type; otherwise the pieces are joined as
 * text. Strings without expressions are returned as they are. With `stripWhitespace: false`
 * (InitialWorkDirRequirement entries) surrounding whitespace is kept, so `$(x)` followed by a
 * newline is text.
 */
export function evaluateExpressions(value: string, context: ExpressionContext, engine: ExpressionEngine, options: { stripWhitespace?: boolean } = {}): unknown {
  if (!hasExpression(value)) return value;
  const trimmed = options.stripWhitespace === false ? value : value.trim();
  const segments = scanExpressions(trimmed).map((s) =>
    s.kind === "brace" && !engine.interpretsBraces ? ({ kind: "text", text: s.raw } as const) : s,
  );
  if (segments.length === 1 && segments[0]!.kind !== "text") {
    const only = segments[0]!;
    return engine.evaluate(only.kind, only.code, context);
  }
  let out = "";
  for (const s of segments) {
    if (s.kind === "text") out += s.text;
    else out += interpolationText(engine.evaluate(s.kind, s.code, context));
  }
  return out;
}
