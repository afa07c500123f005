import { beforeAll, describe, expect, it } from "vitest";
import { CwlExpressionError, JavaScriptEngine, evaluateExpressions, interpolationText, loadJavaScriptEngine, parameterReferenceEngine } from "../src/index.js";
import { scanExpressions } from "../src/expr/scan.js";

const ctx = {
  inputs: { x: { path: "/a/b.txt", size: 3 }, list: [1, 2, 3], "b az": "spaced", n: 0, rec: { length: 7 } },
  self: [{ contents: "hi\n" }],
  runtime: { outdir: "/out", cores: 2 },
};

describe("scanning", () => {
  it("splits text and expressions, honouring nesting, quotes and escapes", () => {
    expect(scanExpressions("a $(inputs.x['p)']) b ${ return {a: (1)}; } \\$(no)")).toEqual([
      { kind: "text", text: "a " },
      { kind: "paren", code: "inputs.x['p)']", raw: "$(inputs.x['p)'])" },
      { kind: "text", text: " b " },
      { kind: "brace", code: " return {a: (1)}; ", raw: "${ return {a: (1)}; }" },
      { kind: "text", text: " $(no)" },
    ]);
  });

  it("keeps a backslash that escapes nothing (before a $ that starts no expression, or any other character)", () => {
    expect(scanExpressions("'\\$' '\\\\$' '\\x' $(a)")).toEqual([
      { kind: "text", text: "'\\$' '\\$' '\\x' " },
      { kind: "paren", code: "a", raw: "$(a)" },
    ]);
  });
});

describe("parameter references (no JavaScript)", () => {
  const ev = (s: string): unknown => evaluateExpressions(s, ctx, parameterReferenceEngine);

  it("a whole-string reference keeps its type; embedded ones become text", () => {
    expect(ev("$(inputs.x.size)")).toBe(3);
    expect(ev("$(inputs.list)")).toEqual([1, 2, 3]);
    expect(ev("-$(inputs.x.path)-")).toBe("-/a/b.txt-");
    expect(ev("$(inputs['b az']) $(inputs.list.length) $(self[0].contents)")).toBe("spaced 3 hi\n");
    expect(ev("$(runtime.outdir)")).toBe("/out");
  });

  it("a record field named length is a field; .length of a list is its length; of anything else an error", () => {
    expect(ev("$(inputs.rec.length)")).toBe(7);
    expect(() => ev("$(inputs.n.length)")).toThrow(CwlExpressionError);
    expect(() => ev("$(inputs.missing.x)")).toThrow(/inputs has no field 'missing'/);
  });

  it("JavaScript needs InlineJavascriptRequirement; ${...} is left as text", () => {
    expect(() => ev("$(1 + 2)")).toThrow(/InlineJavascriptRequirement/);
    expect(ev("${return 1}")).toBe("${return 1}");
  });

  it("objects become JSON with sorted keys, as the reference runner writes them", () => {
    expect(interpolationText({ b: 1, a: [true, null, "s"] })).toBe('{"a": [true, null, "s"], "b": 1}');
    expect(ev("x=$(inputs.x)")).toBe('x={"path": "/a/b.txt", "size": 3}');
  });
});

