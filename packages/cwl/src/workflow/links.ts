/**
 * How values flow through a workflow: sources merged (`linkMerge`), `pickValue`, step defaults,
 * `valueFrom`, workflow outputs; and which requirements a step's process inherits.
 */
import { CwlExpressionError, CwlInputError, CwlOutputError } from "../errors.js";
import { evaluateExpressions, type ExpressionEngine } from "../expr/engine.js";
import { LISTED_BY_RUNNER } from "../files.js";
import { typeMismatch } from "../types/check.js";
import type { OutputParameter, Process, Requirement, WorkflowStepInput } from "../model.js";

/** A link's values combined: one source gives its value; several (or an explicit linkMerge) give a list. */
function mergeSources(values: readonly unknown[], linkMerge: string | undefined): unknown {
  const method = linkMerge ?? (values.length > 1 ? "merge_nested" : undefined);
  if (method === undefined) return values.length === 0 ? null : (values[0] ?? null);
  const out: unknown[] = [];
  for (const v of values) {
    if (method === "merge_flattened" && Array.isArray(v)) out.push(...v);
    else out.push(v ?? null);
  }
  return out;
}

/** Apply `pickValue` to a merged list. */
function applyPickValue(value: unknown, method: string | undefined, where: string): unknown {
  if (method === undefined || !Array.isArray(value)) return value;
  const nonNull = value.filter((v) => v !== null && v !== undefined);
  switch (method) {
    case "first_non_null":
      if (nonNull.length === 0) throw new CwlInputError(`${where}: pickValue first_non_null found only null values.`);
      return nonNull[0];
    case "the_only_non_null":
      if (nonNull.length !== 1) throw new CwlInputError(`${where}: pickValue the_only_non_null found ${nonNull.length} non-null values.`);
      return nonNull[0];
    case "all_non_null":
      return nonNull;
    default:
      throw new CwlInputError(`${where}: unknown pickValue ${method}.`);
  }
}

/** A step input whose sources have been resolved to values. */
export interface ResolvedStepInput {
  spec: WorkflowStepInput;
  values: unknown[];
}

/**
 * The input object of a step before `valueFrom`: merged sources, pickValue, the step's defaults
 * for null values, `loadContents`. Inputs the step declares but its process does not are kept
 * (`valueFrom` and `when` may read them).
 */
export async function stepSourceObject(
  inputs: readonly ResolvedStepInput[],
  where: string,
  loadContents: (value: unknown, label: string) => Promise<void> = async () => undefined,
): Promise<Record<string, unknown>> {
  const obj: Record<string, unknown> = {};
  for (const { spec, values } of inputs) {
    let v = spec.source.length > 0 ? mergeSources(values, spec.linkMerge) : null;
    v = applyPickValue(v, spec.pickValue, `${where} input '${spec.id}'`);
    if ((v === null || v === undefined) && "default" in spec) v = JSON.parse(JSON.stringify(spec.default ?? null));
    obj[spec.id] = v ?? null;
    if (spec.loadContents) await loadContents(obj[spec.id], `${where} input '${spec.id}'`);
  }
  return obj;
}

/**
 * `valueFrom` of a step's inputs applied to its input object (one scatter job's, when the step
 * scatters). Each expression sees the inputs as they were before any valueFrom (`inputs`) and its
 * own input's value (`self`), never another valueFrom's result.
 */
export function applyValueFrom(obj: Record<string, unknown>, specs: readonly WorkflowStepInput[], engine: ExpressionEngine, where: string): Record<string, unknown> {
  if (!specs.some((s) => s.valueFrom !== undefined)) return obj;
  // What valueFrom sees: the inputs before any valueFrom, without the runner's bookkeeping keys.
  const before = JSON.parse(JSON.stringify(obj, (k, v: unknown) => (k === LISTED_BY_RUNNER ? undefined : v))) as Record<string, unknown>;
  const out = { ...obj };
  for (const spec of specs) {
    if (spec.valueFrom === undefined) continue;
    out[spec.id] = withWhere(`${where} input '${spec.id}' valueFrom`, () => evaluateExpressions(spec.valueFrom!, { inputs: before, self: before[spec.id] ?? null, runtime: {} }, engine));
  }
  return out;
}

