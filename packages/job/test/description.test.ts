import { describe, expect, it } from "vitest";
import {
  BatchJobExitReason,
  DEFAULT_REQUIREMENTS,
  JobDescription,
  JobDescriptionFormatError,
  JobUsageError,
  JobVersionError,
  MAX_CHAIN_LINKS_KEPT,
  type JobBody,
  type JobDescriptionConfig,
  isTemporaryJobId,
} from "../src/index.js";

const body: JobBody = { kind: "function", module: "file:///flow.js", exportName: "f", data: [] };
const config: JobDescriptionConfig = { ...DEFAULT_REQUIREMENTS, retryCount: 1 };

describe("JobDescription (scenario 20)", () => {
  it("starts empty and temporary", () => {
    const d = new JobDescription({ jobName: "test", requirements: { cores: "1", memory: 1, disk: 1, preemptible: 1 } });
    expect(d.nextSuccessors()).toBeUndefined();
    d.attachBody(body);
    expect(d.hasBody()).toBe(true);
    expect(d.cores).toBe(1);
    expect(d.preemptible).toBe(true);
    expect(d.memory).toBe(1);
    expect(isTemporaryJobId(d.id)).toBe(true);
    expect([...d.allSuccessors()]).toEqual([]);
    expect(d.services).toEqual([]);
    expect(d.nextSuccessors()).toEqual(new Set());
    expect(d.predecessorsFinished.size).toBe(0);
    expect(d.logFileId).toBeUndefined();
    const other = new JobDescription({ jobName: "test", requirements: { cores: "1", memory: 1, disk: 1, preemptible: 1 } });
    expect(other).not.toBe(d);
    expect(other.id).not.toBe(d.id);
  });
  it("needs a config for unset requirements and retry counts", () => {
    const d = new JobDescription({ jobName: "j" });
    expect(() => d.memory).toThrow(JobUsageError);
    expect(() => d.remainingTryCount).toThrow(/assignConfig/);
    d.assignConfig(config);
    expect(d.memory).toBe(2 * 1024 ** 3);
    expect(d.remainingTryCount).toBe(2);
  });
});

describe("JobDescription sequencing (scenario 21)", () => {
  it("runs the body, then children, then follow-ons", () => {
    const d = new JobDescription({ jobName: "p" });
    d.attachBody(body);
    d.addChild("child");
    d.addFollowOn("followOn");
    expect([...(d.nextSuccessors() ?? [])]).toEqual([]);
    d.detachBody();
    expect([...(d.nextSuccessors() ?? [])]).toEqual(["child"]);
    d.filterSuccessors((id) => id !== "child");
    expect([...(d.nextSuccessors() ?? [])]).toEqual(["followOn"]);
    d.filterSuccessors((id) => id !== "followOn");
    expect(d.nextSuccessors()).toBeUndefined();
    expect(d.isSubtreeDone()).toBe(true);
  });
  it("reports successors by phase and services in batches", () => {
    const d = new JobDescription({ jobName: "p" });
    d.addChild("c1");
    d.addChild("c2");
    d.addFollowOn("f1");
    d.addServiceHostJob("s1");
    d.addServiceHostJob("s2", "s1");
    d.addServiceHostJob("s3");
    expect([...d.successorsByPhase()]).toEqual([
      [0, "f1"],
      [1, "c1"],
      [1, "c2"],
    ]);
    expect([...d.serviceHostIdsInBatches()]).toEqual([["s1", "s3"], ["s2"]]);
    expect(() => d.addServiceHostJob("s9", "nope")).toThrow(JobUsageError);
    expect(d.hasChild("c1") && d.hasFollowOn("f1") && d.hasServiceHostJob("s2")).toBe(true);
    d.filterServiceHosts((id) => id !== "s1");
    expect([...d.serviceHostIdsInBatches()]).toEqual([["s2", "s3"]]);
    expect(d.isSubtreeDone()).toBe(false);
  });
});

