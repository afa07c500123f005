/**
 * The packages as users get them: a local npm registry (Verdaccio on 127.0.0.1, storage in a temp
 * dir) receives every public package of the workspace through `pnpm publish -r` (later releases
 * through `pnpm changeset publish`), and
 * projects outside the workspace install them with plain `npm install`:
 *
 * - a consumer installs only @toil/job and @toil/leader and runs a .ts workflow with `npx toil run`;
 * - a second consumer installs only @toil/bus and reads the first one's bus log with it;
 * - the third-party plugin toil-batch-echo (examples/), which depends only on @toil/batch-core, is
 *   installed in the consumer; `--batchSystem echo` finds it by name and runs the workflow on it,
 *   and the conformance kit of the installed @toil/batch-core/testing passes against it;
 * - a release of @toil/bus alone reaches the consumer through `npm update`, nothing else moves;
 * - a minor changeset on @toil/batch-core bumps it and its dependents only, and
 *   `pnpm changeset version` + `pnpm changeset publish` put exactly those on the registry.
 *
 * Publishing and versioning happen in a copy of the workspace (built dist included), so the
 * repository's own pending changesets are never consumed. Build first (`pnpm build`).
 * The tests of this file run in order and share the registry and the consumer.
 */
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { recordFigure } from "../../src/figures.js";
import { REPO_ROOT, tempDir } from "../../src/toil.js";
import {
  type LocalRegistry,
  type WorkspacePackage,
  copyWorkspace,
  installedPackages,
  mustRun,
  installedIntegrity,
  run,
  startRegistry,
  userEnv,
  workspaceRefs,
} from "./helpers.js";

const FLOW = `import { Job } from "@toil/job";

export function square(i: number): number {
  return i * i;
}

export function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

export function fan(job: Job, n: number) {
  const parts = [];
  for (let i = 0; i < n; i++) parts.push(job.addChildFn(square, i).rv());
  return job.addFollowOnFn(sum, parts).rv();
}

export default function main({ args }: { args: string[] }) {
  return Job.wrapJobFn(fan, Number(args[0] ?? "4"));
}
`;

const RUN_FLAGS = ["--defaultMemory", "64Mi", "--defaultCores", "0.1", "--defaultDisk", "1Mi", "--disableProgress", "--logLevel", "warning"];

let root: string;
let registry: LocalRegistry;
let ws: string;
let published: WorkspacePackage[];
let consumer: string;
let cache: string;

function readJson<T = Record<string, unknown>>(file: string): T {
  return JSON.parse(readFileSync(file, "utf8")) as T;
}

/** Environment of the publisher: the npmrc with the registry and its token. */
function publishEnv(): Record<string, string> {
  return userEnv({ NPM_CONFIG_USERCONFIG: registry.npmrc, npm_config_registry: registry.url });
}

/** Environment of a consumer: its own .npmrc names the registry; one npm cache for the whole suite. */
function consumerEnv(extra: Record<string, string> = {}): Record<string, string> {
  return userEnv({ npm_config_cache: cache, ...extra });
}

function newProject(name: string): string {
  const dir = path.join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "package.json"), `${JSON.stringify({ name, version: "1.0.0", private: true, type: "module" }, null, 2)}\n`);
  writeFileSync(path.join(dir, ".npmrc"), `registry=${registry.url}\n`);
  return dir;
}

/** Versions of a package on the local registry ([] when it has none). */
async function registryVersions(name: string): Promise<string[]> {
  const res = await fetch(`${registry.url}${name.replace("/", "%2f")}`);
  if (res.status === 404) return [];
  const doc = (await res.json()) as { versions?: Record<string, unknown> };
  return Object.keys(doc.versions ?? {}).sort();
}

async function registryManifest(name: string, version: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${registry.url}${name.replace("/", "%2f")}/${version}`);
  expect(res.status, `${name}@${version} on the local registry`).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

function wsVersions(): Map<string, string> {
  return new Map(published.map((p) => [p.name, readJson<{ version: string }>(path.join(ws, p.dir, "package.json")).version]));
}

/** The `@toil/*` and `toil-batch-*` packages under a project's node_modules, with their versions. */
function ourInstalled(project: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, versions] of installedPackages(project)) {
    if (name.startsWith("@toil/") || name.startsWith("toil-batch-")) out[name] = versions;
  }
  return out;
}

