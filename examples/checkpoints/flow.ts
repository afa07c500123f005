/**
 * Checkpoints: a checkpoint job reruns, with its subtree deleted, when one of its successors fails
 * for good. Here the checkpoint's child fails on every try during the checkpoint's first run and
 * works during its second run.
 *
 *   toil run flow.ts --jobStore ./js --retryCount 1 -- ./state      # prints "ok after 2 runs"
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import path from "node:path";
import { JobFunctionWrappingJob } from "@toil/job";
import type { WorkflowContext } from "@toil/leader";

function bump(file: string): number {
  const n = existsSync(file) ? Number(readFileSync(file, "utf8")) + 1 : 1;
  writeFileSync(file, String(n));
  return n;
}

export function flakyChild(generation: number): string {
  if (generation < 2) throw new Error(`the child cannot work during checkpoint run ${generation}`);
  return `ok after ${generation} runs`;
}

export function checkpointed(job: JobFunctionWrappingJob, stateDir: string): unknown {
  mkdirSync(stateDir, { recursive: true });
  const generation = bump(path.join(stateDir, "checkpoint-runs"));
  job.log(`checkpoint run ${generation}`);
  return job.addChildFn(flakyChild, generation).rv();
}

export default function main({ args }: WorkflowContext) {
  const stateDir = path.resolve(args[0] ?? "./state");
  // A checkpoint must be a leaf when created: its child is added when it runs.
  return new JobFunctionWrappingJob(checkpointed, [stateDir], { checkpoint: true, memory: "64Mi", cores: 0.1 });
}