describe("JobDescription identity, chaining and versions", () => {
  it("renames references", () => {
    const d = new JobDescription({ jobName: "p" });
    d.addChild("tmp-a");
    d.addFollowOn("tmp-b");
    d.addServiceHostJob("tmp-s");
    d.renameReferences({ "tmp-a": "A", "tmp-s": "S" });
    expect(d.childIds).toEqual(["A"]);
    expect(d.followOnIds).toEqual(["tmp-b"]);
    expect(d.services).toEqual(["S"]);
    d.renameReferences(new Map([["tmp-b", "B"]]));
    expect(d.followOnIds).toEqual(["B"]);
  });
  it("replace() adopts the id, version and remaining phases of the chained-from job", () => {
    const parent = new JobDescription({ jobName: "parent", id: "P" });
    parent.addChild("C");
    parent.addFollowOn("F");
    parent.version = 4;
    parent.filesToDelete = ["x"];
    parent.detachBody();
    const child = new JobDescription({ jobName: "child", id: "C" });
    child.attachBody(body);
    child.addChild("GC");
    child.replace(parent);
    expect(child.id).toBe("P");
    expect(child.originalId).toBe("C");
    expect(child.version).toBe(4);
    expect(child.filesToDelete).toEqual(["x"]);
    expect(child.successorPhases).toEqual([["F"], [], ["GC"]]);
    expect(child.getChain().map((l) => [l.jobName, l.id])).toEqual([
      ["parent", "P"],
      ["child", "C"],
    ]);
    child.detachBody();
    expect([...(child.nextSuccessors() ?? [])]).toEqual(["GC"]);
    child.filterSuccessors((id) => id !== "GC");
    expect([...(child.nextSuccessors() ?? [])]).toEqual(["F"]);
    const round = JobDescription.fromJSON(JSON.stringify(child));
    expect(round.getChain()).toEqual(child.getChain());
    expect(round.successorPhases).toEqual([["F"], [], []]);
  });
  it("a long chain keeps its last links by name and counts them all, in memory and through JSON", () => {
    const body = { kind: "function" as const, module: "file:///m.js", exportName: "f", data: null };
    let current = new JobDescription({ jobName: "link0", id: "L0" });
    current.attachBody(body);
    for (let i = 1; i < 100; i++) {
      const next = new JobDescription({ jobName: `link${i}`, id: `L${i}` });
      next.attachBody(body);
      next.replace(current);
      current = JobDescription.fromJSON(JSON.stringify(next));
    }
    expect(current.id).toBe("L0");
    expect(current.chainLength).toBe(100);
    const chain = current.getChain();
    expect(chain).toHaveLength(MAX_CHAIN_LINKS_KEPT + 1);
    expect(chain.at(-1)?.jobName).toBe("link99");
    expect(chain[0]?.jobName).toBe(`link${99 - MAX_CHAIN_LINKS_KEPT}`);
    // The stored document stays small however long the chain gets.
    expect(JSON.stringify(current).length).toBeLessThan(4000);
  });
  it("compares versions", () => {
    const a = new JobDescription({ jobName: "a", id: "A" });
    const b = a.clone();
    expect(a.isUpdatedBy(b)).toBe(false);
    b.preUpdateHook("host:1");
    expect(a.isUpdatedBy(b)).toBe(true);
    expect(b.isUpdatedBy(a)).toBe(false);
    a.assertIsNotNewerThan(b);
    expect(() => b.assertIsNotNewerThan(a)).toThrow(JobVersionError);
    const other = new JobDescription({ jobName: "a", id: "Z", });
    other.version = 10;
    expect(a.isUpdatedBy(other)).toBe(false);
  });
});

