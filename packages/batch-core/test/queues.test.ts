import { describe, expect, it } from "vitest";
import { FifoQueue, MinHeap } from "../src/index.js";

describe("FifoQueue", () => {
  it("gives items back in the order they came, across its compactions", () => {
    const q = new FifoQueue<number>();
    const out: number[] = [];
    // Interleave pushes and shifts so the moving head passes the compaction threshold several times.
    for (let i = 0; i < 10_000; i++) {
      q.push(i);
      if (i % 3 === 0) out.push(q.shift()!);
    }
    expect(q.length).toBe(10_000 - out.length);
    expect(q.peek()).toBe(out.length);
    while (q.length > 0) out.push(q.shift()!);
    expect(out).toEqual(Array.from({ length: 10_000 }, (_, i) => i));
    expect(q.shift()).toBeUndefined();
    expect(q.peek()).toBeUndefined();
  });

  it("peek leaves the item in the queue", () => {
    const q = new FifoQueue<string>();
    q.push("a");
    q.push("b");
    expect(q.peek()).toBe("a");
    expect(q.length).toBe(2);
    expect(q.shift()).toBe("a");
    expect(q.peek()).toBe("b");
  });

  it("removeWhere drops the matching items and keeps the others in order", () => {
    const q = new FifoQueue<number>();
    for (let i = 0; i < 20; i++) q.push(i);
    for (let i = 0; i < 5; i++) q.shift();
    expect(q.removeWhere((n) => n % 2 === 0)).toBe(7);
    expect(q.length).toBe(8);
    q.push(100);
    const out: number[] = [];
    while (q.length > 0) out.push(q.shift()!);
    expect(out).toEqual([5, 7, 9, 11, 13, 15, 17, 19, 100]);
  });

  it("take finds the oldest accepted item, unshift puts one back in front, remove and drain, over many items", () => {
    const q = new FifoQueue<number>();
    for (let i = 0; i < 5000; i++) q.push(i);
    for (let i = 0; i < 3000; i++) expect(q.take(() => true)).toBe(i);
    expect(q.length).toBe(2000);
    expect(q.take((x) => x % 7 === 0)).toBe(3003);
    q.unshift(-1);
    expect(q.take(() => true)).toBe(-1);
    expect(q.remove(3004)).toBe(true);
    expect(q.remove(3004)).toBe(false);
    expect(q.some((x) => x === 4999)).toBe(true);
    expect(q.take(() => true)).toBe(3000);
    const rest = q.drain();
    expect(rest).toHaveLength(1997);
    expect(rest.slice(0, 3)).toEqual([3001, 3002, 3005]);
    expect(q.length).toBe(0);
    expect(q.take(() => true)).toBeUndefined();
  });
});

describe("MinHeap", () => {
  it("pops values by increasing key", () => {
    const heap = new MinHeap<string>();
    // A fixed pseudo-random order (a linear congruential sequence), with repeated keys.
    let seed = 7;
    const keys: number[] = [];
    for (let i = 0; i < 2_000; i++) {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      keys.push(seed % 500);
    }
    keys.forEach((k, i) => heap.push(k, `${k}:${i}`));
    expect(heap.size).toBe(keys.length);
    expect(heap.peekKey()).toBe(Math.min(...keys));
    const popped: number[] = [];
    while (heap.size > 0) popped.push(Number(heap.pop()!.split(":")[0]));
    expect(popped).toEqual([...keys].sort((a, b) => a - b));
    expect(heap.pop()).toBeUndefined();
    expect(heap.peekKey()).toBeUndefined();
  });

  it("takes values pushed between pops in key order", () => {
    const heap = new MinHeap<number>();
    heap.push(30, 30);
    heap.push(10, 10);
    expect(heap.pop()).toBe(10);
    heap.push(5, 5);
    heap.push(40, 40);
    heap.push(20, 20);
    expect([heap.pop(), heap.pop(), heap.pop(), heap.pop()]).toEqual([5, 20, 30, 40]);
  });
});
