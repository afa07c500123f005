import { spawnSync } from "node:child_process";
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import {
  BUS_LOG_FORMAT_VERSION,
  BusLogFormatError,
  BusLogNotFoundError,
  BusLogParseError,
  JobStatusTracker,
  MessageBus,
  UnknownBusMessageTypeError,
  clusterDesiredSize,
  clusterSize,
  externalBatchId,
  isRunning,
  jobAnnotation,
  jobCompleted,
  jobFailed,
  jobIssued,
  jobMissing,
  jobUpdated,
  queueSize,
  readBusLog,
  replayMessageBus,
  workerHostStarted,
  workerHostStopped,
  type BusLogReadOptions,
  type BusMessage,
} from "../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "toil-bus-log-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(dir, `bus-${++n}.jsonl`);

async function readAll(path: string, options?: BusLogReadOptions) {
  const reader = readBusLog(path, options);
  const messages: BusMessage[] = [];
  for await (const m of reader) messages.push(m);
  return { messages, stats: reader.stats };
}

const sample = (): BusMessage[] => [
  jobIssued({ jobId: "a", jobName: "align", batchId: 1, time: 1000 }),
  externalBatchId({ batchId: 1, externalBatchId: "5501", batchSystem: "slurm", time: 1001 }),
  jobAnnotation({ jobId: "a", jobName: "align", name: "log", value: "line1\nline2 \"quoted\" ✓", time: 1002 }),
  jobUpdated({ jobId: "a", jobName: "align", exitCode: 0, exitReason: "FINISHED", time: 1003 }),
  jobCompleted({ jobId: "a", jobName: "align", exitCode: 0, time: 1004 }),
  jobIssued({ jobId: "b", jobName: "sort", batchId: 2, time: 1005 }),
  jobMissing({ jobId: "b", jobName: "sort", time: 1006 }),
  jobUpdated({ jobId: "b", jobName: "sort", exitCode: 1, exitReason: null, time: 1007 }),
  jobFailed({ jobId: "b", jobName: "sort", time: 1008 }),
  queueSize({ queueSize: 4, time: 1009 }),
  clusterSize({ instanceType: "local", currentSize: 1, time: 1010 }),
  clusterDesiredSize({ instanceType: "local", desiredSize: 2, time: 1011 }),
];

describe("connectOutputFile", () => {
  test("round trip: every message type comes back equal and in order, after a versioned header", async () => {
    const path = fresh();
    {
      using bus = new MessageBus();
      using _log = bus.connectOutputFile(path);
      for (const m of sample()) bus.publish(m);
      bus.check();
    }
    const lines = readFileSync(path, "utf8").split("\n");
    expect(JSON.parse(lines[0]!)).toMatchObject({ format: "toil-bus-log", version: BUS_LOG_FORMAT_VERSION });
    expect(lines).toHaveLength(sample().length + 2); // header + messages + "" after the final newline
    const { messages, stats } = await readAll(path);
    expect(messages).toEqual(sample());
    expect(stats).toMatchObject({ version: 1, messages: 12, unknownTypes: 0, malformedLines: 0, tornTail: false });
  });

  test("writes a batch at the end of check(), not at publish", () => {
    const path = fresh();
    using bus = new MessageBus();
    bus.connectOutputFile(path);
    bus.publish(queueSize({ queueSize: 1 }));
    expect(readFileSync(path, "utf8").trim().split("\n")).toHaveLength(1); // header only
    bus.check();
    expect(readFileSync(path, "utf8").trim().split("\n")).toHaveLength(2);
  });

  test("closing the writer stops the copy; closing the bus closes its writers", async () => {
    const path = fresh();
    const bus = new MessageBus();
    const log = bus.connectOutputFile(path);
    bus.publish(queueSize({ queueSize: 1 }));
    bus.check();
    log.close();
    bus.publish(queueSize({ queueSize: 2 }));
    bus.check();
    const path2 = fresh();
    const log2 = bus.connectOutputFile(path2);
    bus.publish(queueSize({ queueSize: 3 }));
    bus.close(); // final check + close
    expect(log2.messageCount).toBe(1);
    expect((await readAll(path)).messages.map((m) => (m as { queueSize: number }).queueSize)).toEqual([1]);
    expect((await readAll(path2)).messages.map((m) => (m as { queueSize: number }).queueSize)).toEqual([3]);
  });

  test("appends to an existing log; refuses a file that is not one unless truncating", async () => {
    const path = fresh();
    for (const q of [1, 2]) {
      using bus = new MessageBus();
      bus.connectOutputFile(path);
      bus.publish(queueSize({ queueSize: q }));
    }
    expect((await readAll(path)).messages).toHaveLength(2);

    const other = fresh();
    writeFileSync(other, "hello\n");
    const bus = new MessageBus();
    expect(() => bus.connectOutputFile(other)).toThrow(BusLogFormatError);
    expect(() => bus.connectOutputFile(other)).toThrow(/truncate/);
    const newer = fresh();
    writeFileSync(newer, `{"format":"toil-bus-log","version":99,"created":0}\n`);
    expect(() => bus.connectOutputFile(newer)).toThrow(/version 99/);
    bus.connectOutputFile(other, { mode: "truncate" });
    bus.publish(queueSize({ queueSize: 7 }));
    bus.close();
    expect((await readAll(other)).messages).toHaveLength(1);
    expect(() => new MessageBus().connectOutputFile("")).toThrow(/non-empty/);
  });

  test("a process killed after check() keeps that batch; only unchecked messages are lost", async () => {
    const path = fresh();
    const fixture = new URL("./fixtures/crash-after-check.mjs", import.meta.url).pathname;
    const r = spawnSync(process.execPath, [fixture, path, "500", "7"], { encoding: "utf8" });
    expect(r.signal).toBe("SIGKILL");
    const { messages, stats } = await readAll(path);
    expect(messages).toHaveLength(500);
    expect(stats.tornTail).toBe(false);
  }, 30_000);

  test("process.exit() in the middle of a batch still writes what the log had buffered", async () => {
    const path = fresh();
    const fixture = new URL("./fixtures/exit-mid-batch.mjs", import.meta.url).pathname;
    const r = spawnSync(process.execPath, [fixture, path], { encoding: "utf8" });
    expect(r.status).toBe(3);
    const { messages } = await readAll(path);
    expect(messages.map((m) => (m as { queueSize: number }).queueSize)).toEqual([1, 2]);
  }, 30_000);
});

