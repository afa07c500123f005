/**
 * Fan-out / fan-in with promises: the root adds N children (each squares its number) and a
 * follow-on that sums the children's results. The workflow returns the sum.
 *
 *   toil run flow.ts --jobStore ./js -- 20      # prints 2470 (= 0² + 1² + ... + 19²)
 */
import { Job, type JobFunctionWrappingJob } from "@toil/job";
import type { WorkflowContext } from "@toil/leader";

export function square(i: number): number {
  return i * i;
}

export function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

export function fanOut(job: JobFunctionWrappingJob, n: number): unknown {
  const squares = [];
  for (let i = 0; i < n; i++) squares.push(job.addChildFn(square, i).rv());
  job.log(`fanned out ${n} jobs`);
  // The follow-on runs after every child; its argument is the list of their promised results.
  return job.addFollowOnFn(sum, squares).rv();
}

export default function main({ args }: WorkflowContext) {
  const n = Number(args[0] ?? 20);
  return Job.wrapJobFn(fanOut, n);
}
