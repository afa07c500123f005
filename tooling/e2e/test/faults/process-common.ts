/**
 * Shared pieces of the process-fault suites: the fixture, small job options, a seeded random
 * source, and process-table checks.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { openJobStore } from "@toil/filestore";
import { expect } from "vitest";
import { leafBytes, type TotalValue } from "../../fixtures/process/flows.js";
import { REPO_ROOT, TOIL_CLI, requireBuild, type RunResult } from "../../src/index.js";

export { until } from "@toil/test-support";

export const FLOWS = path.join(REPO_ROOT, "tooling", "e2e", "fixtures", "process", "flows.ts");

/**
 * Small requirements so jobs never wait on resources, and at most four at once: every running job
 * holds a worker process, and each restart starts them anew, so fewer of them keep a kill-restart
 * cycle to a few seconds on a busy 2-core machine; warnings only.
 */
export const SMALL = [
  "--maxJobs",
  "4",
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
function runsOf(state: string, key: string): number {
  try {
    return readFileSync(path.join(state, "runs", key)).length;
  } catch {
    return 0;
  }
}

/**
 * Check a finished `tree` workflow (see process-leader-kill.test.ts for the accounting rule): the
 * result, that each committed run was its job's last, and every file read back from the store.
 * Returns the runs that were cut and rerun, and the bytes verified.
 */
export async function checkTree(state: string, js: string, result: TotalValue, BRANCHES: number, LEAVES: number): Promise<{ reruns: number; verified: number }> {
  // The result: every branch and leaf, in order, with the bytes they wrote.
  expect(result.sums.map((s) => s.key)).toEqual(Array.from({ length: BRANCHES }, (_, i) => `r.${i}`));
  let bytes = 0;
  for (const s of result.sums) {
    expect(s.leaves.map((l) => l.key)).toEqual(Array.from({ length: LEAVES }, (_, j) => `${s.key}.${j}`));
    for (const l of s.leaves) expect(l.size).toBe(leafBytes(l.key).length);
    bytes += s.size;
  }
  expect(result.bytes).toBe(bytes);

  // The accounting: each committed run is its job's last run.
  const lines = journal(state);
  const first = new Map<string, number>();
  const last = new Map<string, number>();
  lines.forEach((line, i) => {
    const key = line.slice("start ".length);
    if (!first.has(key)) first.set(key, i);
    last.set(key, i);
  });
  const expected = ["r", "total"];
  for (let i = 0; i < BRANCHES; i++) {
    expected.push(`r.${i}`, `r.${i}.sum`);
    for (let j = 0; j < LEAVES; j++) expected.push(`r.${i}.${j}`);
  }
  expect([...first.keys()].sort()).toEqual(expected.sort());
  expect(result.attempt, "total ran after its committed run").toBe(runsOf(state, "total"));
  let reruns = 0;
  for (const key of expected) reruns += runsOf(state, key) - 1;
  for (const s of result.sums) {
    expect(s.attempt, `${s.key}.sum ran after its committed run`).toBe(runsOf(state, `${s.key}.sum`));
    expect(last.get(`${s.key}.sum`)!, `${s.key}.sum ran again after total started`).toBeLessThan(first.get("total")!);
    expect(last.get("r")!, `r ran again after its child ${s.key} started`).toBeLessThan(first.get(s.key)!);
    for (const l of s.leaves) {
      expect(l.attempt, `${l.key} ran after its committed run`).toBe(runsOf(state, l.key));
      expect(last.get(s.key)!, `${s.key} ran again after its child ${l.key} started`).toBeLessThan(first.get(l.key)!);
      expect(last.get(l.key)!, `${l.key} ran again after ${s.key}.sum started`).toBeLessThan(first.get(`${s.key}.sum`)!);
    }
  }

  // No file a finished job wrote is lost: read every leaf's and sum's file back from the store.
  const store = openJobStore(js);
  await store.resume();
  const scratch = mkdtempSync(path.join(tmpdir(), "toil-leader-kill-read-"));
  let verified = 0;
  try {
    for (const s of result.sums) {
      const parts = s.leaves.map((l) => leafBytes(l.key));
      for (const [i, l] of s.leaves.entries()) {
        const local = path.join(scratch, `${l.key}`);
        await store.readFile(l.file, local);
        expect(readFileSync(local).equals(parts[i]!), `leaf ${l.key}'s file changed`).toBe(true);
        verified += parts[i]!.length;
      }
      const local = path.join(scratch, `${s.key}.sum`);
      await store.readFile(s.file, local);
      expect(readFileSync(local).equals(Buffer.concat(parts)), `sum ${s.key}'s file changed`).toBe(true);
      verified += s.size;
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return { reruns, verified };
}

/**
 * Like runToil, but output goes to files and the result comes when the leader exits: workers a
 * SIGKILLed leader leaves behind inherit its stdout/stderr, so waiting for the pipes to close
 * would wait for them.
 */
export function runToilDetached(args: readonly string[], outDir: string, onSpawn?: (child: ChildProcess) => void): Promise<RunResult> {
  requireBuild();
  const out = path.join(outDir, `out-${Date.now()}-${Math.random().toString(36).slice(2)}`);
  const o = openSync(`${out}.stdout`, "w");
  const e = openSync(`${out}.stderr`, "w");
  const child = spawn(process.execPath, [TOIL_CLI, ...args], { cwd: REPO_ROOT, env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", o, e] });
  closeSync(o);
  closeSync(e);
  onSpawn?.(child);
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code, signal) =>
      resolve({ code, signal, stdout: readFileSync(`${out}.stdout`, "utf8"), stderr: readFileSync(`${out}.stderr`, "utf8"), pid: child.pid! }),
    );
  });
}
