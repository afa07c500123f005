/**
 * Workflows for the operating-command tests.
 *
 *   sort <n> <stateDir>   setup -> n sort chunks (children) -> merge (follow-on); merge fails on its
 *                         first try ever (state file), so a run with --retryCount 0 fails and a restart finishes
 *   boom <n>              setup -> n sort chunks + explode (throws "Boom!")
 *   sleep <seconds>       one job that sleeps
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Job, JobFunctionWrappingJob } from "@toil/job";

const small = { memory: "64Mi", cores: 0.1, disk: "1Mi" } as const;

function busy(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) Math.sqrt(Math.random());
}

export function sortChunk(i: number): number {
  busy(150);
  return i;
}

export function merge(stateDir: string, n: number): string {
  mkdirSync(stateDir, { recursive: true });
  const marker = path.join(stateDir, "merge-tried");
  if (!existsSync(marker)) {
    writeFileSync(marker, "1");
    throw new Error("merge: first try fails on purpose");
  }
  return `merged ${n} chunks (${readFileSync(marker, "utf8")})`;
}

export function explode(): never {
  console.log("explode: about to fail");
  throw new Error("Boom!");
}

export function setup(job: JobFunctionWrappingJob, mode: string, n: number, stateDir: string): void {
  for (let i = 0; i < n; i++) job.addChildFn(sortChunk, i).requires(small);
  if (mode === "boom") job.addChildFn(explode).requires(small);
  else job.addFollowOnFn(merge, stateDir, n).requires(small);
}

export async function sleeper(seconds: number): Promise<string> {
  await new Promise((r) => setTimeout(r, seconds * 1000));
  return "slept";
}

export default function main({ args }: { args: string[] }): Job {
  const mode = args[0] ?? "sort";
  if (mode === "sleep") return Job.wrapFn(sleeper, Number(args[1] ?? 100)).requires(small);
  return new JobFunctionWrappingJob(setup, [mode, Number(args[1] ?? 4), path.resolve(args[2] ?? "./state")], small);
}
