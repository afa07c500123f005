import { describe, expect, test } from "vitest";
import {
  BUS_MESSAGE_TYPES,
  clusterDesiredSize,
  clusterSize,
  externalBatchId,
  isBusMessageType,
  jobAnnotation,
  jobCompleted,
  jobFailed,
  jobIssued,
  jobMissing,
  jobUpdated,
  queueSize,
  workerHostStarted,
  workerHostStopped,
  type BusMessage,
} from "../src/index.js";

describe("message factories", () => {
  test("build every type with its fields and a default timestamp", () => {
    const before = Date.now();
    const all: BusMessage[] = [
      jobIssued({ jobId: "a", jobName: "A", batchId: 1 }),
      jobUpdated({ jobId: "a", jobName: "A", exitCode: 0, exitReason: "FINISHED" }),
      jobCompleted({ jobId: "a", jobName: "A", exitCode: 0 }),
      jobFailed({ jobId: "a", jobName: "A" }),
      jobMissing({ jobId: "a", jobName: "A" }),
      jobAnnotation({ jobId: "a", jobName: "A", name: "log", value: "/x" }),
      externalBatchId({ batchId: 1, externalBatchId: "123", batchSystem: "slurm" }),
      queueSize({ queueSize: 3 }),
      clusterSize({ instanceType: "m5.large", currentSize: 2 }),
      clusterDesiredSize({ instanceType: "m5.large", desiredSize: 4 }),
      workerHostStarted({ hostId: "12_3", batchSystem: "slurm", shape: "1 CPU, 64M memory", node: "n1" }),
      workerHostStopped({ hostId: "12_3", batchSystem: "slurm", reason: "idle" }),
    ];
    expect(all.map((m) => m.type)).toEqual([...BUS_MESSAGE_TYPES]);
    for (const m of all) {
      expect(m.time).toBeGreaterThanOrEqual(before);
      expect(m.time).toBeLessThanOrEqual(Date.now());
    }
    expect(all[0]).toEqual({ type: "JobIssued", time: all[0]!.time, jobId: "a", jobName: "A", batchId: 1 });
  });

  test("keep an explicit time and copy only the declared fields", () => {
    const extra = { jobId: "j", jobName: "n", exitCode: 2, time: 42, secret: "x" };
    const m = jobCompleted(extra);
    expect(m).toEqual({ type: "JobCompleted", time: 42, jobId: "j", jobName: "n", exitCode: 2 });
  });

  test("isBusMessageType accepts only the known tags", () => {
    for (const t of BUS_MESSAGE_TYPES) expect(isBusMessageType(t)).toBe(true);
    expect(isBusMessageType("JobExploded")).toBe(false);
    expect(isBusMessageType("toString")).toBe(false);
    expect(isBusMessageType(undefined)).toBe(false);
  });
});
