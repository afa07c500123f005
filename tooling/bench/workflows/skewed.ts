/**
 * Fan-out with a few slow jobs: the root adds N children, of which every 20th sleeps SLOW_SECONDS
 * (default 5) and the rest return at once; a follow-on sums their values into OUT_FILE.
 * `toil run skewed.ts --jobStore DIR -- N OUT_FILE [SLOW_SECONDS]`.
 *
 * On C CPUs the best schedule takes max(sum of the sleeps / C, one sleep): no quick job should
 * wait behind a slow one while a CPU is free.
 */
import { writeFileSync } from "node:fs";
import { Job, type JobPromise } from "@toil/job";

/** A child: every 20th sleeps, the others return their index at once. */
export async function child(i: number, slowSeconds: number): Promise<number> {
  if (i % 20 === 0) await new Promise((r) => setTimeout(r, slowSeconds * 1000));
  return i;
}

/** The follow-on: sums the children's values and writes the sum to `outFile`. */
export function total(values: number[], outFile: string): number {
  const sum = values.reduce((a, b) => a + b, 0);
  writeFileSync(outFile, String(sum));
  return sum;
}

/** The root: adds the children and the follow-on. */
export function skewed(job: Job, n: number, outFile: string, slowSeconds: number): number {
  const values: JobPromise<number>[] = [];
  for (let i = 0; i < n; i++) values.push(job.addChildFn(child, i, slowSeconds).rv());
  job.addFollowOnFn(total, values, outFile);
  return n;
}

export default function main({ args }: { args: string[] }): Job {
  const [n, outFile, slow] = args;
  if (n === undefined || outFile === undefined || !/^\d+$/.test(n)) {
    throw new Error("usage: toil run skewed.ts --jobStore DIR -- N OUT_FILE [SLOW_SECONDS]");
  }
  return Job.wrapJobFn(skewed, Number(n), outFile, Number(slow ?? 5));
}
