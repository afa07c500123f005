import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BatchJobDescription, Requirements, UpdatedBatchJobInfo } from "@toil/batch-core";
import { kitJobScript } from "@toil/batch-core/testing";
import { SingleMachineBatchSystem, type SingleMachineOptions } from "../src/index.js";

const KIT_JOB = kitJobScript();

const cleanups: (() => Promise<void> | void)[] = [];

export async function cleanup(): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) await c();
}

export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "toil-local-"));
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

export function makeBatchSystem(
  limits: { maxCores?: number; maxMemory?: number; maxDisk?: number } = {},
  options: SingleMachineOptions = {},
  config: Record<string, unknown> = {},
): SingleMachineBatchSystem {
  const bs = new SingleMachineBatchSystem(
    { workflowId: `t${process.pid}-${Math.random().toString(36).slice(2, 8)}`, workDir: tempDir(), ...config },
    limits.maxCores ?? 2,
    limits.maxMemory ?? 2 ** 30,
    limits.maxDisk ?? 2 ** 30,
    { killGraceSeconds: 0.5, logger: () => {}, ...options },
  );
  cleanups.push(() => bs.shutdown());
  return bs;
}

export function desc(jobName: string, over: Partial<Requirements> = {}): BatchJobDescription {
  return { jobName, requirements: { cores: 1, memory: 2 ** 20, disk: 2 ** 20, accelerators: [], preemptible: false, ...over } };
}

export function kitJob(...args: (string | number)[]): string {
  return [process.execPath, KIT_JOB, ...args.map(String)].map((s) => (/^[\w./=:@%+,-]+$/.test(s) ? s : `'${s}'`)).join(" ");
}

export async function next(bs: SingleMachineBatchSystem, seconds = 60): Promise<UpdatedBatchJobInfo> {
  const u = await bs.getUpdatedBatchJob(seconds);
  if (!u) throw new Error(`no job finished within ${seconds}s`);
  return u;
}

export async function drain(bs: SingleMachineBatchSystem, n: number): Promise<UpdatedBatchJobInfo[]> {
  const out: UpdatedBatchJobInfo[] = [];
  for (let i = 0; i < n; i++) out.push(await next(bs));
  return out;
}

/** Max concurrency observed by kit-job "concurrency" runs in `dir`. */
export function observedConcurrency(dir: string): number[] {
  return readdirSync(dir)
    .filter((f) => f.startsWith("seen-"))
    .map((f) => Number(readFileSync(join(dir, f), "utf8")));
}

export { until } from "@toil/test-support";
