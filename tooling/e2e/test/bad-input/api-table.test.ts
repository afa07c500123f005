/**
 * Bad input through the library API (what a script that drives `Toil` itself, or a workflow's
 * code, can get wrong): each row asserts the error class with `instanceof`, that it is a
 * `ToilError`, and that the message names the bad value and the fix. Rows that touch a job store
 * check that the store did not change.
 */
import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Socket } from "node:net";
import path from "node:path";
import { pathToFileURL } from "node:url";
import {
  ConfigError,
  InvalidRequirementError,
  Job,
  JobDescription,
  JobDescriptionFormatError,
  JobGraphDeadlockError,
  JobPromiseConstraintError,
  JobSerializationError,
  ToilError,
  parseAccelerator,
  parseCores,
  parseSize,
  serializeValue,
} from "@toil/job";
import { InvalidImportExportUrlError } from "@toil/filestore";
import { JobStoreStateError, Toil, parseToilArgs, resolveConfig } from "@toil/leader";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { recordFigure } from "../../src/figures.js";
import { REPO_ROOT, tempDir } from "../../src/toil.js";
import { consume, produce } from "../../fixtures/bad-input/api-jobs.js";
import { diffSnapshots, fx, snapshotTree } from "./helpers.js";

// The batch-system registry, loaded from its sources as the leader's tests do (same module
// instances as @toil/job above, so instanceof holds).
type ErrorClass = abstract new (...args: never[]) => Error;
interface BatchCore {
  getBatchSystem(name: string): Promise<unknown>;
  UnknownBatchSystemError: ErrorClass;
  InvalidBatchSystemPluginError: ErrorClass;
  BatchSystemPluginLoadError: ErrorClass;
}
let batchCore: BatchCore;

function hidden(): number {
  return 1;
}

let dir: string;
let server: Server;
let http = "";
let tried = 0;

