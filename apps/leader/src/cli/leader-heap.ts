/**
 * How far the `toil run` process lets its heap grow between full garbage collections. V8 lets an
 * old generation grow to up to four times what survived the last full collection; a leader's
 * surviving heap is its bookkeeping of the run (tens of MB at 100,000 jobs) while most of what it
 * allocates is short-lived (descriptions read, issued and dropped), so its RSS would peak at several
 * times what it holds. Half again what survives costs one full collection every few seconds of a
 * large run, tens of milliseconds each.
 */
import { setFlagsFromString } from "node:v8";

const FLAG = "heap-growing-percent";
/** Growth allowed past the heap that survived the last full collection, in percent. */
const LEADER_HEAP_GROWING_PERCENT = 50;

/** Bound the leader's heap growth, unless the user set it (NODE_OPTIONS or node's own arguments). */
export function boundLeaderHeapGrowth(env: NodeJS.ProcessEnv): void {
  const given = (s: string) => s.includes(FLAG) || s.includes(FLAG.replace(/-/g, "_"));
  if (given(env.NODE_OPTIONS ?? "") || process.execArgv.some(given)) return;
  setFlagsFromString(`--${FLAG}=${LEADER_HEAP_GROWING_PERCENT}`);
}
