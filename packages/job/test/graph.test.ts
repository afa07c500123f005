import { describe, expect, it } from "vitest";
import {
  ConflictingPredecessorError,
  EncapsulatedJob,
  Job,
  JobGraphDeadlockError,
  JobPromiseConstraintError,
  JobUsageError,
  saveJobGraph,
} from "../src/index.js";
import { CheckpointLeaf, Leaf, Store, add, fn1 } from "./fixtures/index.js";

function jobs(n: number): Leaf[] {
  return Array.from({ length: n }, () => new Leaf());
}

/** Toil's definition, O(V^2): child/follow-on edges plus implied edges from every descendant of a job's children to each of its follow-ons. */
function referenceIsAcyclic(n: number, children: [number, number][], followOns: [number, number][]): boolean {
  const succ = Array.from({ length: n }, () => new Set<number>());
  for (const [a, b] of [...children, ...followOns]) succ[a]!.add(b);
  const descendants = (start: number): Set<number> => {
    const seen = new Set<number>();
    const stack = [start];
    while (stack.length) for (const w of succ[stack.pop()!]!) if (!seen.has(w)) (seen.add(w), stack.push(w));
    return seen;
  };
  const edges = succ.map((s) => new Set(s));
  for (const [a, f] of followOns) {
    for (const [p, c] of children) {
      if (p !== a) continue;
      edges[c]!.add(f);
      for (const d of descendants(c)) edges[d]!.add(f);
    }
  }
  const colour = new Array<number>(n).fill(0);
  const visit = (u: number): boolean => {
    colour[u] = 1;
    for (const w of edges[u]!) {
      if (colour[w] === 1) return false;
      if (colour[w] === 0 && !visit(w)) return false;
    }
    colour[u] = 2;
    return true;
  };
  for (let i = 0; i < n; i++) if (colour[i] === 0 && !visit(i)) return false;
  return true;
}

function build(n: number, children: [number, number][], followOns: [number, number][]): Leaf[] {
  const js = jobs(n);
  for (const [a, b] of children) js[a]!.addChild(js[b]!);
  for (const [a, b] of followOns) js[a]!.addFollowOn(js[b]!);
  return js;
}

describe("graph checks (scenario 7)", () => {
  it("accepts a chain and rejects cycles, self edges and second roots", () => {
    const [a, b, c] = build(3, [[0, 1], [1, 2]], []);
    a!.checkJobGraphForDeadlocks();
    expect(a!.getRootJobs()).toEqual(new Set([a]));
    c!.addChild(a!);
    expect(() => a!.checkJobGraphAcyclic()).toThrow(JobGraphDeadlockError);
    void b;

    const [s] = jobs(1);
    s!.addChild(s!);
    expect(() => s!.checkJobGraphAcyclic()).toThrow(JobGraphDeadlockError);

    const two = build(3, [[0, 1], [2, 1]], []);
    expect(() => two[0]!.checkJobGraphConnected()).toThrow(/exactly one root job, but has 2/);

    const back = build(2, [[0, 1]], [[1, 0]]);
    expect(() => back[0]!.checkJobGraphForDeadlocks()).toThrow(JobGraphDeadlockError);
    expect(() => back[0]!.checkJobGraphAcyclic()).toThrow(JobGraphDeadlockError);

    const [f] = jobs(1);
    f!.addFollowOn(f!);
    expect(() => f!.checkJobGraphAcyclic()).toThrow(JobGraphDeadlockError);

    const five = build(5, [[0, 1], [1, 2], [2, 3], [3, 4], [4, 2]], []);
    try {
      five[0]!.checkJobGraphAcyclic();
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(JobGraphDeadlockError);
      expect((e as JobGraphDeadlockError).jobs).toContain("Leaf");
      expect((e as Error).message).toMatch(/cycle/);
    }
  });
  it("rejects adding the same edge twice", () => {
    const [a, b] = jobs(2);
    a!.addChild(b!);
    expect(() => a!.addFollowOn(b!)).toThrow(ConflictingPredecessorError);
    expect(() => a!.addChild(b!)).toThrow(ConflictingPredecessorError);
  });
});

describe("graph checks, randomized (scenario 8)", () => {
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const pick = (n: number) => Math.floor(random() * n);

  it("agrees with Toil's definition on random DAGs with random follow-ons", () => {
    for (let round = 0; round < 40; round++) {
      const n = 2 + pick(10);
      const children: [number, number][] = [];
      for (let j = 1; j < n; j++) {
        children.push([pick(j), j]);
        if (random() < 0.3) {
          const i = pick(j);
          if (!children.some(([a, b]) => a === i && b === j)) children.push([i, j]);
        }
      }
      const followOns: [number, number][] = [];
      for (let k = 0; k < 3; k++) {
        const a = pick(n);
        const b = 1 + pick(n - 1);
        if (a === b || [...children, ...followOns].some(([x, y]) => x === a && y === b)) continue;
        if (referenceIsAcyclic(n, children, [...followOns, [a, b]])) followOns.push([a, b]);
      }
      const js = build(n, children, followOns);
      js[0]!.checkJobGraphForDeadlocks();
      expect(js[0]!.getRootJobs()).toEqual(new Set([js[0]]));

      // an illegal follow-on, if one exists
      for (let a = 0; a < n; a++) {
        for (let b = 1; b < n; b++) {
          if (a === b || [...children, ...followOns].some(([x, y]) => x === a && y === b)) continue;
          if (!referenceIsAcyclic(n, children, [...followOns, [a, b]])) {
            const bad = build(n, children, [...followOns, [a, b]]);
            expect(() => bad[0]!.checkJobGraphAcyclic()).toThrow(JobGraphDeadlockError);
          }
        }
      }
      // an extra root
      const extra = build(n, children, followOns);
      new Leaf().addChild(extra[n - 1]!);
      expect(() => extra[0]!.checkJobGraphConnected()).toThrow(JobGraphDeadlockError);
      // a back edge from the last job to the root
      const back = build(n, children, followOns);
      back[n - 1]!.addChild(back[0]!);
      expect(() => back[0]!.checkJobGraphAcyclic()).toThrow(JobGraphDeadlockError);
    }
  });
  it("rejects a follow-on between jobs that share a descendant", () => {
    // 0 -> 1, 0 -> 2, 1 -> 3, 2 -> 3, follow-on 1 => 2: 3 waits for 2, and 2 waits for 1's subtree (3)
    const js = build(4, [[0, 1], [0, 2], [1, 3], [2, 3]], []);
    js[0]!.checkJobGraphForDeadlocks();
    const bad = build(4, [[0, 1], [0, 2], [1, 3], [2, 3]], [[1, 2]]);
    expect(() => bad[0]!.checkJobGraphAcyclic()).toThrow(JobGraphDeadlockError);
  });
});

