#!/usr/bin/env node
/**
 * `toil-worker <jobStore> <jobId>`: run one job of a workflow (and the jobs it chains to).
 *
 * Also usable without a process start: a warm host imports this module and calls
 * `runWarmCommand(argv, io)` with the same argv the command line would have.
 *
 * @module @toil/worker/cli
 */
import { runWorkerIfMain } from "./warm.js";

// Re-exported so that a warm host importing this script finds the warm protocol entry.
export { runWarmCommand } from "./warm.js";

await runWorkerIfMain(import.meta.url);
