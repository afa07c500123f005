import { describe, expect, test } from "vitest";
import { MessageBus, jobCompleted, jobIssued, queueSize, type BusMessage } from "../src/index.js";

const issued = (i: number) => jobIssued({ jobId: `j${i}`, jobName: "job", batchId: i });
const completed = (i: number) => jobCompleted({ jobId: `j${i}`, jobName: "job", exitCode: i });

describe("MessageInbox", () => {
  test("counts per type and in total; reading runs check()", () => {
    using bus = new MessageBus();
    using inbox = bus.connect(["JobIssued", "JobCompleted"]);
    expect(inbox.empty()).toBe(true);
    bus.publish(issued(1));
    bus.publish(issued(2));
    bus.publish(completed(1));
    bus.publish(queueSize({ queueSize: 9 })); // not a type the inbox wants
    expect(bus.pending).toBe(4);
    expect(inbox.count()).toBe(3); // delivered now
    expect(bus.pending).toBe(0);
    expect(inbox.count("JobIssued")).toBe(2);
    expect(inbox.count("JobCompleted")).toBe(1);
    expect(inbox.empty("JobCompleted")).toBe(false);
  });

  test("forEach(type) consumes only that type, oldest first, and keeps the others in order", () => {
    using bus = new MessageBus();
    using inbox = bus.connect(["JobIssued", "JobCompleted"]);
    for (let i = 1; i <= 3; i++) {
      bus.publish(issued(i));
      bus.publish(completed(i));
    }
    const ids: string[] = [];
    expect(inbox.forEach("JobCompleted", (m) => ids.push(`${m.jobId}:${m.exitCode}`))).toBe(3);
    expect(ids).toEqual(["j1:1", "j2:2", "j3:3"]);
    expect(inbox.count("JobCompleted")).toBe(0);
    expect(inbox.count("JobIssued")).toBe(3);
    expect([...inbox].map((m) => (m.type === "JobIssued" ? m.batchId : -1))).toEqual([1, 2, 3]);
    expect(inbox.empty()).toBe(true);
  });

  test("a throwing handler keeps its message and the later ones", () => {
    using bus = new MessageBus();
    using inbox = bus.connect(["JobIssued"]);
    for (let i = 1; i <= 4; i++) bus.publish(issued(i));
    const handled: number[] = [];
    expect(() =>
      inbox.forEach("JobIssued", (m) => {
        if (m.batchId === 3) throw new Error("not now");
        handled.push(m.batchId);
      }),
    ).toThrow("not now");
    expect(handled).toEqual([1, 2]);
    expect(inbox.count("JobIssued")).toBe(2);
    const rest: number[] = [];
    inbox.forEach((m) => rest.push((m as { batchId: number }).batchId));
    expect(rest).toEqual([3, 4]);
    expect(inbox.count()).toBe(0);
  });

  test("breaking out of a for…of keeps the current message, and a filtered throw keeps other types in place", () => {
    using bus = new MessageBus();
    using inbox = bus.connect(["JobIssued", "JobCompleted"]);
    bus.publish(issued(1));
    bus.publish(completed(1));
    bus.publish(issued(2));
    bus.publish(completed(2));
    for (const m of inbox.messages("JobIssued")) {
      expect(m.batchId).toBe(1);
      break;
    }
    expect(inbox.count("JobIssued")).toBe(2);
    try {
      for (const m of inbox.messages("JobIssued")) {
        if (m.batchId === 2) throw new Error("stop");
      }
    } catch {
      // expected
    }
    const left = [...inbox].map((m: BusMessage) => `${m.type}:${(m as { jobId: string }).jobId}`);
    expect(left).toEqual(["JobCompleted:j1", "JobIssued:j2", "JobCompleted:j2"]);
  });

  test("close stops collecting but keeps what arrived", () => {
    using bus = new MessageBus();
    const inbox = bus.connect(); // all types
    bus.publish(issued(1));
    bus.check();
    inbox.close();
    bus.publish(issued(2));
    bus.check();
    expect(inbox.count()).toBe(1);
  });
});
