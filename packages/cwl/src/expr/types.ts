/** The interfaces of expression evaluation (see engine.ts). */

/** What an expression can see. */
export interface ExpressionContext {
  inputs: unknown;
  self: unknown;
  runtime: Record<string, unknown>;
}

/** Evaluates the code inside one `$(...)` (kind `paren`) or `${...}` (kind `brace`). */
export interface ExpressionEngine {
  /** Whether `${...}` bodies are code (JavaScript) rather than literal text. */
  readonly interpretsBraces: boolean;
  evaluate(kind: "paren" | "brace", code: string, context: ExpressionContext): unknown;
}
