/**
 * Fan-out / fan-in: the root adds N trivial children and one follow-on that sums their promised
 * values. `toil run fanout.ts --jobStore DIR -- N OUT_FILE [COUNTER_DIR]`.
 *
 * The follow-on writes the sum to OUT_FILE so the harness can check the run did the work.
 * With COUNTER_DIR (the restart case), every child appends its job id to COUNTER_DIR/<i> each time it
 * runs, so a job that ran twice shows up as a file with two lines.
 */
import { appendFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Job, type JobPromise } from "@toil/job";

/** A trivial child: returns its index. */
export function leaf(i: number): number {
  return i;
}

/** A trivial child that records each run of itself (restart case). */
export function countedLeaf(job: Job, i: number, counterDir: string): number {
  appendFileSync(join(counterDir, String(i)), `${job.jobStoreId}\n`);
  return i;
}

/** The follow-on: sums the children's values and writes the sum to `outFile`. */
export function total(values: number[], outFile: string): number {
  let sum = 0;
  for (const v of values) sum += v;
  writeFileSync(outFile, String(sum));
  return sum;
}

/** The root: adds the children and the follow-on. */
export function fanout(job: Job, n: number, outFile: string, counterDir: string | null): number {
  const values: JobPromise<number>[] = [];
  for (let i = 0; i < n; i++) {
    values.push(counterDir === null ? job.addChildFn(leaf, i).rv() : job.addChildJobFn(countedLeaf, i, counterDir).rv());
  }
  job.addFollowOnFn(total, values, outFile);
  return n;
}

export default function main({ args }: { args: string[] }): Job {
  const [n, outFile, counterDir] = args;
  if (n === undefined || outFile === undefined || !/^\d+$/.test(n)) {
    throw new Error("usage: toil run fanout.ts --jobStore DIR -- N OUT_FILE [COUNTER_DIR]");
  }
  return Job.wrapJobFn(fanout, Number(n), outFile, counterDir ?? null);
}
