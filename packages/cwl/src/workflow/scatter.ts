/**
 * Scatter: a step's input object split into one input object per job (`dotproduct`,
 * `nested_crossproduct`, `flat_crossproduct`), and the jobs' outputs gathered back into arrays of
 * the right shape (nested for `nested_crossproduct`, flat otherwise).
 */
import { CwlInputError } from "../errors.js";

/** How several scattered inputs combine. */
export type ScatterMethod = "dotproduct" | "nested_crossproduct" | "flat_crossproduct";

/**
 * The shape of a scatter's outputs: the lengths of the nested arrays, outermost first (one level
 * for `dotproduct`, `flat_crossproduct` and a single scattered input; one level per scattered
 * input for `nested_crossproduct`).
 */
export type ScatterShape = number[];

/** A scatter split into jobs: each job's input object, in order, and the shape to gather into. */
export interface ScatterPlan {
  /** The input object of each job (before valueFrom), in output order. */
  jobs: Record<string, unknown>[];
  /** The nesting of the gathered outputs. */
  shape: ScatterShape;
}

/**
 * Split a step's input object over its scattered inputs. Every scattered input must hold an array;
 * for `dotproduct` (the default with one input) they must have the same length.
 */
export function planScatter(inputs: Record<string, unknown>, scatter: readonly string[], method: ScatterMethod | undefined, where: string): ScatterPlan {
  const arrays = scatter.map((name) => {
    const v = inputs[name];
    if (!Array.isArray(v)) {
      throw new CwlInputError(`${where}: scattered input '${name}' must be an array, got ${v === null || v === undefined ? "null" : JSON.stringify(v).slice(0, 80)}.`);
    }
    return v as unknown[];
  });
  const how = method ?? (scatter.length > 1 ? undefined : "dotproduct");
  if (how === undefined) throw new CwlInputError(`${where}: scatter over ${scatter.length} inputs needs a scatterMethod (dotproduct, nested_crossproduct or flat_crossproduct).`);
  const withValues = (values: unknown[]): Record<string, unknown> => {
    const job = { ...inputs };
    scatter.forEach((name, i) => (job[name] = values[i]));
    return job;
  };
  if (how === "dotproduct") {
    const n = arrays[0]!.length;
    const bad = arrays.findIndex((a) => a.length !== n);
    if (bad >= 0) {
      throw new CwlInputError(`${where}: dotproduct scatter needs arrays of one length, but '${scatter[0]}' has ${n} items and '${scatter[bad]}' has ${arrays[bad]!.length}.`);
    }
    return { jobs: Array.from({ length: n }, (_, k) => withValues(arrays.map((a) => a[k]))), shape: [n] };
  }
  // Cross products: the first scattered input varies slowest.
  const jobs: Record<string, unknown>[] = [];
  const visit = (depth: number, chosen: unknown[]): void => {
    if (depth === arrays.length) {
      jobs.push(withValues(chosen));
      return;
    }
    for (const v of arrays[depth]!) visit(depth + 1, [...chosen, v]);
  };
  visit(0, []);
  if (how === "flat_crossproduct") return { jobs, shape: [jobs.length] };
  return { jobs, shape: arrays.map((a) => a.length) };
}

/**
 * Gather the jobs' values (in plan order) into arrays of `shape`. A nested shape with an empty
 * level stops there: `[2, 0]` gathers into `[[], []]`.
 */
export function gatherScatter(values: readonly unknown[], shape: ScatterShape): unknown[] {
  let next = 0;
  const build = (depth: number): unknown[] => {
    const out: unknown[] = [];
    for (let i = 0; i < shape[depth]!; i++) out.push(depth === shape.length - 1 ? (values[next++] ?? null) : build(depth + 1));
    return out;
  };
  return build(0);
}
