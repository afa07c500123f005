/**
 * The README's path for a new user, in an empty folder outside the workspace: `npm init -y` (which
 * writes "type": "commonjs"), `npm install` of the packages (here the tarballs `pnpm pack` makes,
 * with third-party dependencies from the registry npm is configured with), the README's flow.ts,
 * then the README's commands with `npx toil`. Also: the same workflow as .mts and .js, a CommonJS
 * workflow gets an error saying what to change, and the README's type-check setup passes `tsc`.
 *
 * Build first (`pnpm build`): packing takes dist as it is.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { REPO_ROOT, tempDir } from "../../src/toil.js";
import { mustRun, run, userEnv } from "../registry/helpers.js";
import { PUBLISHABLE_DIRS } from "./publishable.js";

const PACKAGES = PUBLISHABLE_DIRS;

const work = tempDir("toil-npm-init-");
const project = path.join(work, "my-flow");
const env = userEnv({ npm_config_cache: path.join(work, "npm-cache"), npm_config_loglevel: "error" });
const readme = readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");

/** The fenced code blocks of the README's section `heading`, in order. */
function blocksOf(heading: string): { lang: string; text: string }[] {
  const start = readme.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`README has no section ${heading}`);
  const end = readme.indexOf("\n## ", start + heading.length + 2);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```(\w*)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1]!, text: m[2]! }));
}

const SECTION = "## A workflow";

function npx(args: string[]) {
  return run("npx", args, { cwd: project, env, timeoutMs: 300_000 });
}

beforeAll(async () => {
  const tarballs = path.join(work, "tarballs");
  mkdirSync(tarballs, { recursive: true });
  for (const dir of PACKAGES) {
    execFileSync("pnpm", ["pack", "--pack-destination", tarballs], { cwd: path.join(REPO_ROOT, dir), stdio: "pipe" });
  }
  mkdirSync(project, { recursive: true });
  await mustRun("npm", ["init", "-y"], { cwd: project, env });
  const files = readdirSync(tarballs).filter((f) => f.endsWith(".tgz")).map((f) => path.join(tarballs, f));
  await mustRun("npm", ["install", "--no-audit", "--no-fund", ...files], { cwd: project, env, timeoutMs: 600_000 });
}, 900_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("a new npm project (npm init -y) runs the README's workflow", () => {
  test("npm init -y makes a CommonJS package", () => {
    const manifest = JSON.parse(readFileSync(path.join(project, "package.json"), "utf8")) as { type?: string };
    // npm 10.9+ writes "type": "commonjs"; older npm writes no "type", which means the same.
    expect(manifest.type ?? "commonjs").toBe("commonjs");
  });

  test("the README's flow.ts and its npx toil commands, in order", async () => {
    const [flow, commands] = blocksOf(SECTION);
    expect(flow!.lang).toBe("ts");
    writeFileSync(path.join(project, "flow.ts"), flow!.text);
    const lines = commands!.text.split("\n").filter((l) => l.startsWith("npx toil "));
    expect(lines.length).toBeGreaterThanOrEqual(3);
    const outputs: string[] = [];
    for (const line of lines) {
      const args = line.replace(/#.*$/, "").trim().split(/\s+/).slice(1);
      const r = await npx([...args, ...(args[1] === "run" ? ["--disableProgress"] : [])]);
      expect(r.code, `${line}\n${r.stderr}`).toBe(0);
      outputs.push(r.stdout);
    }
    expect(outputs[0]!.trim()).toBe("14"); // 1 + 4 + 9
    expect(outputs[1]).toContain("COMPLETED");
    expect(outputs[2]!.trim()).toBe("14");
  }, 600_000);

  test("the same workflow as .mts and as .js (import syntax) runs too", async () => {
    const [flow] = blocksOf(SECTION);
    writeFileSync(path.join(project, "flow.mts"), flow!.text);
    const js = `import { Job } from "@toil/job";
export class Square extends Job {
  constructor(n) { super({ cores: 0.5, memory: "100Mi", disk: "1Mi" }); this.n = n; }
  run() { return this.n * this.n; }
}
export function sum(values) { return values.reduce((a, b) => a + b, 0); }
export class Root extends Job {
  run() { return this.addFollowOnFn(sum, [1, 2, 3].map((n) => this.addChild(new Square(n)).rv())).rv(); }
}
export default function main() { return new Root(); }
`;
    writeFileSync(path.join(project, "flow.js"), js);
    for (const file of ["flow.mts", "flow.js"]) {
      const r = await npx(["toil", "run", file, "--jobStore", path.join(work, `js-${file}`), "--disableProgress"]);
      expect(r.code, `${file}\n${r.stderr}`).toBe(0);
      expect(r.stdout.trim()).toBe("14");
    }
  }, 600_000);

  test("a workflow written with require() gets one error line saying what to change", async () => {
    writeFileSync(
      path.join(project, "flow.cjs"),
      'const { Job } = require("@toil/job");\nclass A extends Job { run() { return 1; } }\nmodule.exports = { A, default: () => new A() };\n',
    );
    const r = await npx(["toil", "run", "flow.cjs", "--jobStore", path.join(work, "js-cjs"), "--disableProgress"]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^toil run: error \[WorkflowFileError\]: Cannot load workflow file .*flow\.cjs/);
    expect(r.stderr).toContain("write the workflow with import and export statements in a .mjs or .mts file");
  }, 300_000);

  test("the README's type-check setup: tsc passes on flow.ts", async () => {
    const blocks = blocksOf(SECTION);
    const install = blocks.find((b) => b.text.includes("npm install -D typescript"));
    const tsconfig = blocks.find((b) => b.lang === "json");
    expect(install?.text).toContain("@types/node");
    writeFileSync(path.join(project, "tsconfig.json"), tsconfig!.text);
    // The versions the workspace type-checks with, so the test does not move with new releases.
    const root = JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { devDependencies: Record<string, string> };
    const e2e = JSON.parse(readFileSync(path.join(REPO_ROOT, "tooling", "e2e", "package.json"), "utf8")) as { devDependencies: Record<string, string> };
    await mustRun("npm", ["install", "-D", "--no-audit", "--no-fund", `typescript@${e2e.devDependencies.typescript}`, `@types/node@${root.devDependencies["@types/node"]}`], { cwd: project, env, timeoutMs: 600_000 });
    rmSync(path.join(project, "flow.mts")); // the README's block names flow.ts; the .mts copy would declare everything twice
    const tsc = await npx(["tsc", "-p", "."]);
    expect(tsc.code, `${tsc.stdout}\n${tsc.stderr}`).toBe(0);
    // And it does check: a wrong type is an error.
    writeFileSync(path.join(project, "bad.ts"), 'import { Job } from "@toil/job";\nexport const n: number = new Job({ cores: "lots" as unknown as number }).rv();\n');
    const bad = await npx(["tsc", "-p", "."]);
    expect(bad.code).not.toBe(0);
  }, 900_000);
});
