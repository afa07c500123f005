/**
 * Splitting a CWL string into literal text and expressions: `$(...)` (a parameter reference or a
 * JavaScript expression) and `${...}` (a JavaScript function body). Parentheses and braces nest;
 * quotes inside an expression hide brackets; `\$(` is a literal `$(`, `\\` a literal backslash, and
 * any other backslash (`\$` before anything but a bracket) is kept.
 */
import { CwlExpressionError } from "../errors.js";

/** A piece of a scanned string. */
export type Segment = { kind: "text"; text: string } | { kind: "paren" | "brace"; code: string; raw: string };

/** Scan `s` into text and expression segments. */
export function scanExpressions(s: string): Segment[] {
  const out: Segment[] = [];
  let text = "";
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === "\\" && ((s[i + 1] === "$" && (s[i + 2] === "(" || s[i + 2] === "{")) || s[i + 1] === "\\")) {
      // `\$(` and `\${` are literal; `\\` is one backslash; any other backslash stays as it is.
      text += s[i + 1];
      i += 2;
      continue;
    }
    if (c === "$" && (s[i + 1] === "(" || s[i + 1] === "{")) {
      const open = s[i + 1]!;
      const close = open === "(" ? ")" : "}";
      const end = matchingClose(s, i + 1, close);
      if (end < 0) throw new CwlExpressionError(`Unterminated expression in ${JSON.stringify(s)}: '${open}' at ${i + 1} is never closed.`);
      if (text) out.push({ kind: "text", text });
      text = "";
      out.push({ kind: open === "(" ? "paren" : "brace", code: s.slice(i + 2, end), raw: s.slice(i, end + 1) });
      i = end + 1;
      continue;
    }
    text += c;
    i++;
  }
  if (text) out.push({ kind: "text", text });
  return out;
}

/** Index of `close`, the bracket closing the one at `start` (brackets nest; quoted strings are skipped); -1 if none. */
function matchingClose(s: string, start: number, close: string): number {
  const pairs: Record<string, string> = { "(": ")", "[": "]", "{": "}" };
  const stack: string[] = [];
  let quote: string | undefined;
  for (let i = start; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (stack.length > 0 && (c === "'" || c === '"' || c === "`")) quote = c;
    else if (pairs[c] !== undefined) stack.push(pairs[c]!);
    else if (c === ")" || c === "]" || c === "}") {
      if (stack.pop() !== c) return -1;
      if (stack.length === 0) return c === close ? i : -1;
    }
  }
  return -1;
}

/** Whether a string contains an expression at all (cheap test before scanning). */
export function hasExpression(s: string): boolean {
  return s.includes("$(") || s.includes("${");
}
