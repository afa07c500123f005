/**
 * The JavaScript expression engine (`InlineJavascriptRequirement`), in a real sandbox: QuickJS
 * compiled to WebAssembly (quickjs-emscripten), a JavaScript engine of its own with its own heap.
 *
 * Why not `node:vm`: a vm context shares the worker's V8 isolate. Its global object leads back to
 * the worker's realm unless carefully cut off (`this.constructor.constructor('return process')()`
 * returned the worker's `process` in the first version of this engine), code the expression hands
 * back (a `toJSON`, a getter, a promise callback) runs outside the time limit, and a promise the
 * expression rejects (`import()` in a vm context, any `async` function that throws) reaches the
 * worker as an unhandled rejection, which ends a warm worker that runs other jobs. Memory cannot be
 * bounded. In QuickJS none of this can happen: nothing of the worker exists there, values cross as
 * JSON text, promises stay inside, and both time and memory are limited. It costs about 30 ms to
 * load once per process (only in processes that evaluate JavaScript) and well under a millisecond
 * per evaluation.
 *
 * Each evaluation gets a fresh QuickJS context with the requirement's `expressionLib` loaded, then
 * `inputs`, `self` and `runtime` as globals; an expression cannot leave anything behind for the next.
 */
import type { QuickJSContext, QuickJSRuntime, QuickJSWASMModule } from "quickjs-emscripten-core";
import { CwlExpressionError } from "../errors.js";
import type { ExpressionContext, ExpressionEngine } from "./types.js";

/** Default time limit of one expression. */
export const EXPRESSION_TIMEOUT_MS = 30_000;

/** Environment variable that sets the time limit of one expression, in seconds (`toil-cwl-runner --eval-timeout`). */
export const EVAL_TIMEOUT_ENV = "TOIL_CWL_EVAL_TIMEOUT";

/** The time limit of one expression: `$TOIL_CWL_EVAL_TIMEOUT` seconds, else {@link EXPRESSION_TIMEOUT_MS}. */
export function expressionTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const seconds = Number(env[EVAL_TIMEOUT_ENV]);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : EXPRESSION_TIMEOUT_MS;
}

/** Memory one evaluation may use (QuickJS heap). */
export const EXPRESSION_MEMORY_LIMIT = 512 * 1024 * 1024;

let sandbox: { module: QuickJSWASMModule; runtime: QuickJSRuntime } | undefined;
let loading: Promise<void> | undefined;

/**
 * Load the JavaScript sandbox (once per process; about 30 ms). Every entry point that may evaluate
 * JavaScript awaits it first: {@link JavaScriptEngine} evaluates synchronously.
 */
export function loadJavaScriptEngine(): Promise<void> {
  loading ??= (async () => {
    const [{ newQuickJSWASMModuleFromVariant }, variant] = await Promise.all([import("quickjs-emscripten-core"), import("@jitl/quickjs-singlefile-mjs-release-sync")]);
    const module = await newQuickJSWASMModuleFromVariant(variant.default);
    sandbox = { module, runtime: newRuntime(module) };
  })();
  return loading;
}

function newRuntime(module: QuickJSWASMModule): QuickJSRuntime {
  return module.newRuntime();
}

/** What {@link usesJavaScript} looks at: requirements and hints, and a workflow's steps and their processes. */
interface JavaScriptHolder {
  requirements: readonly { class: string }[];
  hints: readonly { class: string }[];
  steps?: readonly (JavaScriptHolder & { run: JavaScriptHolder })[];
}

/** Whether InlineJavascriptRequirement is in effect anywhere in a process (its steps and their processes included). */
export function usesJavaScript(p: JavaScriptHolder): boolean {
  const has = (h: JavaScriptHolder): boolean => [...h.requirements, ...h.hints].some((r) => r.class === "InlineJavascriptRequirement");
  return has(p) || (p.steps ?? []).some((s) => has(s) || usesJavaScript(s.run));
}

/** Load the JavaScript sandbox if `p` may evaluate JavaScript. */
export async function loadJavaScriptEngineFor(p: JavaScriptHolder): Promise<void> {
  if (sandbox === undefined && usesJavaScript(p)) await loadJavaScriptEngine();
}

/** Whether {@link loadJavaScriptEngine} has finished. */
export function javaScriptEngineLoaded(): boolean {
  return sandbox !== undefined;
}

