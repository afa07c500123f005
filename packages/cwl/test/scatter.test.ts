import { describe, expect, it } from "vitest";
import { CwlExpressionError, CwlInputError, parameterReferenceEngine } from "../src/index.js";
import { gatherScatter, planScatter } from "../src/workflow/scatter.js";
import { applyValueFrom, evaluateWhen } from "../src/workflow/links.js";

describe("scatter plans", () => {
  const inputs = { a: [1, 2], b: ["x", "y", "z"], c: "kept" };

  it("one input: one job per item, other inputs as they are", () => {
    const plan = planScatter(inputs, ["a"], undefined, "step 's'");
    expect(plan.jobs).toEqual([
      { a: 1, b: ["x", "y", "z"], c: "kept" },
      { a: 2, b: ["x", "y", "z"], c: "kept" },
    ]);
    expect(gatherScatter(["o1", "o2"], plan.shape)).toEqual(["o1", "o2"]);
  });

  it("dotproduct pairs items and needs equal lengths", () => {
    expect(planScatter({ a: [1, 2], b: ["x", "y"] }, ["a", "b"], "dotproduct", "s").jobs).toEqual([{ a: 1, b: "x" }, { a: 2, b: "y" }]);
    expect(() => planScatter(inputs, ["a", "b"], "dotproduct", "step 's'")).toThrow(/dotproduct scatter needs arrays of one length, but 'a' has 2 items and 'b' has 3/);
  });

  it("nested_crossproduct nests the outputs, first input outermost; flat_crossproduct flattens them", () => {
    const nested = planScatter(inputs, ["a", "b"], "nested_crossproduct", "s");
    expect(nested.jobs.map((j) => `${j.a}${j.b}`)).toEqual(["1x", "1y", "1z", "2x", "2y", "2z"]);
    expect(gatherScatter(nested.jobs.map((j) => `${j.a}${j.b}`), nested.shape)).toEqual([
      ["1x", "1y", "1z"],
      ["2x", "2y", "2z"],
    ]);
    const flat = planScatter(inputs, ["a", "b"], "flat_crossproduct", "s");
    expect(gatherScatter(flat.jobs.map((j) => `${j.a}${j.b}`), flat.shape)).toEqual(["1x", "1y", "1z", "2x", "2y", "2z"]);
  });

  it("empty arrays give no jobs and empty outputs of the right nesting", () => {
    expect(planScatter({ a: [] }, ["a"], undefined, "s")).toEqual({ jobs: [], shape: [0] });
    const nested = planScatter({ a: [1, 2], b: [] }, ["a", "b"], "nested_crossproduct", "s");
    expect(nested.jobs).toEqual([]);
    expect(gatherScatter([], nested.shape)).toEqual([[], []]);
  });

  it("skipped jobs gather as null", () => {
    expect(gatherScatter(["o1", null, undefined], [3])).toEqual(["o1", null, null]);
  });

  it("a scattered input that is not an array, or several inputs without a method, are input errors", () => {
    expect(() => planScatter({ a: 3 }, ["a"], undefined, "step 's'")).toThrow(CwlInputError);
    expect(() => planScatter({ a: null }, ["a"], undefined, "step 's'")).toThrow(/scattered input 'a' must be an array, got null/);
    expect(() => planScatter(inputs, ["a", "b"], undefined, "step 's'")).toThrow(/needs a scatterMethod/);
  });
});

describe("valueFrom and when", () => {
  const specs = [
    { id: "x", source: ["x"], sourceIsList: false, valueFrom: "$(inputs.y)" },
    { id: "y", source: ["y"], sourceIsList: false, valueFrom: "$(self)-$(inputs.x)" },
  ];

  it("each valueFrom sees the inputs before any valueFrom, never another's result", () => {
    expect(applyValueFrom({ x: "X", y: "Y" }, specs, parameterReferenceEngine, "s")).toEqual({ x: "Y", y: "Y-X" });
  });

  it("when must be true or false", () => {
    expect(evaluateWhen("$(inputs.go)", { go: true }, parameterReferenceEngine, "step 's'")).toBe(true);
    expect(evaluateWhen("$(inputs.go)", { go: false }, parameterReferenceEngine, "step 's'")).toBe(false);
    expect(() => evaluateWhen("$(inputs.go)", { go: "yes" }, parameterReferenceEngine, "step 's'")).toThrow(/step 's': 'when' must evaluate to true or false, got "yes"/);
    expect(() => evaluateWhen("$(inputs.nope.x)", {}, parameterReferenceEngine, "step 's'")).toThrow(CwlExpressionError);
  });
});
