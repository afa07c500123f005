import { readFileSync } from "node:fs";
import path from "node:path";
import yaml from "js-yaml";
import { describe, expect, it } from "vitest";
import { CwlDocumentError, CwlLoader, UnsupportedCwlFeatureError, findRequirement, type CommandLineTool, type Workflow } from "../src/index.js";
import { SUITE_DIR, suiteAvailable, tempDir, writeFiles } from "./helpers.js";

function suiteDocuments(): string[] {
  const docs = new Set<string>();
  const visit = (file: string): void => {
    for (const t of yaml.load(readFileSync(file, "utf8")) as { tool?: string; $import?: string }[]) {
      if (t.$import) visit(path.resolve(path.dirname(file), t.$import));
      else if (t.tool) docs.add(path.resolve(path.dirname(file), t.tool));
    }
  };
  visit(path.join(SUITE_DIR, "conformance_tests.yaml"));
  return [...docs];
}

describe("loading the conformance suite's documents", () => {
  it.skipIf(!suiteAvailable())("loads every process document the suite names, with every link resolved; refuses the five with newer-version syntax", async () => {
    const docs = suiteDocuments();
    expect(docs.length).toBe(316);
    const failures: string[] = [];
    for (const doc of docs) {
      try {
        const p = await new CwlLoader().load(doc);
        expect(["CommandLineTool", "Workflow", "ExpressionTool", "Operation"]).toContain(p.class);
      } catch (err) {
        failures.push(`${path.relative(SUITE_DIR, doc)}: ${(err as Error).message}`);
      }
    }
    expect(failures.map((f) => f.split(":")[0])).toEqual(
      ["invalid-tool-v10", "invalid-tool-v11", "invalid-wf-v10", "invalid-wf-v11", "invalid-wf-v12"].map((n) => `tests/mixed-versions/${n}.cwl`),
    );
    for (const f of failures) expect(f).toMatch(/is marked cwlVersion v1\.[01] but uses .*, which needs cwlVersion v1\.[12] or later/);
  });

  it.skipIf(!suiteAvailable())("resolves step sources and output sources to local names (packed and plain)", async () => {
    for (const doc of ["tests/revsort.cwl", "tests/revsort-packed.cwl#main"]) {
      const wf = (await new CwlLoader().load(path.join(SUITE_DIR, doc))) as Workflow;
      expect(wf.class).toBe("Workflow");
      expect(wf.outputs[0]!.outputSource).toEqual(["sorted/output"]);
      const sorted = wf.steps.find((s) => s.id === "sorted")!;
      expect(sorted.in.map((i) => [i.id, i.source])).toEqual([
        ["input", ["rev/output"]],
        ["reverse", ["reverse_sort"]],
      ]);
      expect(sorted.run.class).toBe("CommandLineTool");
    }
  });
});

