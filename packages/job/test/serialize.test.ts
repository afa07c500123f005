import { describe, expect, it } from "vitest";
import { Job, JobSerializationError, deserializeValue, serializeValue, saveJobGraph } from "../src/index.js";
import { Greet, Interval, Leaf, Point, add, fn1 } from "./fixtures/index.js";

const importModule = (url: string) => import(url) as Promise<object>;
const roundTrip = async (v: unknown) => deserializeValue(JSON.parse(JSON.stringify(serializeValue(v))), { importModule });

class Unmarked {
  x = 1;
}

describe("job data serialization", () => {
  it("round-trips structured data", async () => {
    const value = {
      s: "x",
      n: 1.5,
      special: [Number.NaN, Infinity, -Infinity, -0, undefined, null],
      big: 2n ** 70n,
      date: new Date(123),
      re: /a+b/gi,
      map: new Map<unknown, unknown>([["k", new Set([1, 2])], [3, { deep: [new Date(5)] }]]),
      bytes: new Uint8Array([1, 2, 255]),
      floats: new Float64Array([0.5, -1]),
      buf: Buffer.from("hi"),
      ab: new Uint8Array([9, 8]).buffer,
      tagged: { $t: "not a tag", v: 1 },
      nested: [[{ a: [1, { b: "c" }] }]],
    };
    const back = (await roundTrip(value)) as typeof value;
    expect(back).toEqual(value);
    expect(Object.is(back.special[3], -0)).toBe(true);
    expect(back.buf).toBeInstanceOf(Buffer);
    expect(back.floats).toBeInstanceOf(Float64Array);
    expect(back.map.get("k")).toBeInstanceOf(Set);
  });
  it("round-trips opted-in classes", async () => {
    const back = (await roundTrip([new Point(1, 2), new Interval(3, 4)])) as [Point, Interval];
    expect(back[0]).toBeInstanceOf(Point);
    expect(back[0].norm1()).toBe(3);
    expect(back[1]).toBeInstanceOf(Interval);
    expect(back[1].hi).toBe(4);
  });
  it("refuses what a worker could not rebuild, naming the path", () => {
    const cases: [unknown, RegExp][] = [
      [{ f: () => 1 }, /function '.*' cannot be stored.*value\.f/],
      [[1, Symbol("s")], /symbol.*value\[1\]/],
      [{ u: new Unmarked() }, /class Unmarked.*static \[serializable\]/],
      [{ p: Promise.resolve(1) }, /JavaScript Promise/],
      [{ j: new Leaf() }, /job 'Leaf' cannot be stored.*rv\(\)/],
      [new WeakMap(), /class WeakMap/],
    ];
    for (const [value, message] of cases) expect(() => serializeValue(value)).toThrow(message);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => serializeValue(cyclic)).toThrow(/cycle.*value\.self/);
    const shared = { a: 1 };
    expect(serializeValue([shared, shared])).toEqual([{ a: 1 }, { a: 1 }]);
  });
});

describe("jobs are refused when added if a worker could not rebuild them", () => {
  it("refuses functions that are not exported", () => {
    function local(x: number) {
      return x;
    }
    expect(() => Job.wrapFn(local, 1)).toThrow(JobSerializationError);
    expect(() => Job.wrapFn(local, 1)).toThrow(/Function 'local' cannot be found again.*export function local/);
    expect(() => new Leaf().addChildFn((x: number) => x, 1)).toThrow(/anonymous function/);
    expect(() => Job.wrapFn(add.bind(null, 1), 2)).toThrow(/bound function/);
  });
  it("refuses job classes defined inside a function", () => {
    class Inner extends Job {
      run() {
        return 1;
      }
    }
    const inner = new Inner();
    expect(() => new Leaf().addChild(inner)).toThrow(/Job class 'Inner'.*not inside a function/);
    expect(() => saveJobGraph(inner)).toThrow(JobSerializationError);
  });
  it("refuses unserializable arguments and fields, naming the job and where", () => {
    expect(() => new Leaf().addChildFn(add, 1, (() => 2) as never)).toThrow(/Job 'add': function .* \(at args\[1\]\)/);
    const g = new Greet("x");
    (g as unknown as { extra: unknown }).extra = { when: new Unmarked() };
    expect(() => new Leaf().addChild(g)).toThrow(/Job 'Greet'.*class Unmarked.*this\.extra\.when/);
    const h = Job.wrapFn(fn1, "A");
    expect(() => new Leaf().addChild(h)).not.toThrow();
  });
});
