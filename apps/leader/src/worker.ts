#!/usr/bin/env node
/**
 * `toil-worker <jobStore> <jobId>` as shipped with the leader app (the leader issues this file).
 * Exports `runWarmCommand` so warm worker hosts can run it without a process start.
 */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { runWorker } from "@toil/worker";

export { runWarmCommand } from "@toil/worker";

function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  const code = await runWorker(process.argv.slice(2), { env: process.env, cwd: process.cwd() });
  process.exit(code);
}
