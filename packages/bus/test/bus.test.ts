import { describe, expect, test } from "vitest";
import {
  BusHandlerError,
  BusUsageError,
  MessageBus,
  UnknownBusMessageTypeError,
  jobCompleted,
  jobFailed,
  jobIssued,
  queueSize,
  type BusMessage,
} from "../src/index.js";

const issued = (i: number) => jobIssued({ jobId: `j${i}`, jobName: "job", batchId: i, time: i });

describe("MessageBus delivery", () => {
  test("delivers only on check(), in batches", () => {
    using bus = new MessageBus();
    const seen: number[] = [];
    bus.subscribe("JobIssued", (m) => seen.push(m.batchId));
    bus.publish(issued(1));
    bus.publish(issued(2));
    expect(seen).toEqual([]);
    expect(bus.pending).toBe(2);
    expect(bus.check()).toBe(2);
    expect(seen).toEqual([1, 2]);
    bus.publish(issued(3));
    expect(seen).toEqual([1, 2]);
    expect(bus.check()).toBe(1);
    expect(bus.check()).toBe(0);
    expect(seen).toEqual([1, 2, 3]);
    expect(bus.stats).toEqual({ published: 3, delivered: 3, dropped: 0 });
  });

  test("keeps publish order within and across types", () => {
    using bus = new MessageBus();
    const order: string[] = [];
    bus.subscribe("JobIssued", (m) => order.push(`issued ${m.jobId}`));
    bus.subscribe("JobCompleted", (m) => order.push(`completed ${m.jobId}`));
    bus.subscribe("QueueSize", (m) => order.push(`queue ${m.queueSize}`));
    const all: string[] = [];
    bus.subscribeAll((m) => all.push(m.type));
    const expected: string[] = [];
    for (let i = 0; i < 1000; i++) {
      const k = i % 3;
      if (k === 0) {
        bus.publish(issued(i));
        expected.push(`issued j${i}`);
      } else if (k === 1) {
        bus.publish(jobCompleted({ jobId: `j${i}`, jobName: "job", exitCode: 0 }));
        expected.push(`completed j${i}`);
      } else {
        bus.publish(queueSize({ queueSize: i }));
        expected.push(`queue ${i}`);
      }
    }
    bus.check();
    expect(order).toEqual(expected);
    expect(all.length).toBe(1000);
  });

  test("messages published by a handler wait for the next check()", () => {
    using bus = new MessageBus();
    const seen: string[] = [];
    bus.subscribe("JobIssued", (m) => {
      seen.push(m.jobId);
      bus.publish(jobCompleted({ jobId: m.jobId, jobName: m.jobName, exitCode: 0 }));
      expect(bus.check()).toBe(0); // nested check is a no-op
    });
    bus.subscribe("JobCompleted", (m) => seen.push(`done ${m.jobId}`));
    bus.publish(issued(1));
    expect(bus.check()).toBe(1);
    expect(seen).toEqual(["j1"]);
    expect(bus.check()).toBe(1);
    expect(seen).toEqual(["j1", "done j1"]);
  });

  test("a subscription sees only messages delivered after it was made", () => {
    using bus = new MessageBus();
    bus.publish(issued(1));
    bus.check();
    const seen: number[] = [];
    bus.subscribe("JobIssued", (m) => seen.push(m.batchId));
    bus.publish(issued(2));
    bus.check();
    expect(seen).toEqual([2]);
  });
});

describe("subscriptions", () => {
  test("dispose ends delivery, including for messages already queued", () => {
    using bus = new MessageBus();
    const seen: number[] = [];
    const sub = bus.subscribe("JobIssued", (m) => seen.push(m.batchId));
    bus.publish(issued(1));
    bus.check();
    bus.publish(issued(2));
    sub[Symbol.dispose]();
    expect(sub.active).toBe(false);
    bus.check();
    expect(seen).toEqual([1]);
    sub.dispose(); // idempotent
  });

  test("`using` ends a subscription at the end of its block", () => {
    using bus = new MessageBus();
    const seen: number[] = [];
    {
      using _sub = bus.subscribe("JobIssued", (m) => seen.push(m.batchId));
      bus.publish(issued(1));
      bus.check();
    }
    bus.publish(issued(2));
    bus.check();
    expect(seen).toEqual([1]);
  });

  test("a subscription disposed by another handler mid-batch gets nothing more", () => {
    using bus = new MessageBus();
    const seen: string[] = [];
    let second: { dispose(): void } | undefined;
    bus.subscribe("JobIssued", (m) => {
      seen.push(`first ${m.batchId}`);
      if (m.batchId === 2) second?.dispose();
    });
    second = bus.subscribe("JobIssued", (m) => seen.push(`second ${m.batchId}`));
    for (let i = 1; i <= 3; i++) bus.publish(issued(i));
    bus.check();
    expect(seen).toEqual(["first 1", "second 1", "first 2", "first 3"]);
  });

  test("a throwing handler does not stop the batch; check() reports it after", () => {
    using bus = new MessageBus();
    const seen: number[] = [];
    bus.subscribe("JobIssued", (m) => {
      if (m.batchId === 2) throw new Error("bad job 2");
    });
    bus.subscribe("JobIssued", (m) => seen.push(m.batchId));
    for (let i = 1; i <= 3; i++) bus.publish(issued(i));
    let caught: unknown;
    try {
      bus.check();
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(BusHandlerError);
    expect((caught as BusHandlerError).errors).toHaveLength(1);
    expect((caught as BusHandlerError).code).toBe("BUS_HANDLER_FAILED");
    expect((caught as Error).message).toContain("bad job 2");
    expect(seen).toEqual([1, 2, 3]);
    expect(bus.check()).toBe(0);
  });
});

describe("outbox, close and bad input", () => {
  test("outbox publishes into the bus and can be closed", () => {
    using bus = new MessageBus();
    const seen: string[] = [];
    bus.subscribe("JobFailed", (m) => seen.push(m.jobId));
    const outbox = bus.outbox();
    outbox.publish(jobFailed({ jobId: "x", jobName: "X" }));
    outbox.close();
    outbox.publish(jobFailed({ jobId: "y", jobName: "Y" }));
    bus.check();
    expect(seen).toEqual(["x"]);
  });

  test("close delivers what is queued, then drops later publishes", () => {
    const bus = new MessageBus();
    const seen: number[] = [];
    const sub = bus.subscribe("JobIssued", (m) => seen.push(m.batchId));
    bus.publish(issued(1));
    bus.close();
    expect(seen).toEqual([1]);
    expect(sub.active).toBe(false);
    bus.publish(issued(2));
    expect(bus.check()).toBe(0);
    expect(bus.stats.dropped).toBe(1);
    expect(bus.closed).toBe(true);
    expect(() => bus.createThreadPort()).toThrow(BusUsageError);
  });

  test("rejects unknown message types and non-function handlers with typed errors", () => {
    using bus = new MessageBus();
    const bogus = { type: "JobExploded", time: 1 } as unknown as BusMessage;
    expect(() => bus.publish(bogus)).toThrow(UnknownBusMessageTypeError);
    expect(() => bus.publish(bogus)).toThrow(/JobExploded.*factory functions/);
    expect(() => bus.subscribe("Nope" as "JobIssued", () => {})).toThrow(UnknownBusMessageTypeError);
    expect(() => bus.subscribe("JobIssued", 5 as unknown as () => void)).toThrow(BusUsageError);
    expect(() => bus.connect([])).toThrow(/at least one message type/);
    expect(bus.pending).toBe(0);
  });
});
