import { mkdirSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { CwlInputError, CwlLoader, UnsupportedCwlFeatureError, parseInputFlags, prepareCwlRun, readJobOrder, type Process } from "../src/index.js";
import { tempDir, writeFiles } from "./helpers.js";

async function load(text: string): Promise<{ dir: string; process: Process }> {
  const dir = writeFiles(tempDir(), { "t.cwl": `cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: echo\noutputs: []\n${text}` });
  return { dir, process: await new CwlLoader().load(path.join(dir, "t.cwl")) };
}

describe("the input object", () => {
  it("resolves File locations and paths against the job file, and reads cwl:requirements", async () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, "sub"));
    writeFiles(path.join(dir, "sub"), {
      "job.yml": "a: {class: File, location: data/a.txt}\nb: {class: File, path: b.txt}\ncwl:requirements:\n  - class: EnvVarRequirement\n    envDef: {X: y}\n",
    });
    const order = await readJobOrder(path.join(dir, "sub", "job.yml"));
    expect(order.inputs.a).toMatchObject({ location: pathToFileURL(path.join(dir, "sub", "data", "a.txt")).href });
    expect(order.inputs.b).toMatchObject({ path: path.join(dir, "sub", "b.txt"), location: pathToFileURL(path.join(dir, "sub", "b.txt")).href });
    expect(order.requirements).toEqual([{ class: "EnvVarRequirement", envDef: [{ envName: "X", envValue: "y" }] }]);
  });

  it("takes tool inputs as flags: values, Files, booleans, repeated flags for arrays", async () => {
    const { dir, process } = await load("inputs:\n  n: int\n  f: File\n  v: boolean\n  q: boolean\n  tags: string[]\n");
    expect(parseInputFlags(["--n", "3", "--f=x.txt", "--v", "--no-q", "--tags", "a", "--tags", "b"], process, dir)).toEqual({
      n: 3,
      f: { class: "File", location: pathToFileURL(path.join(dir, "x.txt")).href },
      v: true,
      q: false,
      tags: ["a", "b"],
    });
    expect(() => parseInputFlags(["--m", "1"], process, dir)).toThrow(/Unknown input --m .*--f, --n, --q, --tags, --v/);
    expect(() => parseInputFlags(["--n", "three"], process, dir)).toThrow(CwlInputError);
  });

  it("finds secondary files next to their primary, and refuses a missing required one before anything runs", async () => {
    const { dir } = await load("inputs:\n  bam: {type: File, secondaryFiles: [.bai, .csi?]}\n");
    writeFiles(dir, { "r.bam": "x", "r.bam.bai": "i" });
    const run = await prepareCwlRun({ process: path.join(dir, "t.cwl"), inputFlags: ["--bam", path.join(dir, "r.bam")], cwd: dir });
    expect((run.inputs.bam as { secondaryFiles: { basename: string }[] }).secondaryFiles.map((s) => s.basename)).toEqual(["r.bam.bai"]);
    expect((run.inputs.bam as { size: number }).size).toBe(1);
    writeFiles(dir, { "s.bam": "x" });
    await expect(prepareCwlRun({ process: path.join(dir, "t.cwl"), inputFlags: ["--bam", path.join(dir, "s.bam")], cwd: dir })).rejects.toThrow(/required secondary file s\.bam\.bai/);
  });

  it("checks the inputs' types and the document's features before a run starts", async () => {
    const { dir } = await load("inputs:\n  n: int\n");
    await expect(prepareCwlRun({ process: path.join(dir, "t.cwl"), cwd: dir })).rejects.toThrow(/missing required input 'n'/);
    const docker = writeFiles(tempDir(), { "d.cwl": "cwlVersion: v1.2\nclass: CommandLineTool\nrequirements: {DockerRequirement: {dockerPull: debian}}\ninputs: []\noutputs: []\nbaseCommand: 'true'\n" });
    await expect(prepareCwlRun({ process: path.join(docker, "d.cwl"), cwd: docker })).rejects.toBeInstanceOf(UnsupportedCwlFeatureError);
    await expect(prepareCwlRun({ process: path.join(docker, "d.cwl"), cwd: docker, noContainer: true })).resolves.toMatchObject({ inputs: {} });
  });
});
