/** The interfaces of expression evaluation (see engine.ts). */

/** What an expression can see. */
export interface ExpressionContext {
  /** The process's input object (`inputs`). */
  inputs: unknown;
  /** The value in focus (`self`): an input's value, glob matches, or null. */
  self: unknown;
  /** `runtime`: outdir, tmpdir, cores, ram, outdirSize, tmpdirSize (and exitCode in outputEval). */
  runtime: Record<string, unknown>;
}

/** Evaluates the code inside one `$(...)` (kind `paren`) or `${...}` (kind `brace`). */
export interface ExpressionEngine {
  /** Whether `${...}` bodies are code (JavaScript) rather than literal text. */
  readonly interpretsBraces: boolean;
  /** Evaluate `code` (the inside of `$(...)` or `${...}`) in `context`. */
  evaluate(kind: "paren" | "brace", code: string, context: ExpressionContext): unknown;
}
