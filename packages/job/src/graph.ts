/**
 * Job graph checks (pure algorithms over an abstract graph): exactly one root, no cycle in the
 * graph augmented with the follow-on ordering, new checkpoints are leaves, promises are consumed
 * only by jobs that run after the promising job. Linear time: instead of Toil's O(V^2) implied
 * edges, a follow-on F of job A is ordered after a "subtree done" node of each child of A.
 */
import { JobGraphDeadlockError } from "./errors.js";

/** A job as the checks see it. */
export interface GraphNode {
  readonly name: string;
  readonly children: readonly GraphNode[];
  readonly followOns: readonly GraphNode[];
  /** Service hosts of this job, each with its parent service host (if any). */
  readonly services: readonly { host: GraphNode; parent: GraphNode | undefined }[];
  readonly predecessors: Iterable<GraphNode>;
  /** For service hosts: the client job. */
  readonly client: GraphNode | undefined;
}

/** Jobs of the component with no predecessor (service hosts are never roots). */
export function rootsOf<N extends GraphNode>(component: readonly N[], inComponent: ReadonlySet<GraphNode>): N[] {
  return component.filter((n) => {
    if (n.client !== undefined) return false;
    for (const p of n.predecessors) if (inComponent.has(p)) return false;
    return true;
  });
}

/** The augmented "runs after" graph: job nodes plus one "subtree done" node per job. */
class Augmented {
  readonly index = new Map<GraphNode, number>();
  /** Edges in compressed rows: the successors of vertex u are targets[offsets[u] .. offsets[u + 1]). */
  readonly offsets: Int32Array;
  readonly targets: Int32Array;
  constructor(readonly nodes: readonly GraphNode[]) {
    nodes.forEach((n, i) => this.index.set(n, i));
    const v = nodes.length;
    // Two typed arrays per edge list instead of one JS array per vertex: a fan-out of a million
    // jobs has two million vertices, and an array each cost more than the jobs themselves.
    let from = new Int32Array(Math.max(16, 4 * v));
    let to = new Int32Array(from.length);
    let count = 0;
    const add = (a: number, b: number): void => {
      if (count === from.length) {
        const grow = (old: Int32Array) => {
          const bigger = new Int32Array(old.length * 2);
          bigger.set(old);
          return bigger;
        };
        from = grow(from);
        to = grow(to);
      }
      from[count] = a;
      to[count] = b;
      count++;
    };
    const done = (i: number) => i + v;
    for (let i = 0; i < v; i++) {
      const n = nodes[i] as GraphNode;
      add(i, done(i));
      const followOns: number[] = [];
      for (const f of n.followOns) {
        const k = this.index.get(f);
        if (k !== undefined) followOns.push(k);
      }
      for (const c of n.children) {
        const j = this.index.get(c);
        if (j === undefined) continue;
        add(i, j);
        add(done(j), done(i));
        for (const k of followOns) add(done(j), k);
      }
      for (const k of followOns) {
        add(i, k);
        add(done(k), done(i));
      }
      for (const { host, parent } of n.services) {
        const h = this.index.get(host);
        if (h === undefined) continue;
        // services start after the client's body and before its successors; sub-services after their parent
        add(parent === undefined ? i : (this.index.get(parent) ?? i), h);
        for (const s of n.children) {
          const k = this.index.get(s);
          if (k !== undefined) add(h, k);
        }
        for (const k of followOns) add(h, k);
      }
    }
    // Counting sort by source keeps each vertex's edges in the order they were added.
    const offsets = new Int32Array(2 * v + 1);
    for (let e = 0; e < count; e++) offsets[(from[e] as number) + 1]!++;
    for (let u = 0; u < 2 * v; u++) offsets[u + 1]! += offsets[u] as number;
    const next = offsets.slice(0, 2 * v);
    const targets = new Int32Array(count);
    for (let e = 0; e < count; e++) targets[next[from[e] as number]!++] = to[e] as number;
    this.offsets = offsets;
    this.targets = targets;
  }

  /** A vertex's label in error messages (made only for a cycle found: a label per vertex costs more than the graph). */
  label(x: number): string {
    const v = this.nodes.length;
    return x < v ? `'${(this.nodes[x] as GraphNode).name}'` : `'${(this.nodes[x - v] as GraphNode).name}' (its subtree completing)`;
  }

