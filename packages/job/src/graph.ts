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
  readonly predecessors: ReadonlySet<GraphNode>;
  /** For service hosts: the client job. */
  readonly client: GraphNode | undefined;
}

/** Every job connected to `start` (through successors, predecessors, services and clients), `start` first. */
export function connectedComponent<N extends GraphNode>(start: N, include: (n: N) => boolean = () => true): N[] {
  const seen = new Set<GraphNode>([start]);
  const out: N[] = [start];
  for (let i = 0; i < out.length; i++) {
    const n = out[i] as N;
    const next: GraphNode[] = [...n.children, ...n.followOns, ...n.services.map((s) => s.host), ...n.predecessors];
    if (n.client !== undefined) next.push(n.client);
    for (const m of next) {
      if (!seen.has(m) && include(m as N)) {
        seen.add(m);
        out.push(m as N);
      }
    }
  }
  return out;
}

/** Jobs of the component with no predecessor (service hosts are never roots). */
export function rootsOf<N extends GraphNode>(component: readonly N[], inComponent: ReadonlySet<GraphNode>): N[] {
  return component.filter(
    (n) => n.client === undefined && ![...n.predecessors].some((p) => inComponent.has(p)),
  );
}

/** The augmented "runs after" graph: job nodes plus one "subtree done" node per job. */
class Augmented {
  readonly index = new Map<GraphNode, number>();
  readonly edges: number[][] = [];
  readonly labels: string[] = [];
  constructor(readonly nodes: readonly GraphNode[]) {
    nodes.forEach((n, i) => this.index.set(n, i));
    const v = nodes.length;
    for (let i = 0; i < 2 * v; i++) this.edges.push([]);
    for (const n of nodes) this.labels.push(`'${n.name}'`);
    for (const n of nodes) this.labels.push(`'${n.name}' (its subtree completing)`);
    const done = (i: number) => i + v;
    for (const n of nodes) {
      const i = this.index.get(n) as number;
      const add = (a: number, b: number) => (this.edges[a] as number[]).push(b);
      add(i, done(i));
      for (const c of n.children) {
        const j = this.index.get(c);
        if (j === undefined) continue;
        add(i, j);
        add(done(j), done(i));
        for (const f of n.followOns) {
          const k = this.index.get(f);
          if (k !== undefined) add(done(j), k);
        }
      }
      for (const f of n.followOns) {
        const k = this.index.get(f);
        if (k === undefined) continue;
        add(i, k);
        add(done(k), done(i));
      }
      for (const { host, parent } of n.services) {
        const h = this.index.get(host);
        if (h === undefined) continue;
        // services start after the client's body and before its successors; sub-services after their parent
        add(parent === undefined ? i : (this.index.get(parent) ?? i), h);
        for (const s of [...n.children, ...n.followOns]) {
          const k = this.index.get(s);
          if (k !== undefined) add(h, k);
        }
      }
    }
  }

  /** A cycle as a list of labels, or undefined. Iterative DFS. */
  findCycle(): string[] | undefined {
    const n = this.edges.length;
    const colour = new Uint8Array(n); // 0 new, 1 on stack, 2 done
    const parent = new Int32Array(n).fill(-1);
    for (let s = 0; s < n; s++) {
      if (colour[s] !== 0) continue;
      const stack: [number, number][] = [[s, 0]];
      colour[s] = 1;
      while (stack.length > 0) {
        const top = stack[stack.length - 1] as [number, number];
        const [u, k] = top;
        const out = this.edges[u] as number[];
        if (k < out.length) {
          top[1] = k + 1;
          const w = out[k] as number;
          if (colour[w] === 0) {
            colour[w] = 1;
            parent[w] = u;
            stack.push([w, 0]);
          } else if (colour[w] === 1) {
            const cycle = [w];
            for (let x = u; x !== w && x !== -1; x = parent[x] as number) cycle.push(x);
            cycle.reverse();
            return [...cycle.map((x) => this.labels[x] as string), this.labels[w] as string];
          }
        } else {
          colour[u] = 2;
          stack.pop();
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
    // A fresh visited array per search made a fan-out of N jobs cost N² (one search per promise).
    if (this.marks === undefined || this.search >= 0xfffffffe) {
      this.marks = new Uint32Array(this.edges.length);
      this.search = 0;
    }
    const seen = this.marks;
    const mark = ++this.search;
    const queue = [a];
    seen[a] = mark;
    for (let i = 0; i < queue.length; i++) {
      for (const w of this.edges[queue[i] as number] as number[]) {
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
  const g = new Augmented(nodes);
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
      const yes = g.runsAfter(from, to);
      if (yes) {
        if (known === undefined) cache.set(from, (known = new Set()));
        known.add(to);
      }
      return yes;
    },
  };
}

/** Exactly one root, else {@link JobGraphDeadlockError}. */
export function checkConnected(component: readonly GraphNode[]): void {
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
