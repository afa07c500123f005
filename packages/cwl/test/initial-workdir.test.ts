import { lstatSync, readFileSync, readlinkSync, statSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { CwlPermanentFailureError, localBackend, runCommandLineTool, type CommandLineTool } from "../src/index.js";
import { loadTool, tempDir, writeFiles } from "./helpers.js";

function run(t: CommandLineTool, inputs: Record<string, unknown> = {}) {
  const workDir = tempDir("toil-cwl-iwd-");
  return { workDir, result: runCommandLineTool(t, inputs, { workDir, backend: localBackend }) };
}

const fileAt = (p: string) => ({ class: "File", location: pathToFileURL(p).href });
const localPath = (f: unknown): string => new URL(String((f as { location: string }).location)).pathname;

describe("InitialWorkDirRequirement", () => {
  it("writes text entries, keeping a trailing newline, and JSON for other values", async () => {
    const t = await loadTool(`requirements:
  InlineJavascriptRequirement: {}
  InitialWorkDirRequirement:
    listing:
      - entryname: conf.txt
        entry: |
          NAME=$(inputs.name)
      - entryname: list.json
        entry: $(["a", 1])
      - entryname: sub/n.txt
        entry: \${ return 44.5; }
inputs:
  name: string
outputs:
  conf: {type: File, outputBinding: {glob: conf.txt}}
  list: {type: File, outputBinding: {glob: list.json}}
  n: {type: File, outputBinding: {glob: sub/n.txt}}
baseCommand: "true"
`);
    const { outputs } = await run(t, { name: "x" }).result;
    expect(readFileSync(localPath(outputs.conf), "utf8")).toBe("NAME=x\n");
    expect(readFileSync(localPath(outputs.list), "utf8")).toBe('["a", 1]');
    expect(readFileSync(localPath(outputs.n), "utf8")).toBe("44.5");
  });

  it("links a read-only input into the working directory, under its entryname, and the tool sees that path", async () => {
    const src = writeFiles(tempDir(), { "in.txt": "hello\n" });
    const t = await loadTool(`requirements:
  InitialWorkDirRequirement:
    listing:
      - entryname: renamed.txt
        entry: $(inputs.f)
inputs:
  f: {type: File, inputBinding: {}}
outputs:
  seen: {type: stdout}
stdout: seen.txt
baseCommand: echo
`);
    const { workDir, result } = run(t, { f: fileAt(path.join(src, "in.txt")) });
    const { outputs } = await result;
    const placed = path.join(workDir, "out", "renamed.txt");
    expect(readFileSync(localPath(outputs.seen), "utf8")).toBe(`${placed}\n`);
    expect(lstatSync(placed).isSymbolicLink()).toBe(true);
    expect(readFileSync(placed, "utf8")).toBe("hello\n");
    expect(readlinkSync(placed)).not.toBe(path.join(src, "in.txt"));
  });

  it("copies a writable entry, so the tool's changes never reach the original", async () => {
    const src = writeFiles(tempDir(), { "in.txt": "original\n" });
    const t = await loadTool(`requirements:
  InitialWorkDirRequirement:
    listing:
      - entry: $(inputs.f)
        writable: true
inputs:
  f: File
outputs:
  out: {type: File, outputBinding: {glob: in.txt}}
baseCommand: [sh, -c, "echo changed > in.txt"]
`);
    const { workDir, result } = run(t, { f: fileAt(path.join(src, "in.txt")) });
    const { outputs } = await result;
    expect(lstatSync(path.join(workDir, "out", "in.txt")).isSymbolicLink()).toBe(false);
    expect(readFileSync(localPath(outputs.out), "utf8")).toBe("changed\n");
    expect(readFileSync(path.join(src, "in.txt"), "utf8")).toBe("original\n");
  });

  it("makes a writable copy of a Directory whose every entry the tool may change", async () => {
    const src = tempDir();
    writeFiles(src, { "a.txt": "a" });
    const t = await loadTool(`requirements:
  InitialWorkDirRequirement:
    listing:
      - entry: $(inputs.d)
        entryname: work
        writable: true
inputs:
  d: Directory
outputs:
  out: {type: Directory, outputBinding: {glob: work}}
baseCommand: [sh, -c, "echo more >> work/a.txt && touch work/b.txt"]
`);
    const { outputs } = await run(t, { d: { class: "Directory", location: pathToFileURL(src).href } }).result;
    const listing = (outputs.out as { listing: { basename: string }[] }).listing.map((e) => e.basename);
    expect(listing).toEqual(["a.txt", "b.txt"]);
    expect(readFileSync(path.join(src, "a.txt"), "utf8")).toBe("a");
    expect(statSync(path.join(src)).isDirectory()).toBe(true);
  });

  it("builds a Directory literal from an expression, with the input files inside it", async () => {
    const src = writeFiles(tempDir(), { "x.txt": "x", "y.txt": "y" });
    const t = await loadTool(`requirements:
  InlineJavascriptRequirement: {}
  InitialWorkDirRequirement:
    listing:
      - entryname: bundle
        entry: "\${ return {class: 'Directory', listing: inputs.files}; }"
inputs:
  files: File[]
outputs:
  out: {type: "File[]", outputBinding: {glob: "bundle/*"}}
baseCommand: "true"
`);
    const { outputs } = await run(t, { files: [fileAt(path.join(src, "x.txt")), fileAt(path.join(src, "y.txt"))] }).result;
    expect((outputs.out as { basename: string }[]).map((f) => f.basename)).toEqual(["x.txt", "y.txt"]);
  });

  it("refuses an entryname above the working directory, and an absolute one outside a container", async () => {
    for (const name of ["../x.txt", "/tmp/elsewhere/x.txt"]) {
      const t = await loadTool(`requirements:
  InitialWorkDirRequirement:
    listing:
      - entryname: ${name}
        entry: text
inputs: []
outputs: []
baseCommand: "true"
`);
      await expect(run(t).result).rejects.toThrow(CwlPermanentFailureError);
      await expect(run(t).result).rejects.toThrow(/entryname/);
    }
  });
});