describe("checkpoints must be leaves (scenario 9)", () => {
  it("accepts a checkpoint leaf, root or not", () => {
    const root = new CheckpointLeaf();
    expect(root.checkpoint).toBe(true);
    expect(saveJobGraph(root).descriptions[0]!.checkpoint).toBe(true);
    const parent = new Leaf();
    parent.addChild(new CheckpointLeaf());
    parent.checkJobGraphForDeadlocks();
    expect(() => saveJobGraph(parent)).not.toThrow();
  });
  it("rejects a checkpoint given a child, follow-on or service before it ran", () => {
    for (const give of [
      (j: Job) => j.addChild(new Leaf()),
      (j: Job) => j.addFollowOn(new Leaf()),
      (j: Job) => j.addService(new Store("s")),
    ]) {
      const root = new CheckpointLeaf();
      give(root);
      expect(() => root.checkJobGraphForDeadlocks()).toThrow(/Checkpoint job 'CheckpointLeaf'/);
      const parent = new Leaf();
      const child = parent.addChild(new CheckpointLeaf());
      give(child);
      expect(() => saveJobGraph(parent)).toThrow(JobGraphDeadlockError);
    }
  });
});


describe("encapsulate (scenario 19)", () => {
  it("keeps a single root", () => {
    const a = new Leaf();
    const b = new Leaf();
    const e = a.addChild(b).encapsulate();
    expect(e).toBeInstanceOf(EncapsulatedJob);
    expect(a.getRootJobs()).toEqual(new Set([a]));
    a.checkJobGraphForDeadlocks();
  });
  it("runs things added to it after the encapsulated job's whole subtree", () => {
    const a = new Leaf();
    const sub = a.addChild(new Leaf());
    const e = a.encapsulate("wrapped");
    const after = e.addChild(Job.wrapFn(add, a.rv(), 1));
    const root = new Leaf();
    root.addChild(e);
    root.addFollowOn(Job.wrapFn(add, after.rv(), 1));
    const { descriptions } = saveJobGraph(root);
    const byName = (n: string) => descriptions.filter((d) => d.displayName === n);
    const eDesc = byName("wrapped")[0]!;
    expect(eDesc.childIds).toEqual([a.jobStoreId]);
    expect(eDesc.followOnIds).toHaveLength(1);
    const follow = descriptions.find((d) => d.id === eDesc.followOnIds[0])!;
    expect(follow.childIds).toEqual([after.jobStoreId]);
    expect(e.rv().source).toBe(a);
    void sub;
  });
});

describe("promise consumption rules", () => {
  it("allows successors and follow-ons of ancestors", () => {
    const root = new Leaf();
    const a = root.addChild(new Leaf());
    a.addChildFn(add, a.rv(), 1);
    root.addFollowOnFn(add, a.rv(), 2);
    const x = root.addChild(new Leaf());
    const deep = x.addChild(new Leaf());
    root.addFollowOnFn(add, deep.rv(), 3);
    expect(() => saveJobGraph(root)).not.toThrow();
  });
  it("rejects siblings, unconnected jobs and roots consuming promises", () => {
    const root = new Leaf();
    const a = root.addChild(new Leaf());
    root.addChildFn(add, a.rv(), 1);
    expect(() => saveJobGraph(root)).toThrow(JobPromiseConstraintError);

    const lonely = new Leaf();
    const r2 = new Leaf();
    r2.addChildFn(add, lonely.rv(), 1);
    expect(() => saveJobGraph(r2)).toThrow(/not a successor/);

    const r3 = Job.wrapFn(add, new Leaf().rv(), 1);
    expect(() => saveJobGraph(r3)).toThrow(JobPromiseConstraintError);
  });
  it("lets a service's start value reach the client's successors", () => {
    const root = new Leaf();
    const url = root.addService(new Store("db"));
    root.addChildFn(fn1, url);
    expect(() => saveJobGraph(root)).not.toThrow();
    const r2 = new Leaf();
    const url2 = r2.addService(new Store("db"));
    const sibling = new Leaf();
    sibling.addChildFn(fn1, url2);
    r2.addChild(sibling);
    expect(() => saveJobGraph(r2)).not.toThrow();
  });
  it("refuses misuse of services", () => {
    const root = new Leaf();
    const s = new Store("a");
    root.addService(s);
    expect(() => root.addService(s)).toThrow(/only once/);
    expect(() => new Leaf().addService(new Store("b"), new Store("c"))).toThrow(JobUsageError);
  });
});
