import { mkdirSync, symlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  addBatchSystemSearchPath,
  getBatchSystem,
  resetBatchSystemRegistry,
  resolveBatchSystemOptions,
  validateBatchSystemClass,
} from "@toil/batch-core";
import { afterEach, describe, expect, it } from "vitest";
import SingleMachine from "../src/index.js";
import { cleanup, desc, tempDir } from "./helpers.js";

afterEach(async () => {
  resetBatchSystemRegistry();
  await cleanup();
});

describe("single_machine in the plugin registry", () => {
  it("its default export fits the contract", () => {
    expect(validateBatchSystemClass(SingleMachine, "single_machine", "test")).toBe(SingleMachine);
    expect(SingleMachine.supportsWorkerCleanup()).toBe(true);
    expect(SingleMachine.supportsAutoDeployment()).toBe(false);
  });

  it("is found by its package name from where the application has it installed", async () => {
    const app = tempDir();
    mkdirSync(join(app, "node_modules", "@toil"), { recursive: true });
    symlinkSync(join(dirname(fileURLToPath(import.meta.url)), ".."), join(app, "node_modules", "@toil", "batch-local"));
    addBatchSystemSearchPath(app);
    const Cls = await getBatchSystem("@toil/batch-local");
    expect(Cls.batchSystemName).toBe("single_machine");
    const bs = new Cls({ workflowId: "reg", workDir: tempDir() }, 1, 2 ** 30, 2 ** 30);
    try {
      const id = await bs.issueBatchJob("true", desc("t"));
      expect(await bs.getUpdatedBatchJob(30)).toMatchObject({ jobId: id, exitStatus: 0 });
    } finally {
      await bs.shutdown();
    }
  });

  it("declares its options with defaults", () => {
    expect(resolveBatchSystemOptions(SingleMachine.options, {}, {})).toEqual({ warmWorkers: true, killGraceSeconds: 2 });
    expect(resolveBatchSystemOptions(SingleMachine.options, {}, { TOIL_WARM_WORKERS: "false" })).toMatchObject({ warmWorkers: false });
  });
});