describe("readBusLog", () => {
  function writeLog(lines: string[], tail = ""): string {
    const path = fresh();
    writeFileSync(path, `{"format":"toil-bus-log","version":1,"created":0}\n` + lines.map((l) => l + "\n").join("") + tail);
    return path;
  }
  const q = (i: number) => JSON.stringify(queueSize({ queueSize: i, time: i }));

  test("a torn last line is skipped without losing earlier lines (both modes)", async () => {
    const path = writeLog([q(1), q(2)], q(3).slice(0, 17));
    for (const strict of [false, true]) {
      const { messages, stats } = await readAll(path, { strict });
      expect(messages.map((m) => m.time)).toEqual([1, 2]);
      expect(stats.tornTail).toBe(true);
      expect(stats.malformedLines).toBe(0);
    }
  });

  test("appending after a crash ends the torn line first, so later messages survive", async () => {
    const path = fresh();
    {
      using bus = new MessageBus();
      bus.connectOutputFile(path);
      bus.publish(queueSize({ queueSize: 1, time: 1 }));
    }
    appendFileSync(path, q(2).slice(0, 10)); // crash mid-write
    {
      using bus = new MessageBus();
      bus.connectOutputFile(path);
      bus.publish(queueSize({ queueSize: 3, time: 3 }));
    }
    const { messages, stats } = await readAll(path);
    expect(messages.map((m) => m.time)).toEqual([1, 3]);
    expect(stats.malformedLines).toBe(1);
    await expect(readAll(path, { strict: true })).rejects.toThrow(BusLogParseError);
  });

  test("unknown message types are skipped and counted, or rejected in strict mode", async () => {
    const path = writeLog([q(1), `{"type":"JobTeleported","time":5,"jobId":"x"}`, q(2), `{"type":"JobTeleported","time":6}`]);
    const { messages, stats } = await readAll(path);
    expect(messages.map((m) => m.time)).toEqual([1, 2]);
    expect(stats.unknownTypes).toBe(2);
    expect(stats.unknownTypeNames.get("JobTeleported")).toBe(2);
    const err = await readAll(path, { strict: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownBusMessageTypeError);
    expect((err as UnknownBusMessageTypeError).line).toBe(3);
    expect((err as Error).message).toContain("JobTeleported");
  });

  test("corrupt complete lines: skipped and counted, or BusLogParseError with the line number", async () => {
    const path = writeLog([q(1), "not json", `{"type":"QueueSize","time":3}`, "", q(4)]);
    const { messages, stats } = await readAll(path);
    expect(messages.map((m) => m.time)).toEqual([1, 4]);
    expect(stats.malformedLines).toBe(2);
    const err = await readAll(path, { strict: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BusLogParseError);
    expect((err as BusLogParseError).line).toBe(3);
  });

  test("missing file, non-log file, newer format, empty file", async () => {
    await expect(readAll(join(dir, "nope.jsonl"))).rejects.toThrow(BusLogNotFoundError);
    await expect(readAll(join(dir, "nope.jsonl"))).rejects.toThrow(/Message bus file is missing/);
    const notLog = fresh();
    writeFileSync(notLog, `{"type":"QueueSize","time":1,"queueSize":1}\n`);
    await expect(readAll(notLog)).rejects.toThrow(BusLogFormatError);
    const newer = fresh();
    writeFileSync(newer, `{"format":"toil-bus-log","version":2,"created":0}\n`);
    await expect(readAll(newer)).rejects.toThrow(/version 2.*upgrade/);
    const empty = fresh();
    writeFileSync(empty, "");
    expect(await readAll(empty)).toMatchObject({ messages: [], stats: { version: null, tornTail: false } });
    const reader = readBusLog(empty);
    for await (const _ of reader) void _;
    await expect(async () => {
      for await (const _ of reader) void _;
    }).rejects.toThrow(/iterated once/);
  });

  test("large logs are read across chunk boundaries", async () => {
    const path = fresh();
    {
      using bus = new MessageBus();
      bus.connectOutputFile(path, { maxBufferChars: 4096 });
      for (let i = 0; i < 20_000; i++) bus.publish(jobAnnotation({ jobId: `j${i}`, jobName: "n", name: "k", value: "é".repeat(i % 50), time: i }));
    }
    const { messages } = await readAll(path);
    expect(messages).toHaveLength(20_000);
    expect(messages.every((m, i) => m.time === i)).toBe(true);
  });
});

describe("replayMessageBus", () => {
  test("rebuilds per-job status like `toil status` needs it", async () => {
    const path = fresh();
    {
      using bus = new MessageBus();
      bus.connectOutputFile(path);
      for (const m of sample()) bus.publish(m);
      // c: external id reported before the issue message (thread race), still running
      bus.publish(externalBatchId({ batchId: 3, externalBatchId: "5503", batchSystem: "slurm", time: 2000 }));
      bus.publish(jobIssued({ jobId: "c", jobName: "merge", batchId: 3, time: 2001 }));
    }
    const jobs = await replayMessageBus(path);
    expect([...jobs.keys()]).toEqual(["a", "b", "c"]);
    expect(jobs.get("a")).toMatchObject({
      jobName: "align",
      exitCode: 0,
      exitReason: "FINISHED",
      batchId: 1,
      externalBatchId: "5501",
      batchSystem: "slurm",
      annotations: { log: "line1\nline2 \"quoted\" ✓" },
      failed: false,
    });
    expect(jobs.get("b")).toMatchObject({ exitCode: 1, failed: true, missing: true });
    expect(jobs.get("c")).toMatchObject({ exitCode: -1, externalBatchId: "5503", batchSystem: "slurm", lastUpdate: 2001 });
    expect([...jobs.values()].filter(isRunning).map((s) => s.jobId)).toEqual(["c"]);
  });

  test("re-issue resets the attempt; a failure never reads as success", () => {
    const t = new JobStatusTracker();
    t.apply(jobIssued({ jobId: "x", jobName: "X", batchId: 1 }));
    t.apply(jobUpdated({ jobId: "x", jobName: "X", exitCode: 0, exitReason: "FINISHED" }));
    t.apply(jobFailed({ jobId: "x", jobName: "X" }));
    expect(t.jobs.get("x")).toMatchObject({ exitCode: 1, failed: true });
    t.apply(jobIssued({ jobId: "x", jobName: "X", batchId: 2 }));
    expect(t.jobs.get("x")).toMatchObject({ exitCode: -1, failed: false, batchId: 2, externalBatchId: null });
    expect(isRunning(t.jobs.get("x")!)).toBe(true);
  });

  test("worker hosts are listed from their start until their stop, with the jobs they run", () => {
    const t = new JobStatusTracker();
    t.apply(workerHostStarted({ hostId: "7_0", batchSystem: "slurm", shape: "1 CPU, 64M memory", node: "n1", time: 10 }));
    t.apply(workerHostStarted({ hostId: "7_1", batchSystem: "slurm", shape: "1 CPU, 64M memory", node: "n2", time: 11 }));
    t.apply(jobIssued({ jobId: "x", jobName: "X", batchId: 1 }));
    t.apply(externalBatchId({ batchId: 1, externalBatchId: "7_1", batchSystem: "slurm" }));
    t.apply(workerHostStopped({ hostId: "7_0", batchSystem: "slurm", reason: "idle" }));
    expect([...t.hosts.values()]).toEqual([{ hostId: "7_1", batchSystem: "slurm", shape: "1 CPU, 64M memory", node: "n2", since: 11 }]);
    const onHost = [...t.jobs.values()].filter((s) => isRunning(s) && s.externalBatchId === "7_1");
    expect(onHost.map((s) => s.jobId)).toEqual(["x"]);
  });

  test("missing log file is a typed error", async () => {
    await expect(replayMessageBus(join(dir, "absent.jsonl"))).rejects.toThrow(BusLogNotFoundError);
  });
});
