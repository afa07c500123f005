import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { defaultConfig } from "@toil/job";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import {
  addBatchSystemFactory,
  type BatchSystemClass,
  getBatchSystem,
  getBatchSystemNames,
  getBatchSystemOptionSpecs,
  hasBatchSystem,
  InvalidBatchSystemPluginError,
  removeBatchSystemFactory,
  resetBatchSystemRegistry,
  resolveBatchSystemOptions,
  UnknownBatchSystemError,
  validateBatchSystemClass,
} from "../src/index.js";
import { pluginPackageCandidates } from "../src/registry.js";
import { IdleBatchSystem } from "./idle-batch-system.js";

class FakeBatchSystem extends IdleBatchSystem {
  static readonly options = [
    { name: "fakeArgument", kind: "string", section: "Fake", help: "A fake plugin option.", default: "exists", env: "TOIL_FAKE_ARGUMENT" },
    { name: "fakeCount", kind: "int", section: "Fake", help: "A number.", flag: "fake-count" },
  ] as const;
}

// A plugin module as a third party would ship it, without importing anything.
const PLUGIN_SOURCE = `
export default class PluginBatchSystem {
  static supportsAutoDeployment() { return false; }
  static supportsWorkerCleanup() { return false; }
  constructor(config) { this.config = config; }
  async issueBatchJob() { return 1; }
  async killBatchJobs() {}
  async getIssuedBatchJobIds() { return []; }
  async getRunningBatchJobIds() { return new Map(); }
  async getUpdatedBatchJob() { return null; }
  getSchedulingStatusMessage() { return null; }
  setEnv() {}
  setMessageBus() {}
  getWorkerContexts() { return []; }
  async shutdown() {}
}
`;

const root = mkdtempSync(join(tmpdir(), "toil-registry-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(() => resetBatchSystemRegistry());

function writePackage(name: string, manifest: object, files: Record<string, string>): void {
  const dir = join(root, "node_modules", name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name, ...manifest }));
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
}

