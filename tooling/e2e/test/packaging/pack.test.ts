/**
 * The packages as `pnpm pack` writes them, before any registry: every publishable package of the
 * workspace is packed into a tarball and the tarball is checked the way a user would meet it.
 *
 * - The packed package.json: no `workspace:` range left, no `source` export condition (only
 *   `types` then `import`), the publishing fields (engines, license, repository, keywords,
 *   sideEffects), and @toil/* ranges that the sibling's current version satisfies.
 * - The file list: built code, types, README.md, CHANGELOG.md, LICENSE and the runtime files the
 *   code reads from disk (runtime/, fixtures/); no sources, tests or configs. Every export and bin
 *   target, and every relative import inside dist, is in the tarball. Source maps carry their
 *   sources inline, so they do not point at the src/ that is not shipped.
 * - The README's "Example" section runs as written against the unpacked tarballs (installed into a
 *   temp project's node_modules, third-party dependencies linked from the workspace), and prints
 *   the output the README shows.
 *
 * Build first (`pnpm build`): packing takes dist as it is.
 */
import { execFileSync, spawn } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { recordFigure } from "../../src/figures.js";
import { REPO_ROOT, tempDir } from "../../src/toil.js";
import { PUBLISHABLE_DIRS } from "./publishable.js";

interface Publishable {
  /** Directory in the workspace. */
  dir: string;
  /** Directories besides dist/ that the package reads at run time. */
  runtime: string[];
  /** Files of those that must be there. */
  mustContain: string[];
}

const PUBLISHABLE: Publishable[] = [
  { dir: "packages/bus", runtime: [], mustContain: [] },
  { dir: "packages/job", runtime: [], mustContain: [] },
  { dir: "packages/filestore", runtime: [], mustContain: ["dist/testing.js"] },
  { dir: "packages/batch-core", runtime: ["runtime", "fixtures"], mustContain: ["runtime/redirect-output.mjs", "fixtures/kit-job.mjs", "dist/testing.js"] },
  { dir: "packages/batch-local", runtime: ["runtime"], mustContain: ["runtime/warm-host.mjs"] },
  { dir: "packages/batch-slurm", runtime: ["runtime"], mustContain: ["runtime/pack-runner.mjs", "runtime/worker-host.mjs", "runtime/run-job.mjs", "runtime/cgroup-memory.mjs", "dist/testing.js"] },
  { dir: "packages/cwl", runtime: [], mustContain: ["dist/cwl-jobs.js"] },
  { dir: "apps/worker", runtime: [], mustContain: ["dist/cli.js"] },
  {
    dir: "apps/leader",
    runtime: [],
    mustContain: [
      "dist/cli.js",
      "dist/worker.js",
      "dist/standalone/toil.js",
      "dist/standalone/runtime/warm-host.mjs",
      "dist/standalone/runtime/worker-host.mjs",
      "dist/standalone/runtime/redirect-output.mjs",
    ],
  },
];

interface Packed {
  spec: Publishable;
  name: string;
  workspaceManifest: Record<string, any>;
  manifest: Record<string, any>;
  files: string[];
  /** The unpacked tarball. */
  root: string;
  tarballBytes: number;
}

const work = tempDir("toil-pack-");
const packed = new Map<string, Packed>();
/** A project outside the workspace; every tarball is unpacked into its node_modules, as npm would. */
const project = path.join(work, "project");

function listFiles(dir: string, prefix = ""): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(path.join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...listFiles(dir, rel));
    else out.push(rel);
  }
  return out.sort();
}

function packOne(spec: Publishable): Packed {
  const pkgDir = path.join(REPO_ROOT, spec.dir);
  const workspaceManifest = JSON.parse(readFileSync(path.join(pkgDir, "package.json"), "utf8"));
  const dest = path.join(work, "tarballs", path.basename(spec.dir));
  mkdirSync(dest, { recursive: true });
  execFileSync("pnpm", ["pack", "--pack-destination", dest], { cwd: pkgDir, stdio: "pipe" });
  const tgz = readdirSync(dest).find((f) => f.endsWith(".tgz"));
  if (!tgz) throw new Error(`pnpm pack wrote no tarball for ${spec.dir}`);
  const root = path.join(project, "node_modules", workspaceManifest.name);
  mkdirSync(root, { recursive: true });
  execFileSync("tar", ["xzf", path.join(dest, tgz), "-C", root, "--strip-components=1"]);
  const manifest = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
  return {
    spec,
    name: workspaceManifest.name,
    workspaceManifest,
    manifest,
    files: listFiles(root),
    root,
    tarballBytes: statSync(path.join(dest, tgz)).size,
  };
}

