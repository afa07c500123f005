/**
 * Deserialization never evaluates code: a job store edited by someone else (a job description
 * pointing at another module or function, code-like strings in its arguments) cannot make a worker
 * run anything but the workflow's own module functions. Each tampered store is given to the real
 * `toil-worker` (with the environment `toil run` gives its workers); one is restarted through the
 * real leader. The job fails with a clear error in its log and nothing foreign runs. (Every kind
 * of reference, bare built-in names and __proto__ included, is also covered by @toil/job's unit tests.)
 */
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { crc32 } from "node:zlib";
import { FileJobStore } from "@toil/filestore";
import { TRUSTED_MODULE_ROOTS_ENV, trustedModuleRootsFor } from "@toil/job";
import { recordFigure, REPO_ROOT, runToil, tempDir } from "../../src/index.js";

const WORKER = path.join(REPO_ROOT, "apps", "worker", "dist", "cli.js");

const SUITE = "security/deserialization";
const GATE = path.join(REPO_ROOT, "tooling", "e2e", "fixtures", "security", "gate.ts");
const QUIET = ["--retryCount", "0", "--disableProgress", "--logLevel", "warning", "--defaultCores", "0.1"];

const base = tempDir("toil-sec-deser-");
const pristine = path.join(base, "pristine");
const canary = path.join(base, "canary-by-foreign-code");
let refusedCount = 0;

/**
 * The stored document of the store's only job. The pristine store's commit logs are folded first
 * (see beforeAll), so the job is a file of its own: `#toil v=<version> crc32=<hex>` and its JSON.
 */
function jobFile(store: string): string {
  const jobs = path.join(store, "jobs");
  for (const shard of readdirSync(jobs)) {
    for (const f of readdirSync(path.join(jobs, shard))) if (f.endsWith(".json")) return path.join(jobs, shard, f);
  }
  throw new Error("no stored job");
}

beforeAll(async () => {
  // A first run fails at the gate and leaves the store behind.
  const r = await runToil(["run", GATE, "--jobStore", pristine, ...QUIET, "--", path.join(base, "gate")], { cwd: base });
  expect(r.code, r.stderr).not.toBe(0);
  expect(r.stderr).toContain("gate closed");
  // Fold its commit logs into files (what the next leader run does), so the job's description is
  // a file of its own for the tests to edit.
  const store = new FileJobStore(pristine);
  await store.resume();
  await (await store.acquireLeaderLock()).release();
  await store.fold();
  expect(existsSync(jobFile(pristine))).toBe(true);
}, 120_000);

/** A folded document's JSON (after its header line). */
function readDoc(file: string): Doc {
  const raw = readFileSync(file, "utf8");
  return JSON.parse(raw.slice(raw.indexOf("\n") + 1)) as Doc;
}

/**
 * Write a folded document back as someone who can write the store would: with a header whose
 * checksum matches (the checksum finds damage; it is not a defence against tampering).
 */
function writeDoc(file: string, doc: Doc): void {
  const raw = readFileSync(file, "utf8");
  const version = /^#toil v=(\d+)/.exec(raw)?.[1] ?? "1";
  const body = Buffer.from(JSON.stringify(doc));
  writeFileSync(file, Buffer.concat([Buffer.from(`#toil v=${version} crc32=${(crc32(body) >>> 0).toString(16).padStart(8, "0")}\n`), body]));
}

afterAll(() => {
  recordFigure({ suite: SUITE, name: "tampered job descriptions refused", value: refusedCount });
  rmSync(base, { recursive: true, force: true });
});

type Doc = { body?: { kind: string; module: string; exportName: string; data: unknown } } & Record<string, unknown>;

/** Everything the workers of a store logged (worker_log.txt files kept in the store). */
function workerLogs(store: string): string {
  let text = "";
  for (const e of readdirSync(store, { recursive: true, withFileTypes: true })) {
    if (e.name === "worker_log.txt") text += readFileSync(path.join(e.parentPath, e.name), "utf8");
  }
  return text;
}

/** Copy the pristine store, edit its job, and run `toil-worker <store> <job>` on it as a batch system would. */
async function runWorkerTampered(name: string, edit: (doc: Doc, store: string) => void) {
  const store = path.join(base, name);
  cpSync(pristine, store, { recursive: true });
  const file = jobFile(store);
  const doc = readDoc(file);
  edit(doc, store);
  writeDoc(file, doc);
  // What `toil run` puts in its workers' environment: the workflow's project, minus the job store.
  const roots = [...trustedModuleRootsFor([pathToFileURL(GATE).href]), `!${store}`];
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, [WORKER, store, path.basename(file, ".json")], {
      cwd: base,
      env: { ...process.env, [TRUSTED_MODULE_ROOTS_ENV]: JSON.stringify(roots) },
      stdio: "ignore",
    });
    child.on("error", reject);
    child.on("close", resolve);
  });
  return { code, out: workerLogs(store) };
}

