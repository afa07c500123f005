/**
 * The JavaScript expression engine (`InlineJavascriptRequirement`): each process gets its own
 * `node:vm` context, seeded once with the requirement's `expressionLib`; values go in and come out
 * as JSON, so an expression can neither see nor change the runner's objects. An expression that
 * runs longer than the time limit is stopped. (A vm context is not a security boundary: CWL
 * expressions are as trusted as the tool's own command line, which runs anyway.)
 */
import vm from "node:vm";
import { CwlExpressionError } from "../errors.js";
import type { ExpressionContext, ExpressionEngine } from "./types.js";

/** Default time limit of one expression. */
export const EXPRESSION_TIMEOUT_MS = 30_000;

/** A JavaScript engine for one process. */
export class JavaScriptEngine implements ExpressionEngine {
  readonly interpretsBraces = true;
  private context: vm.Context | undefined;

  constructor(
    private readonly expressionLib: readonly string[] = [],
    private readonly timeoutMs = EXPRESSION_TIMEOUT_MS,
  ) {}

  private ctx(): vm.Context {
    if (!this.context) {
      const c = vm.createContext({});
      for (const [i, code] of this.expressionLib.entries()) {
        try {
          vm.runInContext(code, c, { timeout: this.timeoutMs, filename: `expressionLib[${i}]` });
        } catch (err) {
          throw new CwlExpressionError(`expressionLib[${i}] failed: ${(err as Error).message}`, { cause: err });
        }
      }
      this.context = c;
    }
    return this.context;
  }

  /** Evaluate `$(code)` (an expression) or `${code}` (a function body) in this engine's context. */
  evaluate(kind: "paren" | "brace", code: string, context: ExpressionContext): unknown {
    const c = this.ctx();
    // Values enter the context as JSON parsed inside it (native arrays and objects of that realm).
    c.__cwl_in = JSON.stringify({ inputs: context.inputs ?? null, self: context.self ?? null, runtime: context.runtime });
    vm.runInContext("var __v = JSON.parse(__cwl_in); var inputs = __v.inputs, self = __v.self, runtime = __v.runtime;", c);
    const source = kind === "paren" ? `(${code}\n)` : `(function(){${code}\n})()`;
    let result: unknown;
    try {
      result = vm.runInContext(source, c, { timeout: this.timeoutMs, filename: "expression" });
    } catch (err) {
      const what = kind === "paren" ? `$(${code})` : `\${${code}}`;
      throw new CwlExpressionError(`Expression ${what.length > 200 ? `${what.slice(0, 197)}...` : what} failed: ${(err as Error).message}`, { cause: err });
    }
    if (result === undefined) return null;
    try {
      const text = JSON.stringify(result);
      return text === undefined ? null : JSON.parse(text);
    } catch (err) {
      throw new CwlExpressionError(`Expression result is not JSON data: ${(err as Error).message}`, { cause: err });
    }
  }
}