beforeAll(async () => {
  dir = tempDir("toil-bad-input-api-");
  batchCore = (await import(pathToFileURL(path.join(REPO_ROOT, "packages", "batch-core", "src", "index.ts")).href)) as BatchCore;
  server = createServer((_req, res) => {
    res.statusCode = 404;
    res.end("not found");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  http = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  recordFigure({ suite: "bad-input", name: "bad inputs tried", value: tried });
});

interface ApiRow {
  id: string;
  mistake: string;
  act: () => unknown;
  error: ErrorClass | (() => ErrorClass);
  names: string[];
  fix: RegExp;
}

const rows: ApiRow[] = [
  { id: "parse-size-2XB", mistake: "parseSize('2XB')", act: () => parseSize("2XB", { field: "memory" }), error: InvalidRequirementError, names: ['"2XB"', "'XB'"], fix: /use B, K, M, G, T, P, E/ },
  { id: "parse-size-negative", mistake: "parseSize('-1G')", act: () => parseSize("-1G"), error: InvalidRequirementError, names: ['"-1G"'], fix: /such as '2Gi'/ },
  { id: "parse-size-NaN-text", mistake: "parseSize('NaN')", act: () => parseSize("NaN"), error: InvalidRequirementError, names: ['"NaN"'], fix: /such as '2Gi'/ },
  { id: "parse-size-NaN-number", mistake: "parseSize(NaN)", act: () => parseSize(Number.NaN, { field: "disk" }), error: InvalidRequirementError, names: ["disk", "NaN"], fix: /finite, non-negative number of bytes/ },
  { id: "parse-cores-0", mistake: "parseCores(0)", act: () => parseCores(0), error: InvalidRequirementError, names: ["cores requirement 0"], fix: /fraction such as 0\.1/ },
  { id: "parse-cores-negative", mistake: "parseCores(-1)", act: () => parseCores(-1), error: InvalidRequirementError, names: ["-1"], fix: /positive number of cores/ },
  { id: "requires-cores-text", mistake: "requires({ cores: 'two' })", act: () => Job.wrapFn(produce).requires({ cores: "two" }), error: InvalidRequirementError, names: ["Job 'produce'", '"two"'], fix: /such as 1, 0\.5 or '2'/ },
  { id: "requires-memory-2XB", mistake: "requires({ memory: '2XB' })", act: () => Job.wrapFn(produce).requires({ memory: "2XB" }), error: InvalidRequirementError, names: ["Job 'produce'", '"2XB"'], fix: /use B, K, M/ },
  { id: "accelerator-count", mistake: "parseAccelerator('cuda:x')", act: () => parseAccelerator("cuda:x"), error: InvalidRequirementError, names: ['"cuda:x"', "'x'"], fix: /whole number/ },
  { id: "fn-not-exported", mistake: "Job.wrapFn of a function that is not exported", act: () => Job.wrapFn(hidden), error: JobSerializationError, names: ["'hidden'"], fix: /export function hidden/ },
  { id: "arg-function", mistake: "a function in job data", act: () => serializeValue({ onDone: function notify() {} }), error: JobSerializationError, names: ["'notify'", "value.onDone"], fix: /pass data, or make it a job/ },
  { id: "arg-socket", mistake: "a socket in job data", act: () => serializeValue([new Socket()]), error: JobSerializationError, names: ["class Socket", "value[0]"], fix: /static \[serializable\]/ },
  {
    id: "arg-circular",
    mistake: "a circular structure in job data",
    act: () => {
      const a: Record<string, unknown> = { name: "a" };
      a.self = a;
      return serializeValue(a);
    },
    error: JobSerializationError,
    names: ["value.self"],
    fix: /break the cycle/,
  },
  {
    id: "graph-cycle",
    mistake: "a cycle between jobs",
    act: () => {
      const a = Job.wrapFn(produce);
      const b = a.addChildFn(consume, 1);
      const c = b.addChildFn(produce);
      c.addFollowOn(b);
      a.checkJobGraphAcyclic();
    },
    error: JobGraphDeadlockError,
    names: ["'consume'", "'produce'"],
    fix: /Remove one of these child\/follow-on edges/,
  },
  { id: "description-garbage", mistake: "a corrupted job description", act: () => JobDescription.fromJSON({ hello: "world" }), error: JobDescriptionFormatError, names: ["Not a valid serialized JobDescription"], fix: /./ },
  { id: "args-unknown-flag", mistake: "Toil.parseArgs with an unknown flag", act: () => parseToilArgs(["./js", "--bogusFlag"], {}), error: ConfigError, names: ["--bogusFlag"], fix: /unknown option/ },
  { id: "args-bad-size", mistake: "Toil.parseArgs with --defaultMemory NaN", act: () => parseToilArgs(["./js", "--defaultMemory", "NaN"], {}), error: ConfigError, names: ['"NaN"'], fix: /write e\.g\. 2G/ },
  { id: "config-wrong-type", mistake: "resolveConfig with retryCount: many in the file", act: () => resolveConfig({ configFile: fx("config-wrong-type.yaml"), env: {} }), error: ConfigError, names: ['"many"', fx("config-wrong-type.yaml")], fix: /whole number/ },
  {
    id: "config-store-is-file",
    mistake: "resolveConfig with a job store that is a file",
    act: () => {
      const file = path.join(dir, "a-file");
      writeFileSync(file, "x");
      return resolveConfig({ flags: { jobStore: file }, env: {} });
    },
    error: ConfigError,
    names: ["a-file"],
    fix: /give a path that does not exist yet/,
  },
  { id: "batch-unknown", mistake: "getBatchSystem('nosuch')", act: () => batchCore.getBatchSystem("nosuch"), error: () => batchCore.UnknownBatchSystemError, names: ['"nosuch"'], fix: /toil-batch-nosuch/ },
  { id: "plugin-wrong-default", mistake: "a plugin whose default export is an object", act: () => batchCore.getBatchSystem(fx("plugin-wrong-default.mjs")), error: () => batchCore.InvalidBatchSystemPluginError, names: ["default export is an object"], fix: /Export the batch system class/ },
  { id: "plugin-no-default", mistake: "a plugin without a default export", act: () => batchCore.getBatchSystem(fx("plugin-no-default.mjs")), error: () => batchCore.InvalidBatchSystemPluginError, names: ["has no default export"], fix: /Export the batch system class/ },
  { id: "plugin-throws", mistake: "a plugin that throws when imported", act: () => batchCore.getBatchSystem(fx("plugin-throws.mjs")), error: () => batchCore.BatchSystemPluginLoadError, names: ["ECHO_ENDPOINT"], fix: /Fix the plugin/ },
  {
    id: "restart-missing",
    mistake: "Toil.open with restart on a store that does not exist",
    act: () => Toil.open({ jobStore: path.join(dir, "never-made"), restart: true, logLevel: "off" }),
    error: JobStoreStateError,
    names: ["never-made"],
    fix: /Run without --restart/,
  },
];

describe("bad input through the library API", () => {
  test.each(rows.map((r) => [`${r.mistake} (${r.id})`, r] as const))("%s", async (_title, row) => {
    tried++;
    let caught: unknown;
    try {
      await row.act();
    } catch (err) {
      caught = err;
    }
    // A class, or a thunk (arrow functions have no prototype) for classes loaded in beforeAll.
    const cls = (row.error as { prototype?: unknown }).prototype ? (row.error as ErrorClass) : (row.error as () => ErrorClass)();
    expect(caught, "an error is thrown").toBeInstanceOf(cls);
    expect(caught).toBeInstanceOf(ToilError);
    const message = (caught as Error).message;
    for (const value of row.names) expect(message).toContain(value);
    expect(message).toMatch(row.fix);
  });

  // Stores: a promise consumed too early, and imports that fail, leave the store as it was.
  test("a promise used before it can be resolved: JobPromiseConstraintError, and no store is left behind", async () => {
    tried++;
    const jobStore = path.join(dir, "promise-store");
    const toil = await Toil.open({ jobStore, logLevel: "off" });
    const root = Job.wrapFn(produce);
    const early = root.addChildFn(produce);
    root.addChildFn(consume, early.rv());
    const err = await toil.start(root).catch((e: unknown) => e);
    await toil.close(err);
    expect(err).toBeInstanceOf(JobPromiseConstraintError);
    expect((err as Error).message).toMatch(/Job 'consume' consumes a promise of job 'produce'.*child or follow-on of 'produce'/s);
    const { existsSync } = await import("node:fs");
    expect(existsSync(jobStore)).toBe(false);
  });

  test.each([
    ["an unsupported URL scheme", (): string => "ftp://example.org/reads.fq", /no handler can import 'ftp:' URLs \(schemes that can: .*file:/],
    ["a URL that answers 404", (): string => `${http}/missing/reads.fq`, /HTTP 404 \(not found\)/],
    ["a local file that does not exist", (): string => path.join(dir, "nope.fq"), /no such file/],
  ] as const)("importFile of %s: InvalidImportExportUrlError naming it, and the store is unchanged", async (_what, url, reason) => {
    tried++;
    const jobStore = path.join(dir, `import-store-${Math.random().toString(36).slice(2)}`);
    const toil = await Toil.open({ jobStore, logLevel: "off", clean: "always" });
    try {
      const before = snapshotTree(jobStore);
      const err = await toil.importFile(url()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidImportExportUrlError);
      expect((err as Error).message).toContain(url().replace(/^\//, ""));
      expect((err as Error).message).toMatch(reason);
      expect(diffSnapshots(before, snapshotTree(jobStore))).toEqual([]);
    } finally {
      await toil.close();
    }
  });
});
