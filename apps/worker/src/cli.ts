#!/usr/bin/env node
/**
 * `toil-worker <jobStore> <jobId>`: run one job of a workflow (and the jobs it chains to).
 *
 * Also usable without a process start: a warm host imports this module and calls
 * `runWarmCommand(argv, io)` with the same argv the command line would have.
 */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { runWorker } from "./worker.js";

// Re-exported so that a warm host importing this script finds the warm protocol entry.
export { runWarmCommand } from "./warm.js";

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
  // Exit right away: a job may leave timers or handles behind.
  process.exit(code);
}