function toil(args: string[], extraEnv: Record<string, string> = {}) {
  return run("npx", ["--no-install", "toil", ...args], { cwd: consumer, env: consumerEnv(extraEnv), timeoutMs: 300_000 });
}

beforeAll(async () => {
  if (!existsSync(path.join(REPO_ROOT, "apps", "leader", "dist", "cli.js"))) throw new Error("Build first: pnpm build");
  root = realpathSync(tempDir("toil-registry-"));
  cache = path.join(root, "npm-cache");
  registry = await startRegistry(path.join(root, "registry"));
  ws = path.join(root, "workspace");
  const copied = await copyWorkspace(ws);
  published = copied.filter((p) => !p.private);
}, 300_000);

afterAll(async () => {
  await registry?.stop();
  if (root && !process.env.TOIL_E2E_KEEP) rmSync(root, { recursive: true, force: true });
}, 60_000);

describe("packages through a real npm registry", () => {
  test("`pnpm publish -r` puts every public package on the registry, with real version ranges", async () => {
    const names = published.map((p) => p.name).sort();
    expect(names).toEqual(expect.arrayContaining(["@toil/bus", "@toil/job", "@toil/batch-core", "@toil/leader", "toil-batch-echo"]));
    const r = await mustRun("pnpm", ["publish", "-r", "--no-git-checks"], { cwd: ws, env: publishEnv(), timeoutMs: 300_000 });
    for (const p of published) {
      const version = wsVersions().get(p.name) as string;
      expect(await registryVersions(p.name), `${p.name} published (pnpm output:\n${r.stdout}\n${r.stderr})`).toEqual([version]);
      const manifest = await registryManifest(p.name, version);
      // What users install must name versions, not the workspace.
      for (const field of ["dependencies", "peerDependencies", "optionalDependencies"]) {
        for (const [dep, range] of Object.entries((manifest[field] as Record<string, string> | undefined) ?? {})) {
          expect(range, `${p.name} ${field}.${dep}`).not.toMatch(/^workspace:/);
        }
      }
    }
    recordFigure({ suite: "registry", name: "packages published to a local registry", value: published.length });
  }, 300_000);

  test("a project outside the workspace installs only @toil/job and @toil/leader with npm and runs a .ts workflow with npx toil", async () => {
    consumer = newProject("consumer");
    writeFileSync(path.join(consumer, "flow.ts"), FLOW);
    await mustRun("npm", ["install", "@toil/job", "@toil/leader"], { cwd: consumer, env: consumerEnv(), timeoutMs: 300_000 });
    const ours = ourInstalled(consumer);
    // One copy of each, the very tarball the local registry holds.
    for (const [name, versions] of Object.entries(ours)) {
      expect(versions, name).toHaveLength(1);
      const dist = (await registryManifest(name, versions[0] as string)).dist as { integrity: string };
      expect(installedIntegrity(consumer, name), name).toEqual([dist.integrity]);
    }
    expect(Object.keys(ours)).toEqual(expect.arrayContaining(["@toil/job", "@toil/leader", "@toil/bus"]));
    expect(Object.keys(ours)).not.toContain("toil-batch-echo");
    const installed = readJson<{ dependencies: Record<string, string> }>(path.join(consumer, "package.json")).dependencies;
    expect(Object.keys(installed).sort()).toEqual(["@toil/job", "@toil/leader"]);

    const r = await toil(["run", "flow.ts", "--jobStore", "./js", "--writeMessages", "bus.jsonl", ...RUN_FLAGS, "--", "5"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe("30"); // 0 + 1 + 4 + 9 + 16
    expect(existsSync(path.join(consumer, "bus.jsonl"))).toBe(true);
    recordFigure({ suite: "registry", name: "packages in the consumer's install", value: installedPackages(consumer).size });
  }, 600_000);

  test("a second project installs only @toil/bus, gets nothing else, and reads the first one's bus log", async () => {
    const reader = newProject("bus-reader");
    // Nothing was released since the consumer's install: npm may use the metadata it has.
    await mustRun("npm", ["install", "--prefer-offline", "@toil/bus"], { cwd: reader, env: consumerEnv(), timeoutMs: 300_000 });
    const busManifest = readJson<{ dependencies?: Record<string, string> }>(path.join(reader, "node_modules", "@toil", "bus", "package.json"));
    // Exactly @toil/bus and what it declares (today: nothing).
    const expected = ["@toil/bus", ...Object.keys(busManifest.dependencies ?? {})].sort();
    expect([...installedPackages(reader).keys()].sort()).toEqual(expected);
    writeFileSync(
      path.join(reader, "read.mjs"),
      `import { readBusLog } from "@toil/bus";
const log = readBusLog(process.argv[2]);
const counts = {};
for await (const m of log) counts[m.type] = (counts[m.type] ?? 0) + 1;
console.log(JSON.stringify(counts));
`,
    );
    const r = await mustRun(process.execPath, ["read.mjs", path.join(consumer, "bus.jsonl")], { cwd: reader, env: consumerEnv() });
    const counts = JSON.parse(r.stdout) as Record<string, number>;
    // fan + 5 squares + sum
    expect(counts.JobIssued).toBe(7);
    expect(counts.JobCompleted).toBe(7);
    expect(counts.JobFailed ?? 0).toBe(0);
  }, 300_000);

  test("toil-batch-echo from the registry: `toil run --batchSystem echo` finds it by name and runs the workflow on it", async () => {
    const manifest = await registryManifest("toil-batch-echo", wsVersions().get("toil-batch-echo") as string);
    // A third-party plugin: it needs @toil/batch-core and nothing else of ours.
    expect(Object.keys((manifest.dependencies as Record<string, string>) ?? {})).toEqual(["@toil/batch-core"]);
    await mustRun("npm", ["install", "--prefer-offline", "toil-batch-echo"], { cwd: consumer, env: consumerEnv(), timeoutMs: 300_000 });
    expect(ourInstalled(consumer)["@toil/batch-core"]).toHaveLength(1); // shared with the leader
    const echoLog = path.join(consumer, "echo.log");
    const r = await toil(["run", "flow.ts", "--jobStore", "./js-echo", "--batchSystem", "echo", ...RUN_FLAGS, "--", "3"], { TOIL_BATCH_ECHO_LOG: echoLog });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe("5"); // 0 + 1 + 4
    const lines = readFileSync(echoLog, "utf8").split("\n");
    // fan + 3 squares + sum, each started and finished by the plugin
    expect(lines.filter((l) => l.startsWith("[echo] started ")).length).toBe(5);
    expect(lines.filter((l) => /^\[echo\] finished .*: exit 0 /.test(l)).length).toBe(5);
    expect(lines.some((l) => l.includes('"square"'))).toBe(true);
  }, 600_000);

  test("a release of @toil/bus alone is picked up by `npm update`; no other package moves", async () => {
    const busDir = path.join(ws, (published.find((p) => p.name === "@toil/bus") as WorkspacePackage).dir);
    const manifestFile = path.join(busDir, "package.json");
    const busManifest = readJson<{ version: string }>(manifestFile);
    const [major, minor, patch] = busManifest.version.split(".").map(Number) as [number, number, number];
    const next = `${major}.${minor}.${patch + 1}`;
    writeFileSync(manifestFile, readFileSync(manifestFile, "utf8").replace(`"version": "${busManifest.version}"`, `"version": "${next}"`));
    const others = published.filter((p) => p.name !== "@toil/bus");
    const before = new Map(await Promise.all(others.map(async (p) => [p.name, await registryVersions(p.name)] as const)));
    await mustRun("pnpm", ["publish", "--no-git-checks"], { cwd: busDir, env: publishEnv(), timeoutMs: 300_000 });
    expect(await registryVersions("@toil/bus")).toContain(next);
    for (const p of others) expect(await registryVersions(p.name), p.name).toEqual(before.get(p.name));

    const installedBefore = ourInstalled(consumer);
    await mustRun("npm", ["update"], { cwd: consumer, env: consumerEnv(), timeoutMs: 300_000 });
    const installedAfter = ourInstalled(consumer);
    expect(installedAfter["@toil/bus"]).toEqual([next]); // one copy, the new one
    for (const [name, versions] of Object.entries(installedBefore)) {
      if (name !== "@toil/bus") expect(installedAfter[name], name).toEqual(versions);
    }
    const r = await toil(["run", "flow.ts", "--jobStore", "./js-updated", ...RUN_FLAGS, "--", "4"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe("14");
  }, 600_000);

  test("the conformance kit of the installed @toil/batch-core/testing passes against the installed toil-batch-echo", async () => {
    // The kit runs under vitest, which a plugin author installs next to it. The workspace's own
    // vitest is linked in to save a large download; the kit and the plugin are the installed ones.
    const vitest = realpathSync(path.join(REPO_ROOT, "node_modules", "vitest"));
    symlinkSync(vitest, path.join(consumer, "node_modules", "vitest"), "dir");
    writeFileSync(
      path.join(consumer, "echo-kit.test.mjs"),
      `import { describeBatchSystemConformance } from "@toil/batch-core/testing";
import EchoBatchSystem from "toil-batch-echo";

describeBatchSystemConformance("toil-batch-echo", EchoBatchSystem);
`,
    );
    const report = path.join(root, "kit-report.json");
    const r = await run(
      process.execPath,
      [path.join(vitest, "vitest.mjs"), "run", "--root", consumer, "--reporter=json", `--outputFile=${report}`, "echo-kit.test.mjs"],
      { cwd: consumer, env: consumerEnv({ TOIL_BATCH_ECHO_LOG: "/dev/null" }), timeoutMs: 300_000 },
    );
    expect(existsSync(report), `${r.stdout}\n${r.stderr}`).toBe(true);
    const result = readJson<{ numPassedTests: number; numFailedTests: number; numTotalTests: number; testResults: { name: string }[] }>(report);
    expect(result.testResults.map((t) => t.name)).toEqual([path.join(consumer, "echo-kit.test.mjs")]);
    expect(result.numFailedTests, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(result.numPassedTests).toBeGreaterThanOrEqual(15);
    expect(r.code).toBe(0);
    // The kit came from the registry, not from the workspace.
    expect(realpathSync(path.join(consumer, "node_modules", "@toil", "batch-core")).startsWith(consumer)).toBe(true);
    recordFigure({ suite: "registry", name: "kit tests passed by the installed plugin", value: result.numPassedTests });
  }, 600_000);

  test("a minor changeset on @toil/batch-core bumps it and its dependents only; `pnpm changeset version` then `pnpm changeset publish`", async () => {
    const before = wsVersions();
    // Who depends on batch-core, directly or not (what users install with it).
    const manifests = new Map(published.map((p) => [p.name, readJson<Record<string, unknown>>(path.join(ws, p.dir, "package.json"))] as const));
    const dependents = new Set(["@toil/batch-core"]);
    for (let grew = true; grew; ) {
      grew = false;
      for (const [name, m] of manifests) {
        if (dependents.has(name)) continue;
        if (workspaceRefs(m, ["dependencies", "peerDependencies", "optionalDependencies"]).some((d) => dependents.has(d))) {
          dependents.add(name);
          grew = true;
        }
      }
    }
    expect([...dependents]).toEqual(expect.arrayContaining(["@toil/batch-local", "@toil/leader", "toil-batch-echo"]));
    expect(dependents.has("@toil/bus") || dependents.has("@toil/job")).toBe(false);

    writeFileSync(path.join(ws, ".changeset", "e2e-batch-core-fix.md"), `---\n"@toil/batch-core": minor\n---\n\nNew in the batch contract.\n`);
    await mustRun("pnpm", ["changeset", "version"], { cwd: ws, env: publishEnv(), timeoutMs: 120_000 });
    const after = wsVersions();
    // 0.x: a minor release leaves the dependents' ^ ranges, so each dependent gets a patch release asking for it.
    const bumped = [...after].filter(([name, v]) => before.get(name) !== v).map(([name]) => name).sort();
    expect(bumped).toEqual([...dependents].sort());
    expect(readFileSync(path.join(ws, "packages", "batch-core", "CHANGELOG.md"), "utf8")).toContain("New in the batch contract.");
    expect(existsSync(path.join(ws, ".changeset", "e2e-batch-core-fix.md"))).toBe(false);

    const registryBefore = new Map(await Promise.all(published.map(async (p) => [p.name, await registryVersions(p.name)] as const)));
    await mustRun("pnpm", ["changeset", "publish"], { cwd: ws, env: publishEnv(), timeoutMs: 300_000 });
    for (const p of published) {
      const versions = await registryVersions(p.name);
      if (bumped.includes(p.name)) expect(versions, p.name).toEqual([...(registryBefore.get(p.name) ?? []), after.get(p.name) as string].sort());
      else expect(versions, p.name).toEqual(registryBefore.get(p.name));
    }
    // The new plugin version asks for the new batch-core.
    const echo = await registryManifest("toil-batch-echo", after.get("toil-batch-echo") as string);
    expect((echo.dependencies as Record<string, string>)["@toil/batch-core"]).toMatch(new RegExp(`${(after.get("@toil/batch-core") as string).replaceAll(".", "\\.")}$`));
  }, 600_000);
});
