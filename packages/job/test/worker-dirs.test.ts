import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { defaultConfig, workerCoordinationDir, workerWorkflowDir } from "../src/index.js";

const saved = { TMPDIR: process.env.TMPDIR, TMP: process.env.TMP, TEMP: process.env.TEMP };
afterEach(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

describe("where a workflow's workers keep their files", () => {
  const config = { ...defaultConfig(), workflowId: "wf1" };

  it("follows TMPDIR, TMP and TEMP as they change between jobs of one process", () => {
    delete process.env.TMP;
    delete process.env.TEMP;
    process.env.TMPDIR = "/scratch/a/";
    expect(workerWorkflowDir(config, {})).toBe(path.join("/scratch/a", "toilwf-wf1"));
    process.env.TMPDIR = "/scratch/b";
    expect(workerWorkflowDir(config, {})).toBe(path.join("/scratch/b", "toilwf-wf1"));
    delete process.env.TMPDIR;
    process.env.TEMP = "/scratch/c";
    expect(workerWorkflowDir(config, {})).toBe(path.join("/scratch/c", "toilwf-wf1"));
  });

  it("puts --workDir and TOIL_WORKDIR before the system temp directory, and --coordinationDir before the workflow's directory", () => {
    process.env.TMPDIR = "/scratch/a";
    expect(workerWorkflowDir(config, { TOIL_WORKDIR: "/work" })).toBe(path.join("/work", "toilwf-wf1"));
    expect(workerWorkflowDir({ ...config, workDir: "/wd" }, { TOIL_WORKDIR: "/work" })).toBe(path.join("/wd", "toilwf-wf1"));
    expect(workerCoordinationDir(config, {})).toBe(path.join("/scratch/a", "toilwf-wf1"));
    expect(workerCoordinationDir({ ...config, coordinationDir: "/coord" }, {})).toBe(path.join("/coord", "toilwf-wf1"));
    expect(workerCoordinationDir({ ...config, coordinationDir: "/coord" }, {}, "/given/toilwf-wf1")).toBe(path.join("/coord", "toilwf-wf1"));
  });
});
