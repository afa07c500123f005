import { threadId } from "node:worker_threads";
import { Worker } from "node:worker_threads";
import { describe, expect, test } from "vitest";
import { MessageBus, ThreadOutbox, BusUsageError, jobAnnotation, type JobAnnotationMessage } from "../src/index.js";

const threadScript = new URL("./fixtures/publisher-thread.mjs", import.meta.url);

/** Starts a worker thread that publishes `count` messages through a fresh port of `bus`. */
function startPublisher(bus: MessageBus, count: number, close: boolean, maxBatch?: number): Promise<number> {
  const port = bus.createThreadPort();
  const worker = new Worker(threadScript, { workerData: { port, count, close, maxBatch }, transferList: [port] });
  const id = worker.threadId; // reads -1 once the thread has exited
  return new Promise((resolve, reject) => {
    worker.once("error", reject);
    worker.once("exit", (code) => (code === 0 ? resolve(id) : reject(new Error(`publisher thread exited with ${code}`))));
  });
}

describe("publishing from worker threads", () => {
  test("10 threads + main: every message arrives, on the owning thread, in each thread's order, only on check()", async () => {
    using bus = new MessageBus();
    using inbox = bus.connect(["JobAnnotation"]);
    const handlerThreads = new Set<number>();
    const perSender = new Map<string, number[]>();
    bus.subscribe("JobAnnotation", (m) => {
      handlerThreads.add(threadId);
      const list = perSender.get(m.jobId) ?? [];
      list.push(Number(m.value));
      perSender.set(m.jobId, list);
    });

    const perThread = 200;
    const workers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => startPublisher(bus, perThread, i % 2 === 0, i === 1 ? 16 : undefined)),
    );
    bus.publish(jobAnnotation({ jobId: "main", jobName: "publisher", name: "seq", value: "0" }));

    // All threads have exited, but nothing is delivered until check().
    expect(perSender.size).toBe(0);
    expect(bus.check()).toBe(10 * perThread + 1);

    expect(inbox.count("JobAnnotation")).toBe(10 * perThread + 1);
    expect([...handlerThreads]).toEqual([threadId]);
    expect(new Set(workers).size).toBe(10);
    expect(workers).not.toContain(threadId);
    for (const id of workers) {
      expect(perSender.get(`thread-${id}`)).toEqual(Array.from({ length: perThread }, (_, i) => i));
    }
    expect(perSender.get("main")).toEqual([0]);
    expect(bus.check()).toBe(0);
  }, 60_000);

  test("a port whose bus is closed drops the thread's messages, and bad ports are refused", async () => {
    const bus = new MessageBus();
    const port = bus.createThreadPort();
    bus.close();
    const outbox = new ThreadOutbox(port);
    outbox.publish(jobAnnotation({ jobId: "x", jobName: "x", name: "n", value: "v" }));
    outbox.close();
    outbox.publish(jobAnnotation({ jobId: "y", jobName: "y", name: "n", value: "v" })); // dropped, no throw
    expect(bus.check()).toBe(0);
    expect(() => new ThreadOutbox({} as never)).toThrow(BusUsageError);
  });

  test("a thread outbox in the same thread still goes through the port and check()", async () => {
    using bus = new MessageBus();
    const seen: JobAnnotationMessage[] = [];
    bus.subscribe("JobAnnotation", (m) => seen.push(m));
    using outbox = new ThreadOutbox(bus.createThreadPort());
    outbox.publish(jobAnnotation({ jobId: "a", jobName: "A", name: "n", value: "1" }));
    await Promise.resolve(); // the outbox posts at the end of the microtask checkpoint
    outbox.flush();
    expect(seen).toHaveLength(0);
    bus.check();
    expect(seen.map((m) => m.value)).toEqual(["1"]);
  });
});