describe("plugin registry", () => {
  it("names no implementation of its own: the registry starts empty (the leader registers its built-ins)", () => {
    expect(getBatchSystemNames()).toEqual([]);
  });

  it("addBatchSystemFactory registers lazily; removal restores the previous state (scenario 84)", async () => {
    const before = getBatchSystemNames();
    let calls = 0;
    addBatchSystemFactory("fake", () => {
      calls++;
      return FakeBatchSystem as unknown as BatchSystemClass;
    });
    expect(calls).toBe(0);
    expect(hasBatchSystem("fake")).toBe(true);
    expect(getBatchSystemNames()).toContain("fake");
    expect(await getBatchSystem("fake")).toBe(FakeBatchSystem);
    expect(calls).toBe(1);
    expect(removeBatchSystemFactory("fake")).toBe(true);
    expect(getBatchSystemNames()).toEqual(before);
    await expect(getBatchSystem("fake", { searchFrom: [root] })).rejects.toBeInstanceOf(UnknownBatchSystemError);
  });

  it("a plugin's declared options resolve with defaults, env and given values and land in the config (scenario 84)", async () => {
    addBatchSystemFactory("fake", () => FakeBatchSystem as unknown as BatchSystemClass);
    const specs = await getBatchSystemOptionSpecs("fake");
    expect(resolveBatchSystemOptions(specs, {}, {})).toEqual({ fakeArgument: "exists" });
    expect(resolveBatchSystemOptions(specs, {}, { TOIL_FAKE_ARGUMENT: "from-env" })).toEqual({ fakeArgument: "from-env" });
    expect(resolveBatchSystemOptions(specs, { fakeArgument: "given", fakeCount: "3" }, { TOIL_FAKE_ARGUMENT: "x" })).toEqual({
      fakeArgument: "given",
      fakeCount: 3,
    });
    expect(() => resolveBatchSystemOptions(specs, { fakeCount: "three" }, {})).toThrow(/fakeCount/);
    const config = defaultConfig({ jobStore: "./js", batchOptions: resolveBatchSystemOptions(specs, {}, {}) });
    expect(config.batchOptions.fakeArgument).toBe("exists");
  });

  it("unknown names fail with what was tried, the registered names and how to fix it", async () => {
    addBatchSystemFactory("single_machine", () => FakeBatchSystem as unknown as BatchSystemClass);
    const err = await getBatchSystem("nope", { searchFrom: [root] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownBatchSystemError);
    expect((err as Error).message).toMatch(/toil-batch-nope/);
    expect((err as Error).message).toMatch(/single_machine/);
  });

  it("finds an installed toil-batch-<name> package and checks its default export", async () => {
    writePackage("toil-batch-good", { type: "module", exports: { ".": { import: "./main.mjs" } } }, { "main.mjs": PLUGIN_SOURCE });
    const cls = await getBatchSystem("good", { searchFrom: [root] });
    expect(cls.name).toBe("PluginBatchSystem");
    expect(cls.supportsWorkerCleanup()).toBe(false);
    // Once found, the name is registered.
    expect(getBatchSystemNames()).toContain("good");
  });

  it("finds @scope/toil-batch-<name> for @scope/<name>, and a package by its full name", async () => {
    expect(pluginPackageCandidates("@acme/thing")).toEqual(["@acme/toil-batch-thing", "@acme/thing"]);
    expect(pluginPackageCandidates("toil-batch-x")).toEqual(["toil-batch-x"]);
    writePackage("@acme/toil-batch-thing", { type: "module", main: "index.mjs" }, { "index.mjs": PLUGIN_SOURCE });
    expect((await getBatchSystem("@acme/thing", { searchFrom: [root] })).name).toBe("PluginBatchSystem");
    expect((await getBatchSystem("@acme/toil-batch-thing", { searchFrom: [root] })).name).toBe("PluginBatchSystem");
  });

  it("loads a module path (relative, absolute, file: URL)", async () => {
    writeFileSync(join(root, "my-plugin.mjs"), PLUGIN_SOURCE);
    expect((await getBatchSystem("./my-plugin.mjs", { cwd: root })).name).toBe("PluginBatchSystem");
    expect((await getBatchSystem(join(root, "my-plugin.mjs"))).name).toBe("PluginBatchSystem");
    expect((await getBatchSystem(pathToFileURL(join(root, "my-plugin.mjs")).href)).name).toBe("PluginBatchSystem");
    await expect(getBatchSystem("./missing-plugin.mjs", { cwd: root })).rejects.toThrow(/does not exist/);
  });

  it("a bad default export is a clear error saying what is missing", async () => {
    writeFileSync(join(root, "no-default.mjs"), "export const x = 1;\n");
    writeFileSync(join(root, "object-default.mjs"), "export default { issueBatchJob() {} };\n");
    writeFileSync(
      join(root, "partial.mjs"),
      PLUGIN_SOURCE.replace("async getUpdatedBatchJob() { return null; }", "").replace("static supportsWorkerCleanup() { return false; }", ""),
    );
    const errOf = (p: string): Promise<Error> =>
      getBatchSystem(p, { cwd: root }).then(
        () => new Error("loaded"),
        (e: unknown) => e as Error,
      );
    const e1 = await errOf("./no-default.mjs");
    expect(e1).toBeInstanceOf(InvalidBatchSystemPluginError);
    expect(e1.message).toMatch(/no default export/);
    const e2 = await errOf("./object-default.mjs");
    expect(e2.message).toMatch(/not a class/);
    const e3 = (await errOf("./partial.mjs")) as InvalidBatchSystemPluginError;
    expect(e3.missing).toEqual(["missing static supportsWorkerCleanup()", "missing method getUpdatedBatchJob()"]);
    expect(e3.message).toMatch(/getUpdatedBatchJob/);
    expect(e3.message).toMatch(/supportsWorkerCleanup/);
    // Same check for installed packages.
    writePackage("toil-batch-broken", { type: "module", main: "index.mjs" }, { "index.mjs": "export default 42;\n" });
    await expect(getBatchSystem("broken", { searchFrom: [root] })).rejects.toBeInstanceOf(InvalidBatchSystemPluginError);
  });

  it("a package whose entry file is missing asks for a build", async () => {
    writePackage("toil-batch-unbuilt", { type: "module", exports: { ".": { import: "./dist/index.js" } } }, {});
    await expect(getBatchSystem("unbuilt", { searchFrom: [root] })).rejects.toThrow(/Build the package/);
  });

  it("validates declared options", () => {
    class BadOptions extends FakeBatchSystem {
      static override readonly options = [{ name: "x", kind: "string", section: "S", help: "h", flag: "--x" }] as never;
    }
    expect(() => validateBatchSystemClass(BadOptions, "bad", "test")).toThrow(/without leading dashes/);
    class Dup extends FakeBatchSystem {
      static override readonly options = [
        { name: "x", kind: "string", section: "S", help: "h" },
        { name: "x", kind: "string", section: "S", help: "h" },
      ] as never;
    }
    expect(() => validateBatchSystemClass(Dup, "dup", "test")).toThrow(/twice/);
  });
});