/** Every string in a JSON value, with its path. */
function* strings(value: unknown, at = ""): Generator<[string, string]> {
  if (typeof value === "string") yield [at, value];
  else if (Array.isArray(value)) for (const [i, v] of value.entries()) yield* strings(v, `${at}[${i}]`);
  else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) yield* strings(v, `${at}.${k}`);
}

/** Export targets (or condition objects) of an exports map, with their subpath. */
function exportEntries(exportsField: unknown): [string, unknown][] {
  if (typeof exportsField === "string") return [[".", exportsField]];
  return Object.entries(exportsField as Record<string, unknown>);
}

/** Does `version` satisfy `range`? Only the forms this workspace writes: exact, ^x.y.z, ~x.y.z. */
function satisfies(version: string, range: string): boolean {
  const parse = (v: string) => v.split(".").map(Number) as [number, number, number];
  const [maj, min, pat] = parse(version);
  const op = range[0] === "^" || range[0] === "~" ? range[0] : "";
  const [rMaj, rMin, rPat] = parse(range.slice(op.length));
  const atLeast = maj > rMaj || (maj === rMaj && (min > rMin || (min === rMin && pat >= rPat)));
  if (!atLeast) return false;
  if (op === "") return maj === rMaj && min === rMin && pat === rPat;
  if (op === "~") return maj === rMaj && min === rMin;
  return rMaj > 0 ? maj === rMaj : rMin > 0 ? maj === 0 && min === rMin : maj === 0 && min === 0 && pat === rPat;
}

beforeAll(() => {
  for (const spec of PUBLISHABLE) packed.set(spec.dir, packOne(spec));
  recordFigure({ suite: "packaging", name: "packages packed and checked", value: packed.size, unit: "packages" });
  recordFigure({
    suite: "packaging",
    name: "bytes of all tarballs",
    value: [...packed.values()].reduce((a, p) => a + p.tarballBytes, 0),
    unit: "bytes",
  });
}, 300_000);

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

test("the packing suite and the npm init suite pack the same directories", () => {
  expect(PUBLISHABLE.map((p) => p.dir)).toEqual([...PUBLISHABLE_DIRS]);
});

