/**
 * CPU-bound fan-out: the root adds N children that each compute for CPU_SECONDS of CPU time
 * (default 0.5; hashing in a loop) and return how many rounds they did; a follow-on writes the
 * number of children to OUT_FILE. `toil run cpu.ts --jobStore DIR -- N OUT_FILE [CPU_SECONDS]`.
 */
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { Job, type JobPromise } from "@toil/job";

/** A child: hashes until this process has used `cpuSeconds` more CPU time. */
export function compute(cpuSeconds: number): number {
  const start = process.cpuUsage();
  const block = Buffer.alloc(64 * 1024, 7);
  let rounds = 0;
  for (;;) {
    for (let i = 0; i < 16; i++) createHash("sha256").update(block).digest();
    rounds++;
    const used = process.cpuUsage(start);
    if ((used.user + used.system) / 1e6 >= cpuSeconds) return rounds;
  }
}

/** The follow-on: writes how many children ran to `outFile`. */
export function count(rounds: number[], outFile: string): number {
  writeFileSync(outFile, String(rounds.filter((r) => r > 0).length));
  return rounds.length;
}

/** The root: adds the children and the follow-on. */
export function cpu(job: Job, n: number, outFile: string, cpuSeconds: number): number {
  const rounds: JobPromise<number>[] = [];
  for (let i = 0; i < n; i++) rounds.push(job.addChildFn(compute, cpuSeconds).rv());
  job.addFollowOnFn(count, rounds, outFile);
  return n;
}

export default function main({ args }: { args: string[] }): Job {
  const [n, outFile, seconds] = args;
  if (n === undefined || outFile === undefined || !/^\d+$/.test(n)) {
    throw new Error("usage: toil run cpu.ts --jobStore DIR -- N OUT_FILE [CPU_SECONDS]");
  }
  return Job.wrapJobFn(cpu, Number(n), outFile, Number(seconds ?? 0.5));
}