/** Copy the pristine store, edit its job, restart it with the leader; returns the leader's output. */
async function restartTampered(name: string, edit: (doc: Doc, store: string) => void) {
  const store = path.join(base, name);
  cpSync(pristine, store, { recursive: true });
  // Each copy is its own workflow (a restart stops leftover workers of its workflow id).
  const configFile = path.join(store, "meta", "config.json");
  const stored = JSON.parse(readFileSync(configFile, "utf8")) as { config: { workflowId: string; jobStore?: string } };
  stored.config.workflowId = randomUUID();
  writeFileSync(configFile, JSON.stringify(stored));
  const file = jobFile(store);
  const doc = readDoc(file);
  expect(doc.body?.kind).toBe("class");
  edit(doc, store);
  writeDoc(file, doc);
  // The gate stays closed: a job that is not refused fails there ("gate closed"), not silently.
  const r = await runToil(["run", GATE, "--jobStore", store, "--restart", ...QUIET, "--", path.join(base, "gate")], { cwd: base });
  return { ...r, out: r.stdout + r.stderr };
}

const code = (s: string) => `require('fs').writeFileSync(${JSON.stringify(canary)}, 'pwned')`;

describe("a tampered job description", () => {
  const cases: [string, (doc: Doc, store: string) => void, RegExp][] = [
    ["a Node built-in as the module (node:child_process execSync)", (d) => {
      d.body = { kind: "function", module: "node:child_process", exportName: "execSync", data: [`touch ${canary}`] };
    }, /Node built-in modules are never job code/],
    ["a data: URL with code", (d) => {
      d.body = { kind: "function", module: `data:text/javascript,${encodeURIComponent(code(""))};export const f=()=>1`, exportName: "f", data: [] };
    }, /only file: URLs and package names/],
    ["a module planted in the job store", (d, store) => {
      const planted = path.join(store, "shared", "evil.mjs");
      writeFileSync(planted, `${code("")};\nexport function run() { return 1; }\n`);
      d.body = { kind: "function", module: pathToFileURL(planted).href, exportName: "run", data: [] };
    }, /outside the workflow's module directories|never holds workflow code/],
    ["code in the export name", (d) => {
      d.body!.exportName = `Gate; ${code("")}`;
    }, /not a plain identifier/],
  ];

  for (const [title, edit, message] of cases) {
    it(`refuses ${title}`, async () => {
      const r = await runWorkerTampered(title.replace(/[^a-z]+/gi, "-").slice(0, 40), edit);
      expect(r.code, r.out).not.toBe(0);
      expect(r.out).toMatch(/Refusing to load/);
      expect(r.out).toMatch(message);
      expect(existsSync(canary)).toBe(false);
      refusedCount++;
    }, 120_000);
  }

  it("code-like strings in job arguments stay strings", async () => {
    const store = "args-are-data";
    const r = await runWorkerTampered(store, (d) => {
      // The gate path becomes a string full of code; the job must treat it as a file name (and fail the gate).
      (d.body!.data as Record<string, unknown>).gate = `$(touch ${canary}); \`touch ${canary}\`; ${code("")}`;
    });
    expect(r.code, r.out).not.toBe(0);
    expect(r.out).toContain("gate closed");
    expect(existsSync(canary)).toBe(false);
    refusedCount++;
  }, 120_000);

  it("pointing the job at another export of the workflow's own module is allowed (it is the workflow's code)", async () => {
    const r = await runWorkerTampered("other-export", (d) => {
      d.body = { kind: "function", module: d.body!.module, exportName: "otherFunction", data: [] };
    });
    expect(r.code, r.out).toBe(0);
  }, 120_000);

  it("through the real leader: toil run --restart on a store with a planted module fails the job with the reason", async () => {
    const r = await restartTampered("restart-planted", (d, store) => {
      const planted = path.join(store, "shared", "evil.mjs");
      writeFileSync(planted, `${code("")};\nexport function run() { return 1; }\n`);
      d.body = { kind: "function", module: pathToFileURL(planted).href, exportName: "run", data: [] };
    });
    expect(r.code, r.out).not.toBe(0);
    expect(r.out).toMatch(/Refusing to load 'run'/);
    expect(existsSync(canary)).toBe(false);
    refusedCount++;
  }, 120_000);
});
