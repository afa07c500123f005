/**
 * Retries: a flaky job fails on its first two tries and works on the third. With
 * `--retryCount 2` (three tries) the workflow succeeds; with the default (`--retryCount 1`) it
 * fails with a FailedJobsError that names the job and shows the end of its log.
 *
 *   toil run flow.ts --jobStore ./js --retryCount 2 --retryBackoffSeconds 0.1 -- ./state
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Job } from "@toil/job";
import type { WorkflowContext } from "@toil/leader";

export function flaky(stateDir: string, failures: number): string {
  mkdirSync(stateDir, { recursive: true });
  const file = path.join(stateDir, "tries");
  const tries = (existsSync(file) ? Number(readFileSync(file, "utf8")) : 0) + 1;
  writeFileSync(file, String(tries));
  console.log(`flaky: try ${tries}`);
  if (tries <= failures) throw new Error(`flaky job failed on try ${tries} (it fails the first ${failures})`);
  return `worked on try ${tries}`;
}

export default function main({ args }: WorkflowContext) {
  const stateDir = path.resolve(args[0] ?? "./state");
  const failures = Number(args[1] ?? 2);
  return Job.wrapFn(flaky, stateDir, failures).requires({ memory: "64Mi", cores: 0.1 });
}