  /** A cycle as a list of labels, or undefined. Iterative DFS. */
  findCycle(): string[] | undefined {
    const { offsets, targets } = this;
    const n = offsets.length - 1;
    const colour = new Uint8Array(n); // 0 new, 1 on stack, 2 done
    const parent = new Int32Array(n).fill(-1);
    // The DFS stack as two typed arrays: the vertex and how many of its edges were followed.
    const stackVertex = new Int32Array(n);
    const stackEdge = new Int32Array(n);
    for (let s = 0; s < n; s++) {
      if (colour[s] !== 0) continue;
      let depth = 0;
      stackVertex[0] = s;
      stackEdge[0] = offsets[s] as number;
      colour[s] = 1;
      while (depth >= 0) {
        const u = stackVertex[depth] as number;
        const k = stackEdge[depth] as number;
        if (k < (offsets[u + 1] as number)) {
          stackEdge[depth] = k + 1;
          const w = targets[k] as number;
          if (colour[w] === 0) {
            colour[w] = 1;
            parent[w] = u;
            depth++;
            stackVertex[depth] = w;
            stackEdge[depth] = offsets[w] as number;
          } else if (colour[w] === 1) {
            const cycle = [w];
            for (let x = u; x !== w && x !== -1; x = parent[x] as number) cycle.push(x);
            cycle.reverse();
            return [...cycle.map((x) => this.label(x)), this.label(w)];
          }
        } else {
          colour[u] = 2;
          depth--;
        }
      }
    }
    return undefined;
  }

  /** Marks of the last search (`runsAfter`): one array for every search, so a search costs what it visits. */
  private marks: Uint32Array | undefined;
  private search = 0;

  /** Whether `to` runs strictly after `from`. */
  runsAfter(from: GraphNode, to: GraphNode): boolean {
    const a = this.index.get(from);
    const b = this.index.get(to);
    if (a === undefined || b === undefined) return false;
    const { offsets, targets } = this;
    // A fresh visited array per search made a fan-out of N jobs cost N² (one search per promise).
    if (this.marks === undefined || this.search >= 0xfffffffe) {
      this.marks = new Uint32Array(offsets.length - 1);
      this.search = 0;
    }
    const seen = this.marks;
    const mark = ++this.search;
    const queue = [a];
    seen[a] = mark;
    for (let i = 0; i < queue.length; i++) {
      const u = queue[i] as number;
      for (let e = offsets[u] as number; e < (offsets[u + 1] as number); e++) {
        const w = targets[e] as number;
        if (w === b) return true;
        if (seen[w] !== mark) {
          seen[w] = mark;
          queue.push(w);
        }
      }
    }
    return false;
  }
}

/** Build the ordering relation once for several queries. */
export function orderingOf(nodes: readonly GraphNode[]): { runsAfter(from: GraphNode, to: GraphNode): boolean } {
  // Built on the first query the fast paths below do not answer (a plain fan-out never needs it).
  let graph: Augmented | undefined;
  const cache = new Map<GraphNode, Set<GraphNode>>();
  // A job's children as a set, made once per job asked about (a root may have a million).
  const childSets = new Map<GraphNode, Set<GraphNode>>();
  const isChild = (p: GraphNode, c: GraphNode): boolean => {
    let set = childSets.get(p);
    if (set === undefined) childSets.set(p, (set = new Set(p.children)));
    return set.has(c);
  };
  return {
    runsAfter(from, to) {
      // fast paths: direct successor, or follow-on of a predecessor that has `from` as a child
      if (from.children.includes(to) || from.followOns.includes(to)) return true;
      for (const p of from.predecessors) if (p.followOns.includes(to) && isChild(p, from)) return true;
      let known = cache.get(from);
      if (known?.has(to)) return true;
      graph ??= new Augmented(nodes);
      const yes = graph.runsAfter(from, to);
      if (yes) {
        if (known === undefined) cache.set(from, (known = new Set()));
        known.add(to);
      }
      return yes;
    },
  };
}

/** Exactly one root, else {@link JobGraphDeadlockError}. Returns the root. */
export function checkConnected<N extends GraphNode>(component: readonly N[]): N {
  const inComponent = new Set<GraphNode>(component);
  const roots = rootsOf(component, inComponent);
  if (roots.length !== 1) {
    const names = roots.map((r) => r.name);
    throw new JobGraphDeadlockError(
      roots.length === 0
        ? `The job graph has no root job (every job has a predecessor, so they wait for each other in a cycle): ${component
            .slice(0, 10)
            .map((n) => `'${n.name}'`)
            .join(", ")}.`
        : `The job graph must have exactly one root job, but has ${roots.length}: ${names.map((n) => `'${n}'`).join(", ")}. ` +
          `Connect every job to the root with addChild/addFollowOn (a job with no predecessor would never be scheduled).`,
      names,
    );
  }
  return roots[0] as N;
}

/** No cycle in the augmented graph, else {@link JobGraphDeadlockError} naming the jobs on the cycle. */
export function checkAcyclic(component: readonly GraphNode[]): void {
  const cycle = new Augmented(component.filter((n) => n.client === undefined)).findCycle();
  if (cycle !== undefined) {
    const jobs = [...new Set(cycle.map((l) => l.replace(/ \(its subtree completing\)$/, "").slice(1, -1)))];
    throw new JobGraphDeadlockError(
      `The job graph would deadlock: these jobs wait for each other in a cycle: ${cycle.join(" -> ")}. ` +
        `(A follow-on waits for its parent's children and all their descendants.) ` +
        `Remove one of these child/follow-on edges so that no job waits for itself.`,
      jobs,
    );
  }
}