describe("JavaScript expressions", () => {
  beforeAll(() => loadJavaScriptEngine());

  it("evaluates $() and ${} with inputs, self, runtime and the expressionLib", () => {
    const js = new JavaScriptEngine(["function twice(v) { return 2 * v; }", "function inputCount() { return inputs.list.length; }"]);
    expect(evaluateExpressions("$(twice(inputs.list.length))", ctx, js)).toBe(6);
    expect(evaluateExpressions("${ return self[0].contents.trim() + runtime.cores; }", ctx, js)).toBe("hi2");
    expect(evaluateExpressions("$(inputs.list.map(function(v){return v*v;}))", ctx, js)).toEqual([1, 4, 9]);
    // expressionLib functions see inputs, self and runtime as globals.
    expect(evaluateExpressions("$(inputCount())", ctx, js)).toBe(3);
  });

  it("an expression cannot change the inputs it was given, nor leave anything for the next one", () => {
    const js = new JavaScriptEngine();
    const inputs = { a: [1] };
    evaluateExpressions("${ inputs.a.push(2); globalThis.left = 1; return null; }", { inputs, self: null, runtime: {} }, js);
    expect(inputs.a).toEqual([1]);
    expect(evaluateExpressions("$(typeof left)", ctx, js)).toBe("undefined");
  });

  it("reaches nothing of the runner: no process, require, module loader or host prototypes", () => {
    const js = new JavaScriptEngine();
    const ev = (code: string): unknown => evaluateExpressions(code, ctx, js);
    expect(ev("$(typeof process + ' ' + typeof require + ' ' + typeof globalThis.Buffer)")).toBe("undefined undefined undefined");
    expect(ev("$(this.constructor.constructor('return typeof process')())")).toBe("undefined");
    expect(ev("$(inputs.constructor.constructor('return typeof process')())")).toBe("undefined");
    // import() gives a promise that never settles into a module: nothing to load modules with.
    expect(ev("$(import('node:fs'))")).toEqual({});
  });

  it("an expression that throws fails with the expression and its error", () => {
    const js = new JavaScriptEngine();
    expect(() => evaluateExpressions("$(nope.x)", ctx, js)).toThrow(/Expression \$\(nope\.x\) failed: .*nope/);
    expect(() => evaluateExpressions("${ throw new Error('bad input ' + inputs.list.length); }", ctx, js)).toThrow(/Expression \$\{ throw new Error\('bad input ' \+ inputs\.list\.length\); \} failed: bad input 3/);
    expect(() => evaluateExpressions("${ throw 'a string'; }", ctx, js)).toThrow(/failed: a string/);
    // An error object with a getter for its message: the getter runs inside the sandbox.
    expect(() => evaluateExpressions("${ throw { get message() { return 'from a getter'; } }; }", ctx, js)).toThrow(/failed: from a getter/);
    expect(() => new JavaScriptEngine(["function broken( {"]).evaluate("paren", "1", ctx)).toThrow(/expressionLib\[0\] failed/);
  });

  it("an expression that loops is stopped at the time limit, wherever the loop is", () => {
    const limited = new JavaScriptEngine([], 200);
    const stopped = /ran longer than the time limit of 0.2 s and was stopped/;
    expect(() => evaluateExpressions("${ while (true) {} }", ctx, limited)).toThrow(stopped);
    // In code the runner would otherwise call on the way out: toJSON, a getter.
    expect(() => evaluateExpressions("$({ toJSON: function () { for (;;) {} } })", ctx, limited)).toThrow(stopped);
    expect(() => evaluateExpressions("$({ get x() { for (;;) {} } })", ctx, limited)).toThrow(stopped);
    expect(() => new JavaScriptEngine(["for (;;) {}"], 200).evaluate("paren", "1", ctx)).toThrow(stopped);
  });

  it("promises stay inside: a rejected promise or a pending callback never reaches the runner", async () => {
    const js = new JavaScriptEngine([], 200);
    const rejections: unknown[] = [];
    const onRejection = (r: unknown): void => void rejections.push(r);
    process.on("unhandledRejection", onRejection);
    try {
      expect(evaluateExpressions("$((async function () { throw new Error('x'); })(), Promise.reject(1), 5)", ctx, js)).toBe(5);
      expect(evaluateExpressions("$(Promise.resolve().then(function () { for (;;) {} }), 6)", ctx, js)).toBe(6);
      await new Promise((r) => setTimeout(r, 50));
      expect(rejections).toEqual([]);
      expect(evaluateExpressions("$(7)", ctx, js)).toBe(7);
    } finally {
      process.off("unhandledRejection", onRejection);
    }
  });

  it("an expression that allocates without bound is stopped at the memory limit", () => {
    const js = new JavaScriptEngine([], 20_000, 16 * 2 ** 20);
    expect(() => evaluateExpressions("${ var a = []; for (;;) a.push(new Array(100000).fill(1)); }", ctx, js)).toThrow(/used more than 16 MiB and was stopped/);
    expect(evaluateExpressions("$(1 + 1)", ctx, js)).toBe(2);
  });
});
