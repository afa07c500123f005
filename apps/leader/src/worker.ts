#!/usr/bin/env node
/**
 * `toil-worker <jobStore> <jobId>` as shipped with the leader app (the leader issues this file).
 * Exports `runWarmCommand` so warm worker hosts can run it without a process start.
 */
import { runWorkerIfMain } from "@toil/worker";

export { runWarmCommand } from "@toil/worker";

await runWorkerIfMain(import.meta.url);
