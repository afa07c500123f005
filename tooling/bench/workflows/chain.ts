/**
 * A chain of N jobs, each the follow-on of the one before (each link adds the next while it runs).
 * `toil run chain.ts --jobStore DIR -- N OUT_FILE`. The last link writes N to OUT_FILE.
 * With chaining (the default) a worker runs link after link itself; `--disableChaining` makes the
 * leader issue every link.
 */
import { writeFileSync } from "node:fs";
import { Job } from "@toil/job";

export function link(job: Job, i: number, n: number, outFile: string): number {
  if (i + 1 < n) job.addFollowOnJobFn(link, i + 1, n, outFile);
  else writeFileSync(outFile, String(i + 1));
  return i;
}

export default function main({ args }: { args: string[] }): Job {
  const [n, outFile] = args;
  if (n === undefined || outFile === undefined || !/^\d+$/.test(n) || Number(n) < 1) {
    throw new Error("usage: toil run chain.ts --jobStore DIR -- N OUT_FILE");
  }
  return Job.wrapJobFn(link, 0, Number(n), outFile);
}
