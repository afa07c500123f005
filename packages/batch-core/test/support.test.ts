import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  type BatchJobDescription,
  BatchJobExitReason,
  BatchSystemError,
  type BatchSystemConfig,
  BatchSystemSupport,
  EXIT_STATUS_UNAVAILABLE_VALUE,
  InsufficientSystemResources,
  isBatchJobExitReason,
  isScalableBatchSystem,
  type Requirements,
  updatedBatchJobInfo,
  workflowDirName,
} from "../src/index.js";
import { defaultConfig } from "@toil/job";
import { IdleBatchSystem } from "./idle-batch-system.js";

class Minimal extends IdleBatchSystem {}

const req = (over: Partial<Requirements>): BatchJobDescription => ({
  jobName: "j",
  requirements: { cores: 1, memory: 10, disk: 100, accelerators: [], preemptible: false, ...over },
});

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("BatchSystemSupport", () => {
  const bs = new Minimal({ workflowId: "wf" }, 2, 1e9, 2001);

  it("checkResourceRequest refuses what exceeds the limits, naming resource, request and limit (scenario 77)", () => {
    const cases: [Partial<Requirements>, string, number | string][] = [
      [{ cores: 2000 }, "cores", 2000],
      [{ memory: 5000e9 }, "memory", 5000e9],
      [{ disk: 2e9 }, "disk", 2e9],
    ];
    for (const [over, resource, requested] of cases) {
      let err: unknown;
      try {
        bs.checkResourceRequest(req(over));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(InsufficientSystemResources);
      const isr = err as InsufficientSystemResources;
      expect(isr.resource).toBe(resource);
      expect(isr.requested).toBe(requested);
      expect(isr.message).toContain(resource);
      expect(isr.message).toContain(String(requested));
      expect(isr.message).toContain(String(isr.available));
      expect(isr.jobName).toBe("j");
    }
    expect(() => bs.checkResourceRequest(req({ accelerators: [{ kind: "turbo-encabulator", count: 1 }] }))).toThrow(
      /turbo-encabulator/,
    );
    expect(() => bs.checkResourceRequest(req({}))).not.toThrow();
  });

  it("checkResourceRequest rejects missing requirements with a clear error", () => {
    expect(() => bs.checkResourceRequest({ jobName: "x", requirements: {} as Requirements })).toThrow(/cores/);
    expect(() =>
      bs.checkResourceRequest({ jobName: "x", requirements: { cores: 1, memory: 1, disk: 1 } as Requirements }),
    ).toThrow(/accelerators/);
  });

  it("needs a workflowId", () => {
    expect(() => new Minimal({}, 1, 1, 1)).toThrow(/workflowId/);
  });

  it("accepts @toil/job's Config as its config", () => {
    const config: BatchSystemConfig = { ...defaultConfig({ jobStore: "./js" }), workflowId: "abc" };
    expect(new Minimal(config, 1, 1, 1).workflowId).toBe("abc");
  });

  it("setEnv stores values and copies the leader's value when none is given", () => {
    const b = new Minimal({ workflowId: "wf" }, 1, 1, 1);
    b.setEnv("A", "1");
    process.env.TOIL_SUPPORT_TEST = "copied";
    b.setEnv("TOIL_SUPPORT_TEST");
    delete process.env.TOIL_SUPPORT_TEST;
    expect(b.getEnvironment()).toEqual({ A: "1", TOIL_SUPPORT_TEST: "copied" });
    expect(() => b.setEnv("TOIL_SUPPORT_TEST")).toThrow(BatchSystemError);
    expect(() => b.setEnv("BAD=NAME", "x")).toThrow(/Invalid/);
  });

  it("formats std-out/err paths and globs in the batch logs dir", () => {
    const b = new Minimal({ workflowId: "wf9", batchLogsDir: "/logs", workDir: "/work" }, 1, 1, 1);
    expect(b.formatStdOutErrPath(7, "1234", "out")).toBe("/logs/toil_wf9.7.1234.out.log");
    expect(b.formatStdOutErrGlob(7)).toBe("/logs/toil_wf9.7.*.log");
    expect(new Minimal({ workflowId: "w", workDir: "/work" }, 1, 1, 1).getBatchLogsDir()).toBe("/work");
    expect(new Minimal({ workflowId: "w", noStdOutErr: true }, 1, 1, 1).formatStdOutErrPath(1, 2, "err")).toBe("/dev/null");
  });

  it("defaults: capabilities, no contexts, no status message, not scalable", () => {
    expect(Minimal.supportsAutoDeployment()).toBe(false);
    expect(Minimal.supportsWorkerCleanup()).toBe(false);
    expect(bs.getWorkerContexts()).toEqual([]);
    expect(bs.getSchedulingStatusMessage()).toBeNull();
    expect(isScalableBatchSystem(bs)).toBe(false);
  });

  it("workerCleanup leaves nothing of the run in the work directory unless the policy kept a worker's data", async () => {
    const work = mkdtempSync(join(tmpdir(), "toil-cleanup-"));
    dirs.push(work);
    const wfDir = join(work, workflowDirName("wfc"));
    expect(wfDir).toBe(join(work, "toilwf-wfc")); // the name the worker uses
    const leftovers = () => {
      mkdirSync(join(wfDir, "deferred"), { recursive: true });
      mkdirSync(join(wfDir, "cache-wfc"), { recursive: true });
      writeFileSync(join(wfDir, "cache-wfc", "cached"), "x");
    };
    leftovers();
    await BatchSystemSupport.workerCleanup({ workDir: work, workflowId: "wfc", cleanWorkDir: "never" });
    expect(existsSync(join(wfDir, "deferred"))).toBe(true);
    for (const policy of ["always", "onSuccess", "onError"] as const) {
      leftovers();
      await BatchSystemSupport.workerCleanup({ workDir: work, workflowId: "wfc", cleanWorkDir: policy });
      expect(existsSync(wfDir), policy).toBe(false);
    }
    // A worker directory the policy kept (e.g. a failed job's with onSuccess) stays, and so does its parent.
    leftovers();
    mkdirSync(join(wfDir, "worker-abc"));
    writeFileSync(join(wfDir, "worker-abc", "data"), "kept");
    await BatchSystemSupport.workerCleanup({ workDir: work, workflowId: "wfc", cleanWorkDir: "onSuccess" });
    expect(readdirSync(wfDir)).toEqual(["worker-abc"]);
    // Deferred functions of a dead worker still waiting to run are not thrown away.
    mkdirSync(join(wfDir, "deferred"));
    writeFileSync(join(wfDir, "deferred", "func~1.0.0.00~x.jsonl"), "{}\n");
    await BatchSystemSupport.workerCleanup({ workDir: work, workflowId: "wfc", cleanWorkDir: "always" });
    expect(readdirSync(wfDir)).toEqual(["deferred"]);
    // The coordination directory goes whatever the policy, all but deferred functions still to run.
    const coord = mkdtempSync(join(tmpdir(), "toil-coord-"));
    dirs.push(coord);
    const coordWf = join(coord, workflowDirName("wfc"));
    mkdirSync(join(coordWf, "deferred"), { recursive: true });
    writeFileSync(join(coordWf, "cache-state.json"), "{}");
    await BatchSystemSupport.workerCleanup({ workDir: work, workflowId: "wfc", cleanWorkDir: "never", coordinationDir: coord });
    expect(existsSync(coordWf)).toBe(false);
    mkdirSync(join(coordWf, "deferred"), { recursive: true });
    writeFileSync(join(coordWf, "deferred", "func~1.0.0.00~x.jsonl"), "{}\n");
    await BatchSystemSupport.workerCleanup({ workDir: work, workflowId: "wfc", cleanWorkDir: "never", coordinationDir: coord });
    expect(readdirSync(coordWf)).toEqual(["deferred"]);
  });
});

describe("exit reasons and updated job info", () => {
  it("has the seed's reasons and the unavailable status", () => {
    expect(EXIT_STATUS_UNAVAILABLE_VALUE).toBe(255);
    expect(Object.keys(BatchJobExitReason)).toEqual([
      "FINISHED",
      "FAILED",
      "LOST",
      "KILLED",
      "ERROR",
      "MEMLIMIT",
      "MISSING",
      "MAXJOBDURATION",
      "PARTITION",
    ]);
    expect(isBatchJobExitReason("MEMLIMIT")).toBe(true);
    expect(isBatchJobExitReason("nope")).toBe(false);
  });

  it("updatedBatchJobInfo fills the seed's defaults", () => {
    expect(updatedBatchJobInfo(3)).toEqual({ jobId: 3, exitStatus: 255, exitReason: null, wallTime: null, backingId: null });
    expect(updatedBatchJobInfo(4, { exitStatus: 0, exitReason: BatchJobExitReason.FINISHED })).toMatchObject({
      exitStatus: 0,
      exitReason: "FINISHED",
    });
  });
});
