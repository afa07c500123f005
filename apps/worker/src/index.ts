/**
 * @toil/worker: `toil-worker <jobStore> <jobId>` runs one job of a workflow (and the jobs it chains
 * to) and commits the result to the job store. See the README for the protocol and exit codes.
 *
 * @module @toil/worker
 */
export { runWorker, WORKER_EXIT, type WorkerIO } from "./worker.js";
export { runWarmCommand, runWorkerIfMain, isMainModule } from "./warm.js";
