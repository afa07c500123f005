/**
 * Shared pieces of the process-fault suites: the fixture, small job options, a seeded random
 * source, and process-table checks.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "../../src/index.js";

export const FLOWS = path.join(REPO_ROOT, "tooling", "e2e", "fixtures", "process", "flows.ts");

/** Small requirements so many jobs fit at once on a 2-core machine; warnings only. */
export const SMALL = [
  "--defaultMemory",
  "64Mi",
  "--defaultDisk",
  "8Mi",
  "--defaultCores",
  "0.1",
  "--disableProgress",
  "--logLevel",
  "warning",
  "--retryBackoffSeconds",
  "0",
];

/** mulberry32: a small seeded generator, so a failing sequence of kills can be replayed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Whether `pid` is a live process (not a zombie). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(")") + 2));
  } catch {
    return false;
  }
}

/** Live processes whose environment contains `needle` (e.g. a batch system's job marker). */
export function processesWithEnv(needle: string): number[] {
  const out: number[] = [];
  const want = Buffer.from(needle);
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    try {
      if (readFileSync(`/proc/${pid}/environ`).includes(want) && alive(pid)) out.push(pid);
    } catch {
      // gone, or not ours
    }
  }
  return out;
}

/** The marker every process the single-machine batch system starts for this workflow carries. */
export function workflowMarker(jobStore: string): string {
  const stored = JSON.parse(readFileSync(path.join(jobStore, "meta", "config.json"), "utf8")) as { config: { workflowId: string } };
  return `TOIL_BATCH_LOCAL_JOB=${stored.config.workflowId.replace(/[^A-Za-z0-9_-]/g, "_")}/`;
}

/** Lines of the fixture's journal (`start <key>`, `end <key>`). */
export function journal(state: string): string[] {
  try {
    return readFileSync(path.join(state, "journal"), "utf8").split("\n").filter(Boolean);
  } catch {
    return [];
  }
}

/** How many times the fixture job `key` started. */
export function runsOf(state: string, key: string): number {
  try {
    return readFileSync(path.join(state, "runs", key)).length;
  } catch {
    return 0;
  }
}

/** Resolve once `check()` holds, polling every `everyMs` (the test's own timeout bounds it). */
export async function until(check: () => boolean, everyMs = 20): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, everyMs));
}
