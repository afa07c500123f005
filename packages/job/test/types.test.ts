// Type-level tests: checked by `tsc --noEmit` (the package tsconfig includes test/), and run by vitest.
import { describe, expect, expectTypeOf, it } from "vitest";
import { Job, type JobPromise, type Promised, type Resolved, Service } from "../src/index.js";
import { Greet, Returns, add, fn1, pair, sum } from "./fixtures/index.js";

class Pairs extends Job {
  run() {
    return Promise.resolve({ name: "x", scores: [1, 2, 3], nested: { deep: [true, "s"] as [boolean, string] } });
  }
}

class Forwards extends Job {
  run() {
    return this.addChild(new Greet("x")).rv();
  }
}

class Conn extends Service<{ host: string; port: number }> {
  start() {
    return { host: "h", port: 1 };
  }
  stop() {}
}

describe("promise typing", () => {
  it("follows run()'s return type and the path", () => {
    const p = new Pairs();
    expectTypeOf(p.rv()).toEqualTypeOf<JobPromise<{ name: string; scores: number[]; nested: { deep: [boolean, string] } }>>();
    expectTypeOf(p.rv("name")).toEqualTypeOf<JobPromise<string>>();
    expectTypeOf(p.rv("scores", 2)).toEqualTypeOf<JobPromise<number>>();
    expectTypeOf(p.rv("nested", "deep", 0)).toEqualTypeOf<JobPromise<boolean>>();
    expectTypeOf(p.rv("nested", "deep", 1)).toEqualTypeOf<JobPromise<string>>();
    // @ts-expect-error: no such key
    p.rv("nope");
    // @ts-expect-error: a tuple has no index 2
    p.rv("nested", "deep", 2);
    // @ts-expect-error: a string is not indexable by rv
    p.rv("name", 0);
  });
  it("types function jobs and returned promises", () => {
    const g = Job.wrapFn(fn1, "A");
    expectTypeOf(g.rv()).toEqualTypeOf<JobPromise<string>>();
    const q = Job.wrapFn(pair, 3);
    expectTypeOf(q.rv("parts", 1)).toEqualTypeOf<JobPromise<number>>();
    expectTypeOf(new Forwards().rv()).toEqualTypeOf<JobPromise<string>>();
    expectTypeOf(new Returns().rv("b", 1)).toEqualTypeOf<JobPromise<Date>>();
  });
  it("checks arguments against promise types", () => {
    const root = new Pairs();
    root.addChildFn(fn1, root.rv("name"));
    root.addChildFn(add, root.rv("scores", 0), 1);
    root.addChildFn(sum, root.rv("scores"));
    root.addChildFn(sum, [root.rv("scores", 0), 2, root.rv("scores", 1)]);
    // @ts-expect-error: a promise of a string is not a number
    root.addChildFn(add, root.rv("name"), 1);
    // @ts-expect-error: wrong plain argument type
    root.addChildFn(fn1, 3);
    // @ts-expect-error: too few arguments
    Job.wrapFn(add, 1);
    // @ts-expect-error: a promise of number[] is not a string
    new Greet(root.rv("scores"));
    new Greet(root.rv("name"));
  });
  it("types service start values", () => {
    const root = new Pairs();
    // typed statically; Conn is not exported, so adding it is refused at run time
    expectTypeOf<ReturnType<typeof root.addService<Conn>>>().toEqualTypeOf<JobPromise<{ host: string; port: number }>>();
    expect(() => root.addService(new Conn())).toThrow(/Service class 'Conn'.*cannot be found again/);
  });
  it("maps promised and resolved types", () => {
    expectTypeOf<Resolved<{ a: JobPromise<number>; b: [JobPromise<string>] }>>().toEqualTypeOf<{ a: number; b: [string] }>();
    expectTypeOf<JobPromise<number>>().toMatchTypeOf<Promised<number>>();
    expectTypeOf<{ x: JobPromise<number> }>().toMatchTypeOf<Promised<{ x: number }>>();
    expectTypeOf<JobPromise<string>>().not.toMatchTypeOf<Promised<number>>();
  });
});
