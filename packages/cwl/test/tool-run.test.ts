import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import {
  CwlInputError,
  CwlOutputError,
  CwlPermanentFailureError,
  CwlTemporaryFailureError,
  CwlLoader,
  localBackend,
  runCommandLineTool,
  runExpressionTool,
  type CommandLineTool,
  type ExpressionTool,
} from "../src/index.js";
import { loadTool, tempDir, writeFiles } from "./helpers.js";

const run = (t: CommandLineTool, inputs: Record<string, unknown> = {}) => runCommandLineTool(t, inputs, { workDir: tempDir("toil-cwl-run-"), backend: localBackend });

const localPath = (f: unknown): string => new URL(String((f as { location: string }).location)).pathname;

describe("running a CommandLineTool", () => {
  it("stages inputs, redirects stdin/stdout, and collects outputs with checksums", async () => {
    const dir = writeFiles(tempDir(), { "in.txt": "b\na\n" });
    const t = await loadTool("inputs:\n  f: {type: File, inputBinding: {}}\noutputs:\n  sorted: stdout\nbaseCommand: sort\nstdout: sorted.txt\n");
    const { outputs } = await run(t, { f: { class: "File", location: pathToFileURL(path.join(dir, "in.txt")).href } });
    const out = outputs.sorted as { basename: string; size: number; checksum: string };
    expect(out).toMatchObject({ class: "File", basename: "sorted.txt", size: 4, checksum: `sha1$${createHash("sha1").update("a\nb\n").digest("hex")}` });
    expect(readFileSync(localPath(out), "utf8")).toBe("a\nb\n");
  });

  it("globs sorted results, loads contents and evaluates outputEval", async () => {
    const t = await loadTool(
      "inputs: []\noutputs:\n  files: {type: 'File[]', outputBinding: {glob: '*.txt'}}\n  first: {type: string, outputBinding: {glob: a.txt, loadContents: true, outputEval: '$(self[0].contents)'}}\nbaseCommand: [sh, -c, 'echo A > a.txt; echo C > c.txt; echo B > b.txt']\n",
    );
    const { outputs } = await run(t);
    expect((outputs.files as { basename: string }[]).map((f) => f.basename)).toEqual(["a.txt", "b.txt", "c.txt"]);
    expect(outputs.first).toBe("A\n");
  });

  it("takes outputs from cwl.output.json when the tool writes one", async () => {
    const t = await loadTool(`inputs: []\noutputs:\n  n: int\n  f: File\nbaseCommand: [sh, -c, 'echo hi > x; echo "{\\"n\\": 3, \\"f\\": {\\"class\\": \\"File\\", \\"path\\": \\"x\\"}}" > cwl.output.json']\n`);
    const { outputs } = await run(t);
    expect(outputs.n).toBe(3);
    expect(outputs.f).toMatchObject({ class: "File", basename: "x", size: 3 });
  });

  it("classifies exit codes: success, temporary and permanent failures", async () => {
    const t = (code: number) => loadTool(`inputs: []\noutputs: []\nbaseCommand: [sh, -c, 'exit ${code}']\nsuccessCodes: [3]\ntemporaryFailCodes: [4]\npermanentFailCodes: [0]\n`);
    await expect(run(await t(3))).resolves.toMatchObject({ exitCode: 3 });
    await expect(run(await t(4))).rejects.toBeInstanceOf(CwlTemporaryFailureError);
    await expect(run(await t(0))).rejects.toBeInstanceOf(CwlPermanentFailureError);
    await expect(run(await t(9))).rejects.toBeInstanceOf(CwlPermanentFailureError);
  });

  it("gives the tool HOME, TMPDIR, PATH and EnvVarRequirement variables only", async () => {
    process.env.TOIL_CWL_LEAK = "leak";
    const t = await loadTool(
      "requirements:\n  EnvVarRequirement: {envDef: {GREETING: $(inputs.who)}}\n  ShellCommandRequirement: {}\ninputs:\n  who: string\noutputs:\n  env: {type: string, outputBinding: {glob: env.txt, loadContents: true, outputEval: '$(self[0].contents)'}}\narguments: [{valueFrom: 'echo \"$GREETING $TOIL_CWL_LEAK\" > env.txt; test \"$HOME\" = \"$PWD\" && test -d \"$TMPDIR\"', shellQuote: false}]\n",
    );
    const { outputs } = await run(t, { who: "world" });
    expect(outputs.env).toBe("world \n");
    delete process.env.TOIL_CWL_LEAK;
  });

  it("rejects inputs of the wrong type and outputs that do not match theirs", async () => {
    const t = await loadTool("inputs:\n  n: int\noutputs:\n  d: {type: Directory, outputBinding: {glob: x}}\nbaseCommand: [touch, x]\n");
    await expect(run(t, { n: "three" })).rejects.toBeInstanceOf(CwlInputError);
    await expect(run(t, { n: 3 })).rejects.toBeInstanceOf(CwlOutputError);
  });

  it("stops a tool at its time limit", async () => {
    const t = await loadTool("requirements:\n  ToolTimeLimit: {timelimit: 1}\ninputs: []\noutputs: []\nbaseCommand: [sleep, '30']\n");
    const started = Date.now();
    await expect(run(t)).rejects.toThrow(/time limit of 1 s/);
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});

describe("running an ExpressionTool", () => {
  it("evaluates its expression and checks the outputs", async () => {
    const dir = writeFiles(tempDir(), {
      "e.cwl": "cwlVersion: v1.2\nclass: ExpressionTool\nrequirements: {InlineJavascriptRequirement: {}}\ninputs: {n: int}\noutputs: {sq: int}\nexpression: '$({sq: inputs.n * inputs.n})'\n",
    });
    const e = (await new CwlLoader().load(path.join(dir, "e.cwl"))) as ExpressionTool;
    const { outputs } = await runExpressionTool(e, { n: 7 }, { workDir: tempDir(), backend: localBackend });
    expect(outputs).toEqual({ sq: 49 });
  });
});