/** Runs the code in `__cwl_code` at the top level and answers as text: `v<json>`, `u` (undefined), `e<message>`. */
const RUN = `(function () {
  try {
    var __r = (0, eval)(__cwl_code);
    if (__r === undefined) return "u";
    var __s = JSON.stringify(__r);
    return __s === undefined ? "u" : "v" + __s;
  } catch (__e) {
    try {
      return "e" + (__e !== null && typeof __e === "object" && "message" in __e ? String(__e.message) : String(__e));
    } catch (__e2) {
      return "ean error that cannot be shown as text";
    }
  }
})()`;

/** A JavaScript engine for one process (its `expressionLib`). */
export class JavaScriptEngine implements ExpressionEngine {
  readonly interpretsBraces = true;

  constructor(
    private readonly expressionLib: readonly string[] = [],
    private readonly timeoutMs = expressionTimeoutMs(),
    private readonly memoryLimit = EXPRESSION_MEMORY_LIMIT,
  ) {}

  /** An error message from inside the sandbox, with QuickJS's own limits said in words. */
  private explain(message: string): string {
    if (message === "interrupted") return `it ran longer than the time limit of ${this.timeoutMs / 1000} s and was stopped`;
    if (message === "out of memory") return `it used more than ${this.memoryLimit / 2 ** 20} MiB and was stopped`;
    return message;
  }

  /** Run `code` at the context's top level under the time limit; the answer as text (see RUN). */
  private run(runtime: QuickJSRuntime, ctx: QuickJSContext, code: string, what: string): string {
    const deadline = Date.now() + this.timeoutMs;
    runtime.setInterruptHandler(() => Date.now() > deadline);
    const text = ctx.newString(code);
    ctx.setProp(ctx.global, "__cwl_code", text);
    text.dispose();
    const result = ctx.evalCode(RUN, "expression.js");
    if (result.error) {
      // Only what stops QuickJS itself gets here: the time limit, or the memory limit.
      const err = ctx.dump(result.error) as { message?: string } | undefined;
      result.error.dispose();
      throw new CwlExpressionError(`${what} failed: ${this.explain(err?.message ?? String(err))}`);
    }
    const out = ctx.typeof(result.value) === "string" ? ctx.getString(result.value) : "ethe expression replaced the runner's helper";
    result.value.dispose();
    return out;
  }

  /** Evaluate `$(code)` (an expression) or `${code}` (a function body) in a fresh context. */
  evaluate(kind: "paren" | "brace", code: string, context: ExpressionContext): unknown {
    if (!sandbox) throw new CwlExpressionError("The JavaScript engine is not loaded: await loadJavaScriptEngine() before evaluating expressions.");
    const { runtime } = sandbox;
    runtime.setMemoryLimit(this.memoryLimit);
    const what = `Expression ${shorten(kind === "paren" ? `$(${code})` : `\${${code}}`)}`;
    const ctx = runtime.newContext();
    try {
      for (const [i, lib] of this.expressionLib.entries()) {
        const out = this.run(runtime, ctx, `${lib}\n;undefined`, `expressionLib[${i}]`);
        if (out.startsWith("e")) throw new CwlExpressionError(`expressionLib[${i}] failed: ${this.explain(out.slice(1))}`);
      }
      const values = ctx.newString(JSON.stringify({ inputs: context.inputs ?? null, self: context.self ?? null, runtime: context.runtime }));
      ctx.setProp(ctx.global, "__cwl_in", values);
      values.dispose();
      // Globals, so that expressionLib functions see them too.
      const body = kind === "paren" ? `(${code}\n)` : `(function(){${code}\n})()`;
      const out = this.run(runtime, ctx, `var __v = JSON.parse(__cwl_in); var inputs = __v.inputs, self = __v.self, runtime = __v.runtime; ${body}`, what);
      if (out.startsWith("e")) throw new CwlExpressionError(`${what} failed: ${this.explain(out.slice(1))}`);
      return out === "u" ? null : JSON.parse(out.slice(1));
    } finally {
      ctx.dispose();
      if (runtime.hasPendingJob()) {
        // Promise callbacks the expression left behind never run: a fresh runtime drops them.
        runtime.dispose();
        sandbox.runtime = newRuntime(sandbox.module);
      }
    }
  }
}

function shorten(s: string): string {
  return s.length > 200 ? `${s.slice(0, 197)}...` : s;
}