/** Evaluate a step's `when` on its input object: true or false, anything else is an error. */
export function evaluateWhen(when: string, inputs: Record<string, unknown>, engine: ExpressionEngine, where: string): boolean {
  const view = JSON.parse(JSON.stringify(inputs, (k, v: unknown) => (k === LISTED_BY_RUNNER ? undefined : v))) as Record<string, unknown>;
  const v = withWhere(`${where} when`, () => evaluateExpressions(when, { inputs: view, self: null, runtime: {} }, engine));
  if (typeof v !== "boolean") throw new CwlExpressionError(`${where}: 'when' must evaluate to true or false, got ${JSON.stringify(v)} (from ${when}).`);
  return v;
}

/** Run `body`; an expression error it raises says where the expression is. */
function withWhere<T>(where: string, body: () => T): T {
  try {
    return body();
  } catch (err) {
    if (err instanceof CwlExpressionError) throw new CwlExpressionError(`${where}: ${err.message}`, { cause: err.cause ?? err });
    throw err;
  }
}

/** A workflow output whose sources have been resolved to values. */
export interface ResolvedOutput {
  spec: OutputParameter;
  values: unknown[];
}

/** The workflow's output object. */
export function workflowOutputObject(outputs: readonly ResolvedOutput[], where: string): Record<string, unknown> {
  const obj: Record<string, unknown> = {};
  for (const { spec, values } of outputs) {
    let v = (spec.outputSource ?? []).length > 0 ? mergeSources(values, spec.linkMerge) : null;
    v = applyPickValue(v, spec.pickValue, `${where} output '${spec.id}'`);
    const mismatch = typeMismatch(spec.type, v ?? null, `${where} output '${spec.id}'`, { anyAcceptsNull: true });
    if (mismatch !== undefined) throw new CwlOutputError(`${mismatch}.`);
    obj[spec.id] = v ?? null;
  }
  return obj;
}

function mergeByClass(...lists: Requirement[][]): Requirement[] {
  const byClass = new Map<string, Requirement>();
  for (const list of lists) for (const r of list) byClass.set(r.class, r);
  return [...byClass.values()];
}

/**
 * A step's process with the requirements and hints it inherits: the process's own win over the
 * step's, which win over the workflow's (CWL v1.2, "Requirements and hints").
 */
export function withInheritedRequirements<P extends Process>(process: P, ...outer: { requirements: Requirement[]; hints: Requirement[] }[]): P {
  return {
    ...process,
    requirements: mergeByClass(...outer.map((o) => o.requirements), process.requirements),
    hints: mergeByClass(...outer.map((o) => o.hints), process.hints),
  };
}

/** Steps in an order where each comes after the steps it takes values from; a cycle is an error. */
export function stepOrder(steps: readonly { id: string; in: readonly WorkflowStepInput[] }[], where: string): string[] {
  const ids = new Set(steps.map((s) => s.id));
  const deps = new Map(steps.map((s) => [s.id, new Set(s.in.flatMap((i) => i.source.map(sourceStep).filter((x): x is string => x !== undefined && ids.has(x))))]));
  const order: string[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (id: string, path: string[]): void => {
    const s = state.get(id);
    if (s === "done") return;
    if (s === "visiting") throw new CwlOutputError(`${where}: steps ${[...path, id].join(" -> ")} form a cycle.`);
    state.set(id, "visiting");
    for (const d of deps.get(id) ?? []) visit(d, [...path, id]);
    state.set(id, "done");
    order.push(id);
  };
  for (const s of steps) visit(s.id, []);
  return order;
}

/** The step a source names (`step/out` → `step`), or undefined for a workflow input. */
export function sourceStep(source: string): string | undefined {
  const slash = source.indexOf("/");
  return slash < 0 ? undefined : source.slice(0, slash);
}
