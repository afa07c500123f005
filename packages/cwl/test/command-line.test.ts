import { describe, expect, it } from "vitest";
import { buildCommandLine, parameterReferenceEngine, shellCommand, type CommandLineTool, type InputParameter } from "../src/index.js";
import { formatNumber } from "../src/tool/command-line.js";

function tool(inputs: InputParameter[], extra: Partial<CommandLineTool> = {}): CommandLineTool {
  return {
    id: "file:///t.cwl",
    class: "CommandLineTool",
    cwlVersion: "v1.2",
    inputs,
    outputs: [],
    requirements: [],
    hints: [],
    namespaces: {},
    schemas: [],
    baseCommand: ["prog"],
    arguments: [],
    successCodes: [],
    temporaryFailCodes: [],
    permanentFailCodes: [],
    ...extra,
  };
}

const words = (t: CommandLineTool, inputs: Record<string, unknown>): string[] =>
  buildCommandLine(t, { inputs, runtime: { cores: 4, outdir: "/out" }, engine: parameterReferenceEngine }).map((w) => w.word);

describe("command-line binding", () => {
  it("sorts by position, then arguments before inputs, then by input name", () => {
    const t = tool(
      [
        { id: "b", type: "string", inputBinding: { position: 1 } },
        { id: "a", type: "string", inputBinding: { position: 1 } },
        { id: "z", type: "string", inputBinding: {} },
      ],
      { arguments: [{ valueFrom: "$(runtime.cores)", position: 1, prefix: "-t" }, "first"] },
    );
    expect(words(t, { a: "A", b: "B", z: "Z" })).toEqual(["prog", "first", "Z", "-t", "4", "A", "B"]);
  });

  it("prefix, separate, itemSeparator, booleans and empty arrays", () => {
    const t = tool([
      { id: "flag", type: "boolean", inputBinding: { prefix: "-f", position: 1 } },
      { id: "off", type: "boolean", inputBinding: { prefix: "-o", position: 2 } },
      { id: "joined", type: { type: "array", items: "int" }, inputBinding: { prefix: "-I", itemSeparator: ",", position: 3 } },
      { id: "glued", type: "string", inputBinding: { prefix: "--name=", separate: false, position: 4 } },
      { id: "none", type: { type: "array", items: "int" }, inputBinding: { prefix: "-n", position: 5 } },
      { id: "missing", type: ["null", "string"], inputBinding: { prefix: "-m", valueFrom: "$(self.x)", position: 6 } },
    ]);
    expect(words(t, { flag: true, off: false, joined: [1, 2, 3], glued: "x", none: [], missing: null })).toEqual(["prog", "-f", "-I", "1,2,3", "--name=x"]);
  });

  it("nested bindings of array items and record fields sort inside their parent", () => {
    const t = tool([
      { id: "reads", type: { type: "array", items: "string", inputBinding: { prefix: "-Y" } }, inputBinding: { position: 2, prefix: "-X" } },
      {
        id: "rec",
        type: { type: "record", fields: [{ name: "c", type: "int", inputBinding: { position: 2, prefix: "-c" } }, { name: "b", type: "int", inputBinding: { position: 1, prefix: "-b" } }] },
        inputBinding: { position: 1, prefix: "-r" },
      },
    ]);
    expect(words(t, { reads: ["r1", "r2"], rec: { b: 1, c: 2 } })).toEqual(["prog", "-r", "-b", "1", "-c", "2", "-X", "-Y", "r1", "-Y", "r2"]);
  });

  it("Files become their paths; valueFrom replaces the value", () => {
    const t = tool([
      { id: "f", type: "File", inputBinding: { position: 1 } },
      { id: "g", type: "File", inputBinding: { position: 2, valueFrom: "$(self.basename)" } },
    ]);
    expect(words(t, { f: { class: "File", path: "/s/a.txt" }, g: { class: "File", path: "/s/b.txt", basename: "b.txt" } })).toEqual(["prog", "/s/a.txt", "b.txt"]);
  });

  it("numbers are written in plain decimals", () => {
    expect([0.00001, 1.23e-5, 123000, 1230000, 1e21, -2.5e-7, 4.2].map(formatNumber)).toEqual(["0.00001", "0.0000123", "123000", "1230000", "1000000000000000000000", "-0.00000025", "4.2"]);
  });

  it("a shell command quotes every word except shellQuote: false ones", () => {
    expect(shellCommand([{ word: "echo", shellQuote: true }, { word: "a b", shellQuote: true }, { word: "it's", shellQuote: true }, { word: "1>&2", shellQuote: false }])).toBe(
      "echo 'a b' 'it'\\''s' 1>&2",
    );
  });
});