describe("the schema-salad preprocessing", () => {
  it("expands idmaps, the type DSL, the secondaryFiles DSL and inlines SchemaDef types", async () => {
    const dir = writeFiles(tempDir(), {
      "types.yml": "- name: pair\n  type: record\n  fields:\n    left: string\n    right: int?\n",
      "tool.cwl": [
        "cwlVersion: v1.2",
        "class: CommandLineTool",
        "requirements:",
        "  SchemaDefRequirement:",
        "    types:",
        "      - $import: types.yml",
        "inputs:",
        "  reads: File[]?",
        "  bam: {type: File, secondaryFiles: [.bai, ^.crai?]}",
        "  p: types.yml#pair",
        "outputs: {out: stdout}",
        "baseCommand: echo",
        "arguments: [{$include: arg.txt}]",
      ].join("\n"),
      "arg.txt": "hello",
    });
    const tool = (await new CwlLoader().load(path.join(dir, "tool.cwl"))) as CommandLineTool;
    const byId = Object.fromEntries(tool.inputs.map((i) => [i.id, i]));
    expect(byId.reads!.type).toEqual(["null", { type: "array", items: "File" }]);
    expect(byId.bam!.secondaryFiles).toEqual([
      { pattern: ".bai", required: null },
      { pattern: "^.crai", required: false },
    ]);
    expect(byId.p!.type).toMatchObject({ type: "record", fields: [{ name: "left", type: "string" }, { name: "right", type: ["null", "int"] }] });
    expect(tool.arguments).toEqual(["hello"]);
    // `type: stdout` becomes a File collected from a generated stdout name.
    expect(tool.outputs[0]!.type).toBe("File");
    expect(tool.outputs[0]!.outputBinding?.glob).toBe(tool.stdout);
  });

  it("rejects an unknown field, naming it and the valid ones", async () => {
    const dir = writeFiles(tempDir(), { "bad.cwl": "cwlVersion: v1.2\nclass: CommandLineTool\ninputs: []\noutputs: []\nbaseComand: echo\n" });
    const err = await new CwlLoader().load(path.join(dir, "bad.cwl")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CwlDocumentError);
    expect((err as Error).message).toMatch(/invalid field 'baseComand' for CommandLineTool/);
    expect((err as Error).message).toMatch(/baseCommand/);
  });

  it("accepts namespaced extension fields", async () => {
    const dir = writeFiles(tempDir(), { "ext.cwl": "cwlVersion: v1.2\n$namespaces: {ex: http://example.com/}\nclass: CommandLineTool\nex:note: hi\ninputs: []\noutputs: []\nbaseCommand: 'true'\n" });
    await expect(new CwlLoader().load(path.join(dir, "ext.cwl"))).resolves.toMatchObject({ class: "CommandLineTool" });
  });

  it("rejects a source that names nothing", async () => {
    const dir = writeFiles(tempDir(), {
      "wf.cwl": "cwlVersion: v1.2\nclass: Workflow\ninputs: {x: string}\noutputs: {y: {type: string, outputSource: step/nope}}\nsteps:\n  step:\n    run: {class: ExpressionTool, inputs: [], outputs: [], expression: '$({})'}\n    in: []\n    out: []\n",
    });
    await expect(new CwlLoader().load(path.join(dir, "wf.cwl"))).rejects.toThrow(/references unknown identifier 'step\/nope'/);
  });

  it("needs a cwlVersion", async () => {
    const dir = writeFiles(tempDir(), { "nov.cwl": "class: CommandLineTool\ninputs: []\noutputs: []\n" });
    await expect(new CwlLoader().load(path.join(dir, "nov.cwl"))).rejects.toThrow(/has no cwlVersion/);
  });

  it("reports an unknown requirement as unsupported (exit 33), not as a schema error", async () => {
    const dir = writeFiles(tempDir(), {
      "req.cwl": "cwlVersion: v1.2\n$namespaces: {ex: http://example.com/}\nclass: CommandLineTool\nrequirements: [{class: 'ex:Magic'}]\ninputs: []\noutputs: []\nbaseCommand: 'true'\n",
    });
    await expect(new CwlLoader().load(path.join(dir, "req.cwl"))).rejects.toBeInstanceOf(UnsupportedCwlFeatureError);
  });

  it("picks #main of a $graph, or the process named by the fragment", async () => {
    const dir = writeFiles(tempDir(), {
      "g.cwl": "cwlVersion: v1.2\n$graph:\n- {id: a, class: CommandLineTool, inputs: [], outputs: [], baseCommand: a}\n- {id: main, class: CommandLineTool, inputs: [], outputs: [], baseCommand: m}\n",
      "h.cwl": "cwlVersion: v1.2\n$graph:\n- {id: a, class: CommandLineTool, inputs: [], outputs: [], baseCommand: a}\n- {id: b, class: CommandLineTool, inputs: [], outputs: [], baseCommand: b}\n",
    });
    expect(((await new CwlLoader().load(path.join(dir, "g.cwl"))) as CommandLineTool).baseCommand).toEqual(["m"]);
    expect(((await new CwlLoader().load(`${path.join(dir, "g.cwl")}#a`)) as CommandLineTool).baseCommand).toEqual(["a"]);
    await expect(new CwlLoader().load(path.join(dir, "h.cwl"))).rejects.toThrow(/none is #main/);
  });
});

describe("older CWL versions", () => {
  it("upgrade a v1.0 tool as the reference runner does: its extensions take their standard names, and it may use the network", async () => {
    const dir = writeFiles(tempDir(), {
      "old.cwl": `cwlVersion: v1.0
class: CommandLineTool
$namespaces: {cwltool: "http://commonwl.org/cwltool#"}
requirements:
  cwltool:TimeLimit: {timelimit: 20}
hints:
  cwltool:LoadListingRequirement: {loadListing: shallow_listing}
inputs: []
outputs: []
baseCommand: "true"
`,
    });
    const p = await new CwlLoader().load(path.join(dir, "old.cwl"));
    expect(findRequirement(p, "ToolTimeLimit")?.req.timelimit).toBe(20);
    expect(findRequirement(p, "LoadListingRequirement")?.req.loadListing).toBe("shallow_listing");
    expect(findRequirement(p, "NetworkAccess")).toMatchObject({ hint: true, req: { networkAccess: true } });
  });
});