describe.each(PUBLISHABLE.map((p) => [p.dir, p] as const))("pnpm pack %s", (dir, spec) => {
  const get = () => packed.get(dir)!;

  test("the packed package.json has no workspace: range and no source condition", () => {
    const { manifest } = get();
    const workspaceRanges = [...strings(manifest)].filter(([, v]) => v.startsWith("workspace:"));
    expect(workspaceRanges).toEqual([]);
    const conditions: string[] = [];
    for (const [subpath, target] of exportEntries(manifest.exports)) {
      if (typeof target === "string") continue;
      conditions.push(`${subpath}: ${Object.keys(target as object).join(",")}`);
    }
    expect(conditions.length).toBeGreaterThan(0);
    // TypeScript reads conditions in order: types must come before import, and nothing else is shipped.
    for (const c of conditions) expect(c).toMatch(/: types,import$/);
    expect(JSON.stringify(manifest)).not.toContain('"source"');
    expect(manifest.publishConfig?.exports).toBeUndefined();
  });

  test("the publishing fields are complete", () => {
    const { manifest, name } = get();
    expect(manifest.name).toBe(name);
    expect(manifest.type).toBe("module");
    expect(manifest.description).toEqual(expect.any(String));
    expect(manifest.license).toBe("Apache-2.0");
    expect(manifest.engines?.node).toMatch(/^>=20\./);
    expect(manifest.repository).toMatchObject({ type: "git", url: expect.stringMatching(/^git\+https:\/\//), directory: dir });
    expect(manifest.keywords).toEqual(expect.arrayContaining(["toil"]));
    expect(manifest.sideEffects === false || Array.isArray(manifest.sideEffects)).toBe(true);
    expect(manifest.publishConfig?.access).toBe("public");
    expect(manifest.private).toBeUndefined();
  });

  test("its @toil/* dependencies are publishable siblings whose current version the range accepts", () => {
    const { manifest } = get();
    for (const field of ["dependencies", "peerDependencies", "optionalDependencies"] as const) {
      for (const [dep, range] of Object.entries((manifest[field] ?? {}) as Record<string, string>)) {
        if (!dep.startsWith("@toil/")) continue;
        const sibling = [...packed.values()].find((p) => p.name === dep);
        expect(sibling, `${field}.${dep} is not a published package`).toBeDefined();
        expect(satisfies(sibling!.workspaceManifest.version, range), `${dep}@${sibling!.workspaceManifest.version} vs "${range}"`).toBe(true);
      }
    }
  });

  test("the tarball holds built code, types, README, CHANGELOG, LICENSE and runtime files only", () => {
    const { files } = get();
    const allowedDirs = ["dist/", ...spec.runtime.map((d) => `${d}/`)];
    const stray = files.filter(
      (f) => !["package.json", "README.md", "CHANGELOG.md", "LICENSE"].includes(f) && !allowedDirs.some((d) => f.startsWith(d)),
    );
    expect(stray).toEqual([]);
    expect(files.filter((f) => /(^|\/)(src|test|bench)\//.test(f) || (f.endsWith(".ts") && !f.endsWith(".d.ts")))).toEqual([]);
    for (const f of ["README.md", "CHANGELOG.md", "LICENSE", "dist/index.js", "dist/index.d.ts", ...spec.mustContain]) {
      expect(files).toContain(f);
    }
    const changelog = readFileSync(path.join(get().root, "CHANGELOG.md"), "utf8");
    expect(changelog).toMatch(new RegExp(`^# ${get().name.replace("/", "\\/")}\\n\\n## \\d+\\.\\d+\\.\\d+\\n\\n### (Major|Minor|Patch) Changes\\n`));
  });

  test("every export target, bin and relative import in dist is in the tarball", () => {
    const { manifest, files, root } = get();
    const targets: string[] = [];
    for (const [, target] of exportEntries(manifest.exports)) {
      if (typeof target === "string") targets.push(target);
      else targets.push(...Object.values(target as Record<string, string>));
    }
    for (const bin of Object.values((manifest.bin ?? {}) as Record<string, string>)) {
      targets.push(bin);
      expect(readFileSync(path.join(root, bin), "utf8").startsWith("#!/usr/bin/env node\n"), `${bin} has a node shebang`).toBe(true);
    }
    for (const t of targets) {
      const target = path.posix.normalize(t);
      // A subpath pattern ("./runtime/*") must match at least one file.
      if (target.includes("*")) {
        const [before, after] = target.split("*") as [string, string];
        expect(files.filter((f) => f.startsWith(before) && f.endsWith(after)), `target ${t}`).not.toEqual([]);
      } else expect(files, `target ${t}`).toContain(target);
    }
    const missing: string[] = [];
    for (const f of files.filter((x) => /\.(m?js|d\.ts)$/.test(x))) {
      for (const line of readFileSync(path.join(root, f), "utf8").split("\n")) {
        if (/^\s*(\*|\/\/|\/\*)/.test(line)) continue; // comments show example imports
        const specifiers = line.matchAll(/(?:^|[\s;])(?:import|export)\b[^"'`]*?from\s*["'](\.{1,2}\/[\w./-]+)["']|^\s*import\s*["'](\.{1,2}\/[\w./-]+)["']|\bimport\(\s*["'](\.{1,2}\/[\w./-]+)["']\s*\)/g);
        for (const m of specifiers) {
          const spec = (m[1] ?? m[2] ?? m[3])!;
          const rel = path.posix.normalize(path.posix.join(path.posix.dirname(f), spec));
          if (!files.includes(rel) && !files.includes(rel.replace(/\.js$/, ".d.ts"))) missing.push(`${f} -> ${spec}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  test("source maps carry their sources inline (src/ is not shipped)", () => {
    const { files, root } = get();
    for (const f of files.filter((x) => x.endsWith(".map"))) {
      const map = JSON.parse(readFileSync(path.join(root, f), "utf8"));
      expect(map.sourcesContent?.length, f).toBe(map.sources.length);
      expect(map.sourcesContent.every((s: unknown) => typeof s === "string"), f).toBe(true);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// The README examples, run from the unpacked tarballs.

/** Link the unpacked tarballs and their third-party dependencies into `project/node_modules`. */
function installProject(): void {
  const nm = path.join(project, "node_modules");
  mkdirSync(path.join(nm, "@toil"), { recursive: true });
  mkdirSync(path.join(nm, ".bin"), { recursive: true });
  writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "readme-examples", private: true, type: "module" }));
  for (const p of packed.values()) {
    for (const dep of Object.keys({ ...p.manifest.dependencies })) {
      if (dep.startsWith("@toil/")) continue;
      const target = path.join(nm, dep);
      if (existsSync(target)) continue;
      mkdirSync(path.dirname(target), { recursive: true });
      symlinkSync(realpathSync(path.join(REPO_ROOT, p.spec.dir, "node_modules", dep)), target, "dir");
    }
    for (const [bin, file] of Object.entries((p.manifest.bin ?? {}) as Record<string, string>)) {
      const binPath = path.join(nm, ".bin", bin);
      if (existsSync(binPath)) continue;
      chmodSync(path.join(p.root, file), 0o755);
      symlinkSync(path.join(p.root, file), binPath);
    }
  }
}

interface ReadmeExample {
  /** The code blocks (ts or js) by the file they are written to: `// name.ts` on the first line, else example.ts. */
  files: Map<string, string>;
  /** The shell block, or the default `node example.mjs`. */
  command: string;
  /** The output block the README shows. */
  output: string;
}

function readmeExample(readme: string): ReadmeExample {
  const section = /\n## Example\n([\s\S]*?)(?=\n## |$)/.exec(readme)?.[1];
  if (!section) throw new Error('README has no "## Example" section');
  const blocks = [...section.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1]!, body: m[2]! }));
  const files = new Map<string, string>();
  for (const b of blocks.filter((x) => x.lang === "ts" || x.lang === "js")) {
    files.set(/^\/\/ ([\w.-]+\.m?[tj]s)\b/.exec(b.body)?.[1] ?? "example.ts", b.body);
  }
  const sh = blocks.find((b) => b.lang === "sh");
  const out = blocks.find((b) => b.lang === "text");
  if (files.size === 0 || !out) throw new Error("the Example section needs a ts block and a text block with its output");
  return { files, command: sh?.body.trim() ?? "node example.mjs", output: out.body };
}

function runShell(command: string, cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !/^(VITEST|npm_|PNPM_|NODE_OPTIONS$|NODE_PATH$|TOIL_)/i.test(k)) env[k] = v;
  }
  env.PATH = `${path.join(project, "node_modules", ".bin")}:${env.PATH}`;
  env.NO_COLOR = "1";
  env.npm_config_update_notifier = "false";
  return new Promise((resolve, reject) => {
    const child = spawn("sh", ["-ec", command], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("README examples run from the packed packages", () => {
  beforeAll(() => installProject());

  const hasSbatch = (() => {
    try {
      execFileSync("sbatch", ["--version"], { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  })();

  test.each(PUBLISHABLE.map((p) => [p.dir] as const))("%s", async (dir) => {
    if (dir === "packages/batch-slurm" && !hasSbatch) {
      if (process.env.TOIL_TEST_REQUIRE_SLURM === "1") throw new Error("sbatch is not on PATH but TOIL_TEST_REQUIRE_SLURM=1");
      console.warn("skipping the batch-slurm README example: sbatch is not on PATH");
      return;
    }
    const p = packed.get(dir)!;
    const example = readmeExample(readFileSync(path.join(p.root, "README.md"), "utf8"));
    expect(readFileSync(path.join(p.root, "README.md"), "utf8")).toContain(`npm install ${p.name}`);
    const lines = [...example.files.values()].reduce((n, code) => n + code.trim().split("\n").length, 0);
    expect(lines, "the example is about ten lines").toBeLessThanOrEqual(16);
    const cwd = path.join(project, path.basename(dir));
    mkdirSync(cwd, { recursive: true });
    for (const [file, code] of example.files) writeFileSync(path.join(cwd, file), code);
    const r = await runShell(example.command, cwd);
    expect(r.code, `${example.command}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`).toBe(0);
    expect(r.stdout.trim()).toBe(example.output.trim());
    recordFigure({ suite: "packaging", name: "README examples run from tarballs", value: 1, unit: "examples" });
  });
});
