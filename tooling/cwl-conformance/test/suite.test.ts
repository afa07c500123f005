import { describe, expect, it } from "vitest";
import { sampleByTag, type ConformanceTest } from "../src/suite.js";

const test = (number: number, tags: string[], id = `t${number}`): ConformanceTest => ({ id, doc: "", tags, tool: `/suite/${id}.cwl`, shouldFail: false, number });

describe("the CI sample", () => {
  const tests = [
    test(1, ["required", "command_line_tool"]),
    test(2, ["command_line_tool", "shell_command"]),
    test(3, ["shell_command"]),
    test(4, ["command_line_tool", "docker"], "needs-docker"),
    test(5, ["command_line_tool"]),
    test(6, ["command_line_tool"]),
    test(7, ["shell_command"]),
    test(8, ["shell_command"]),
  ];
  const sample = (perTag: number) => sampleByTag(tests, perTag, (t) => t.id === "needs-docker").map((t) => t.number);

  it("takes the first N tests of each tag in suite order, leaving out required tests and tests that need an engine", () => {
    expect(sample(2)).toEqual([2, 3, 5]);
    expect(sample(3)).toEqual([2, 3, 5, 6, 7]);
  });

  it("is the same every time", () => {
    expect(sample(3)).toEqual(sample(3));
  });
});