describe("JobDescription retries (section 1.10)", () => {
  it("charges retries, grows backoff and raises memory and disk", () => {
    const d = new JobDescription({ jobName: "j", requirements: { memory: "1Gi", disk: "1Gi" } });
    d.assignConfig({ ...config, retryCount: 3, retryBackoffSeconds: 2, retryBackoffFactor: 3, doubleMem: true });
    expect(d.remainingTryCount).toBe(4);
    d.setupJobAfterFailure(1, BatchJobExitReason.FAILED);
    expect(d.remainingTryCount).toBe(3);
    expect(d.retryBackoffSeconds).toBe(2);
    expect(d.memory).toBe(2 * 1024 ** 3);
    expect(d.disk).toBe(2 * 1024 ** 3);
    d.setupJobAfterFailure(137, "MEMLIMIT");
    expect(d.remainingTryCount).toBe(2);
    expect(d.retryBackoffSeconds).toBe(6);
    expect(d.memory).toBe(4 * 1024 ** 3);
    d.setupJobAfterFailure();
    d.setupJobAfterFailure();
    d.setupJobAfterFailure();
    expect(d.remainingTryCount).toBe(0);
    expect(d.clearRemainingTryCount()).toBe(true);
    expect(d.remainingTryCount).toBe(4);
    expect(d.retryBackoffSeconds).toBe(0);
  });
  it("does not charge lost preemptible jobs with unlimited preemptible retries", () => {
    const d = new JobDescription({ jobName: "j" });
    d.assignConfig({ ...config, enableUnlimitedPreemptibleRetries: true });
    d.setupJobAfterFailure(255, BatchJobExitReason.LOST);
    expect(d.remainingTryCount).toBe(2);
    d.setupJobAfterFailure(1, BatchJobExitReason.FAILED);
    expect(d.remainingTryCount).toBe(1);
  });
  it("restarts checkpoints", () => {
    const d = new JobDescription({ jobName: "ck", checkpoint: true });
    d.attachBody(body);
    d.setCheckpoint();
    d.detachBody();
    d.addChild("c");
    d.addServiceHostJob("s");
    expect(d.restartCheckpoint()).toEqual(["c", "s"]);
    expect(d.hasBody()).toBe(true);
    expect(d.nextSuccessors()).toEqual(new Set());
    const plain = new JobDescription({ jobName: "p" });
    expect(() => plain.setCheckpoint()).toThrow(JobUsageError);
  });
});

describe("JobDescription JSON", () => {
  it("round-trips every field and omits empty ones", () => {
    const d = new JobDescription({ jobName: "j", unitName: "u", displayName: "J!", requirements: { memory: "1G", accelerators: "cuda:1" }, local: true, checkpoint: true });
    d.attachBody(body);
    d.addChild("c");
    d.addFollowOn("f");
    d.addServiceHostJob("s");
    d.addPredecessor();
    d.logFileId = "log";
    d.filesToDelete = ["1", "2"];
    d.remainingTryCount = 5;
    d.isService = false;
    const json = JSON.parse(JSON.stringify(d)) as Record<string, unknown>;
    const back = JobDescription.fromJSON(json);
    expect(back.toJSON()).toEqual(d.toJSON());
    expect(back.checkpoint).toBe(true);
    expect(back.memory).toBe(1e9);
    const minimal = new JobDescription({ jobName: "m", id: "M" }).toJSON();
    expect(minimal).toEqual({ format: 1, id: "M", jobName: "m", version: 0 });
  });
  it("rejects other formats and malformed documents", () => {
    expect(() => JobDescription.fromJSON({ format: 99, id: "a", jobName: "b", version: 0 })).toThrow(JobDescriptionFormatError);
    expect(() => JobDescription.fromJSON({ format: 1, jobName: "b", version: 0 })).toThrow(/id/);
    expect(() => JobDescription.fromJSON("[]")).toThrow(JobDescriptionFormatError);
    expect(() => JobDescription.fromJSON({ format: 1, id: "a", jobName: "b", version: 0, childIds: [1] })).toThrow(/childIds/);
  });
});
