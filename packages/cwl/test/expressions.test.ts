import { describe, expect, it } from "vitest";
import { CwlExpressionError, JavaScriptEngine, evaluateExpressions, interpolationText, parameterReferenceEngine } from "../src/index.js";
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
  it("evaluates $() and ${} with inputs, self, runtime and the expressionLib", () => {
    const js = new JavaScriptEngine(["function twice(v) { return 2 * v; }"]);
    expect(evaluateExpressions("$(twice(inputs.list.length))", ctx, js)).toBe(6);
    expect(evaluateExpressions("${ return self[0].contents.trim() + runtime.cores; }", ctx, js)).toBe("hi2");
    expect(evaluateExpressions("$(inputs.list.map(function(v){return v*v;}))", ctx, js)).toEqual([1, 4, 9]);
  });

  it("an expression cannot change the inputs it was given", () => {
    const js = new JavaScriptEngine();
    const inputs = { a: [1] };
    evaluateExpressions("${ inputs.a.push(2); return null; }", { inputs, self: null, runtime: {} }, js);
    expect(inputs.a).toEqual([1]);
  });

  it("a failing or endless expression is a CwlExpressionError", () => {
    expect(() => evaluateExpressions("$(nope.x)", ctx, new JavaScriptEngine())).toThrow(CwlExpressionError);
    expect(() => evaluateExpressions("${ while (true) {} }", ctx, new JavaScriptEngine([], 200))).toThrow(/timed out|Script execution/);
  });
});
