import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BatchCommandError, batchJobArgv, checkArgv, checkEnvironment, shellCommand, shellQuote } from "../src/index.js";
import { hostileWords } from "../src/testing/index.js";

const dir = mkdtempSync(join(tmpdir(), "toil-cmd-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const canary = join(dir, "canary");

/** What a real /bin/sh makes of a command line: the words it passes to the program. */
function shellWords(line: string): string[] {
  const res = spawnSync("/bin/sh", ["-c", `${line}`], { encoding: "utf8" });
  expect(res.stderr).toBe("");
  expect(res.status).toBe(0);
  return JSON.parse(res.stdout) as string[];
}
const script = join(dir, "dump.mjs");
writeFileSync(script, "process.stdout.write(JSON.stringify(process.argv.slice(2)));");
const dump = [process.execPath, script];

describe("shellQuote / shellCommand", () => {
  it("a real shell turns the command line back into exactly the hostile words", () => {
    const words = hostileWords(canary);
    expect(shellWords(shellCommand([...dump, ...words]))).toEqual(words);
    for (const w of words) expect(shellWords(`${shellCommand(dump)} ${shellQuote(w)}`)).toEqual([w]);
    expect(existsSync(canary)).toBe(false);
  });

  it("every single byte 1..255 (as UTF-8 text) survives quoting", () => {
    const words = Array.from({ length: 255 }, (_, i) => `x${String.fromCharCode(i + 1)}y`);
    expect(shellWords(shellCommand([...dump, ...words]))).toEqual(words);
  });

  it("leaves plain words alone and quotes the rest", () => {
    expect(shellQuote("/opt/worker.js")).toBe("/opt/worker.js");
    expect(shellQuote("")).toBe("''");
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(shellCommand(["node", "a b"])).toBe("node 'a b'");
  });

  it("quotes a first word with '=' so the shell does not read an assignment", () => {
    expect(shellCommand(["A=b", "x"])).toBe("'A=b' x");
    const res = spawnSync("/bin/sh", ["-c", shellCommand(["A=b"])], { encoding: "utf8" });
    expect(res.stderr).toMatch(/A=b/); // "A=b: not found": it was run as a program, not assigned
  });

  it("refuses a NUL byte, naming the argument", () => {
    expect(() => shellCommand(["node", "a\0b"])).toThrow(BatchCommandError);
    expect(() => checkArgv(["node", "a\0b"], "j1")).toThrow(/NUL byte in argument 1.*"a\\u0000b"/);
    expect(() => checkArgv([], "j1")).toThrow(/empty argument array/);
  });
});

describe("batchJobArgv", () => {
  it("prefers jobDesc.argv and never wraps it in a shell", () => {
    const argv = ["node", "w.js", "$(x)"];
    expect(batchJobArgv(shellCommand(argv), { jobName: "j", argv })).toEqual(argv);
  });
  it("runs a bare command line through /bin/sh -c", () => {
    expect(batchJobArgv("echo hi | wc", { jobName: "j" })).toEqual(["/bin/sh", "-c", "echo hi | wc"]);
  });
  it("refuses empty commands and NUL bytes", () => {
    expect(() => batchJobArgv("  ", { jobName: "j" })).toThrow(/empty command/);
    expect(() => batchJobArgv("x", { jobName: "j", argv: ["a\0"] })).toThrow(BatchCommandError);
  });
});

describe("checkEnvironment", () => {
  it("accepts hostile values without NUL", () => {
    expect(() => checkEnvironment({ A: "$(x); `y`\n'\"" })).not.toThrow();
  });
  it("refuses bad names and NUL values, naming the variable", () => {
    expect(() => checkEnvironment({ "A=B": "1" })).toThrow(/"A=B"/);
    expect(() => checkEnvironment({ "": "1" })).toThrow(BatchCommandError);
    expect(() => checkEnvironment({ V: "a\0b" }, "j")).toThrow(/V of job "j"/);
  });
});
