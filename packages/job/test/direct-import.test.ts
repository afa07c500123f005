// Importing TypeScript workflow modules without Node's module hooks (direct-import.ts), in fresh
// node processes with only the built package: the first process loads through the hooks and
// records each module's imports; a later one imports rewritten copies, and falls back to the hooks
// whenever the copies cannot be proven to behave the same.
import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const pkg = join(dirname(fileURLToPath(import.meta.url)), "..");
// Inside the package, so that the workflow files' `import ... from "@toil/job"` resolves (to the build).
const work = join(pkg, "test", "fixtures", `.direct-${process.pid}-${Math.random().toString(36).slice(2)}`);
mkdirSync(work, { recursive: true });
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A fresh directory for one case's workflow files and cache. */
function caseDir(name: string): { dir: string; cache: string } {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  return { dir, cache: mkdtempSync(join(tmpdir(), "toil-direct-cache-")) };
}

/** The script a process runs: import `entries` in turn with importUserModule, then `body`; prints JSON. */
function script(dir: string, entries: string[], body: string): string {
  const file = join(dir, `run-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(
    file,
    `import { Job, findExport, importUserModule, userModuleLoadPath } from "@toil/job";
const mods = [];
for (const e of ${JSON.stringify(entries.map((e) => join(dir, e)))}) mods.push(await importUserModule(e));
const paths = ${JSON.stringify(entries.map((e) => join(dir, e)))}.map((e) => userModuleLoadPath(e));
const out = await (async () => { ${body} })();
console.log(JSON.stringify({ paths, out }));
`,
  );
  return file;
}

interface Result {
  paths: string[];
  out: Record<string, unknown>;
  stderr: string;
}

function parse(stdout: string, stderr: string): Result {
  return { ...(JSON.parse(stdout.trim().split("\n").pop()!) as Omit<Result, "stderr">), stderr };
}

const execFileAsync = promisify(execFile);

/** Run `file` in a fresh node process (built package only) with the cache `cache`. */
async function run(file: string, cache: string): Promise<Result> {
  const { stdout, stderr } = await execFileAsync(process.execPath, [file], {
    cwd: pkg,
    encoding: "utf8",
    env: { ...process.env, XDG_CACHE_HOME: cache, NODE_DEBUG: "toil-import", TOIL_DIRECT_IMPORT: "" },
  });
  return parse(stdout, stderr);
}

const FLOW = `import { Job } from "@toil/job";
import { twice, token } from "./lib.js";
export { token } from "./lib.js";
export const url: string = import.meta.url;
export const dir: string = import.meta.dirname;
export const file: string = import.meta.filename;
export class Hello extends Job { run(): string { return "hi"; } }
export function value(): number { return twice(21); }
export function where(): string { return new Error("here").stack!.split("\\n")[1]!.trim(); }
export const same: boolean = token === token;
`;

const REPORT = `const [flow] = mods;
return {
  value: flow.value(),
  url: flow.url, dir: flow.dir, file: flow.file,
  where: flow.where(),
  isJob: flow.Hello.prototype instanceof Job,
  registered: findExport(flow.Hello)?.exportName ?? null,
};`;

describe("importing a TypeScript workflow without the module hooks", () => {
  it("imports a recorded graph directly: relative imports, import.meta and stack traces as through the hooks, one @toil/job", async () => {
    const { dir, cache } = caseDir("graph");
    writeFileSync(join(dir, "flow.ts"), FLOW);
    writeFileSync(join(dir, "lib.ts"), "export const token = {};\nexport function twice(n: number): number { return n * 2; }\n");
    const file = script(dir, ["flow.ts"], REPORT);
    const first = await run(file, cache);
    const second = await run(file, cache);
    expect(first.paths).toEqual(["hooks"]);
    expect(first.stderr).toMatch(/hooks .*flow\.ts: .*has not been stripped by an earlier process/);
    expect(second.paths).toEqual(["direct"]);
    const flowFile = join(dir, "flow.ts");
    const expected = {
      value: 42,
      url: pathToFileURL(flowFile).href,
      dir,
      file: flowFile,
      where: expect.stringMatching(new RegExp(`^at Module\\.where \\(${pathToFileURL(flowFile).href.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:9:\\d+\\)$`)),
      isJob: true,
      registered: "Hello",
    };
    expect(first.out).toEqual(expected);
    expect(second.out).toEqual(expected);
  });

  it("falls back to the hooks when a file of the graph was edited, then imports the new graph directly", async () => {
    const { dir, cache } = caseDir("edited");
    writeFileSync(join(dir, "flow.ts"), FLOW);
    writeFileSync(join(dir, "lib.ts"), "export const token = {};\nexport function twice(n: number): number { return n * 2; }\n");
    const file = script(dir, ["flow.ts"], "return { value: mods[0].value() };");
    await run(file, cache);
    expect(await run(file, cache)).toMatchObject({ paths: ["direct"], out: { value: 42 } });
    // Only the dependency changes: the copies of the old graph must not be served.
    writeFileSync(join(dir, "lib.ts"), "export const token = {};\nexport function twice(n: number): number { return n * 3; }\n");
    const edited = await run(file, cache);
    expect(edited).toMatchObject({ paths: ["hooks"], out: { value: 63 } });
    expect(edited.stderr).toMatch(/lib\.ts has not been stripped/);
    expect(await run(file, cache)).toMatchObject({ paths: ["direct"], out: { value: 63 } });
  });

  it("loads a module with an import() of a computed specifier through the hooks every time; one of a literal directly", async () => {
    const { dir, cache } = caseDir("dynamic");
    writeFileSync(join(dir, "lib.ts"), "export const token = {};\nexport function twice(n: number): number { return n * 2; }\n");
    writeFileSync(join(dir, "computed.ts"), 'const name: string = ["./lib", "js"].join(".");\nexport async function value(): Promise<number> { return (await import(name)).twice(5); }\n');
    writeFileSync(join(dir, "literal.ts"), 'export async function value(): Promise<number> { return (await import("./lib.js")).twice(7); }\n');
    const computed = script(dir, ["computed.ts"], "return { value: await mods[0].value() };");
    const literal = script(dir, ["literal.ts"], "return { value: await mods[0].value() };");
    for (let i = 0; i < 2; i++) {
      const r = await run(computed, cache);
      expect(r).toMatchObject({ paths: ["hooks"], out: { value: 10 } });
      if (i === 1) expect(r.stderr).toMatch(/computed\.ts imports a computed specifier: import\(name\)/);
    }
    expect(await run(literal, cache)).toMatchObject({ paths: ["hooks"], out: { value: 14 } });
    expect(await run(literal, cache)).toMatchObject({ paths: ["direct"], out: { value: 14 } });
  });

  it("gives a module imported directly and then through the hooks one instance", async () => {
    const { dir, cache } = caseDir("both");
    writeFileSync(join(dir, "flow.ts"), FLOW);
    writeFileSync(join(dir, "lib.ts"), "export const token = {};\nexport function twice(n: number): number { return n * 2; }\n");
    writeFileSync(join(dir, "computed.ts"), 'const name: string = ["./lib", "js"].join(".");\nexport async function token(): Promise<object> { return (await import(name)).token; }\n');
    const file = script(
      dir,
      ["flow.ts", "computed.ts", "lib.ts"],
      `const [flow, computed, lib] = mods;
       return { viaHooks: (await computed.token()) === flow.token, viaLoader: lib.token === flow.token, again: (await importUserModule(${JSON.stringify(join(dir, "flow.ts"))})) === flow };`,
    );
    await run(file, cache);
    const r = await run(file, cache);
    expect(r.paths).toEqual(["direct", "hooks", "direct"]);
    expect(r.out).toEqual({ viaHooks: true, viaLoader: true, again: true });
  });

  it("lets many processes write the same entries at once (renamed into place, nothing half-written left)", async () => {
    const { dir, cache } = caseDir("concurrent");
    writeFileSync(join(dir, "flow.ts"), FLOW);
    writeFileSync(join(dir, "lib.ts"), "export const token = {};\nexport function twice(n: number): number { return n * 2; }\n");
    const file = script(dir, ["flow.ts"], "return { value: mods[0].value() };");
    // Recording at once: a process that starts after another one recorded may already import directly,
    // so each either records or imports directly, and at least one records. Then all import directly at once.
    const recording = await Promise.all(Array.from({ length: 6 }, () => run(file, cache)));
    for (const r of recording) expect(r).toMatchObject({ out: { value: 42 } });
    expect(recording.map((r) => r.paths).flat()).toContain("hooks");
    for (const r of recording) expect(["hooks", "direct"]).toContain(r.paths[0]);
    const direct0 = await Promise.all(Array.from({ length: 6 }, () => run(file, cache)));
    for (const r of direct0) expect(r).toMatchObject({ paths: ["direct"], out: { value: 42 } });
    const direct = readdirSync(join(cache, "toil-ts", "direct"));
    expect(direct).toHaveLength(1);
    expect(readdirSync(join(cache, "toil-ts", "direct", direct[0]!)).sort()).toEqual(["m0.mjs", "m1.mjs"]);
    expect(readdirSync(join(cache, "toil-ts", "stripped")).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("drops a cache entry nobody used for a month when it adds one, and still runs", async () => {
    const { dir, cache } = caseDir("prune");
    const stale = join(cache, "toil-ts", "stripped", `${"0".repeat(64)}.js`);
    mkdirSync(dirname(stale), { recursive: true });
    writeFileSync(stale, "export {};\n");
    const monthAgo = (Date.now() - 40 * 86_400_000) / 1000;
    utimesSync(stale, monthAgo, monthAgo);
    writeFileSync(join(dir, "flow.ts"), FLOW);
    writeFileSync(join(dir, "lib.ts"), "export const token = {};\nexport function twice(n: number): number { return n * 2; }\n");
    const file = script(dir, ["flow.ts"], "return { value: mods[0].value() };");
    expect(await run(file, cache)).toMatchObject({ paths: ["hooks"], out: { value: 42 } });
    expect(existsSync(stale)).toBe(false);
    expect(await run(file, cache)).toMatchObject({ paths: ["direct"], out: { value: 42 } });
  });

  it("uses the hooks for import.meta.resolve, and records a damaged import record again", async () => {
    const { dir, cache } = caseDir("meta-resolve");
    writeFileSync(join(dir, "lib.ts"), "export const token = {};\nexport function twice(n: number): number { return n * 2; }\n");
    writeFileSync(join(dir, "resolves.ts"), 'export const lib: string = import.meta.resolve("./lib.ts");\n');
    const resolves = script(dir, ["resolves.ts"], "return { lib: mods[0].lib };");
    const lib = pathToFileURL(join(dir, "lib.ts")).href;
    for (let i = 0; i < 2; i++) expect(await run(resolves, cache)).toMatchObject({ paths: ["hooks"], out: { lib } });
    expect((await run(resolves, cache)).stderr).toMatch(/uses import\.meta other than import\.meta\.url/);
    const plain = script(dir, ["lib.ts"], "return { value: mods[0].twice(4) };");
    await run(plain, cache);
    expect(await run(plain, cache)).toMatchObject({ paths: ["direct"], out: { value: 8 } });
    const strippedDir = join(cache, "toil-ts", "stripped");
    for (const f of readdirSync(strippedDir).filter((name) => name.endsWith(".imports.json"))) writeFileSync(join(strippedDir, f), "{damaged");
    const damaged = await run(plain, cache);
    expect(damaged).toMatchObject({ paths: ["hooks"], out: { value: 8 } });
    expect(damaged.stderr).toMatch(/import record of .*lib\.ts is damaged/);
    expect(await run(plain, cache)).toMatchObject({ paths: ["direct"], out: { value: 8 } });
  });

  it("gives a module that imports only core names from @toil/job the core entry, with the same classes", async () => {
    const { dir, cache } = caseDir("core-entry");
    writeFileSync(join(dir, "flow.ts"), `import { Job, type JobFunction } from "@toil/job";\nexport class Hello extends Job { run(): string { return "hi"; } }\nexport type F = JobFunction;\n`);
    writeFileSync(
      join(dir, "configured.ts"),
      `import {\n  Job,\n  defaultConfig as defaults,\n} from "@toil/job";\nexport class Other extends Job {}\nexport const retries: number = defaults({ jobStore: "js", retryCount: 2 }).retryCount;\n`,
    );
    // Like a worker: the process itself loads only @toil/job/core.
    const file = join(dir, "run.mjs");
    writeFileSync(
      file,
      `import { Job, importUserModule, userModuleLoadPath } from "@toil/job/core";
const flow = await importUserModule(${JSON.stringify(join(dir, "flow.ts"))});
const configured = await importUserModule(${JSON.stringify(join(dir, "configured.ts"))});
console.log(JSON.stringify({
  paths: [userModuleLoadPath(${JSON.stringify(join(dir, "flow.ts"))}), userModuleLoadPath(${JSON.stringify(join(dir, "configured.ts"))})],
  out: { hello: flow.Hello.prototype instanceof Job, other: configured.Other.prototype instanceof Job, retries: configured.retries },
}));
`,
    );
    const first = await run(file, cache);
    const second = await run(file, cache);
    expect(first.paths).toEqual(["hooks", "hooks"]);
    expect(second.paths).toEqual(["direct", "direct"]);
    for (const r of [first, second]) expect(r.out).toEqual({ hello: true, other: true, retries: 2 });
    // What each copy imports: flow.ts asked only for core's names; configured.ts for the schema's too.
    const copies = readdirSync(join(cache, "toil-ts", "direct")).map((d) => readFileSync(join(cache, "toil-ts", "direct", d, "m0.mjs"), "utf8"));
    const jobDist = pathToFileURL(join(pkg, "dist")).href;
    expect(copies.find((c) => c.includes("class Hello"))).toContain(`from "${jobDist}/core.js"`);
    expect(copies.find((c) => c.includes("class Other"))).toContain(`from "${jobDist}/index.js"`);
  });

  it("uses the hooks when told to (TOIL_DIRECT_IMPORT=0)", () => {
    const { dir, cache } = caseDir("off");
    writeFileSync(join(dir, "lib.ts"), "export const token = {};\nexport function twice(n: number): number { return n * 2; }\n");
    const file = script(dir, ["lib.ts"], "return {};");
    const env = { ...process.env, XDG_CACHE_HOME: cache, TOIL_DIRECT_IMPORT: "0" };
    for (let i = 0; i < 2; i++) {
      const out = execFileSync(process.execPath, [file], { cwd: pkg, encoding: "utf8", env });
      expect(parse(out, "").paths).toEqual(["hooks"]);
    }
  });
});
