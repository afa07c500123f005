/**
 * `runWorker`: run one job of a workflow and the jobs it chains to, in the steps of the README's
 * protocol: open the job store (open-stores.ts), set the process up for the workflow
 * (worker-run.ts), run and commit the chain (chain.ts, prepare-job.ts, service-host.ts, commit.ts),
 * report to the leader (report.ts), and sync everything once.
 */
import { NoSuchJobStoreError, type JobStore } from "@toil/filestore";
import { runJobChain } from "./chain.js";
import { installJobFaultHandlers } from "./job-faults.js";
import { openStoreOnce } from "./open-stores.js";
import { releaseRun, reportRun } from "./report.js";
import { WORKER_EXIT, type WorkerIO } from "./worker-io.js";
import { startRun } from "./worker-run.js";

export { WORKER_EXIT, type WorkerIO } from "./worker-io.js";
export { closeOpenStores } from "./open-stores.js";

const IN_WORKER = Symbol.for("toil.inWorker");

/**
 * Run the job `jobId` of the workflow in `locator`, and the jobs it chains to. Resolves to the exit
 * code (see {@link WORKER_EXIT}). Never throws for job failures.
 */
export async function runWorker(argv: readonly string[], io: WorkerIO): Promise<number> {
  // Positional on purpose: job ids may start with "-" (nanoid alphabet).
  const positional = argv.slice(0, 2);
  if (positional.length < 2 || positional.some((a) => a === "")) {
    process.stderr.write("usage: toil-worker <jobStore> <jobId>\n");
    return WORKER_EXIT.USAGE;
  }
  const [locator, jobId] = positional as [string, string];
  (globalThis as Record<symbol, unknown>)[IN_WORKER] = true;
  // In a process of its own (not inside the leader), an error a job leaves unhandled fails that job.
  if (!io.inProcess) installJobFaultHandlers();

  let store: JobStore;
  try {
    store = await openStoreOnce(locator);
  } catch (err) {
    const why = err instanceof NoSuchJobStoreError ? "it does not exist" : (err as Error).message;
    process.stderr.write(
      `toil-worker: cannot open job store ${locator}: ${why}. The job store must be on a filesystem shared by the leader and every worker.\n`,
    );
    return WORKER_EXIT.NO_JOB_STORE;
  }

  const run = startRun(store, jobId, io);
  let outcome: Awaited<ReturnType<typeof runJobChain>>;
  try {
    outcome = await runJobChain(run);
  } finally {
    run.restoreProcess();
  }
  if (outcome === "nothing to do") {
    // Still give the process back (a warm host runs the next job with clean output) and make a
    // clean-up this run did durable.
    releaseRun(run);
    io.release?.();
    return (await syncRun(store, jobId)) ?? WORKER_EXIT.OK;
  }

  const code = await reportRun(run);
  // Only durability is left: a warm host may start its next job meanwhile (see WorkerIO.release).
  io.release?.();
  // One sync for everything this run committed (every link of its chain, its report): the job
  // is committed, and the worker says so, only now. Syncs of jobs that end while one is running
  // are shared.
  return (await syncRun(store, jobId)) ?? code;
}

/** Make what the run wrote durable; an exit code when that failed. */
async function syncRun(store: JobStore, jobId: string): Promise<number | undefined> {
  try {
    await store.sync();
    return undefined;
  } catch (err) {
    process.stderr.write(`toil-worker: could not make the commit of job ${jobId} durable: ${(err as Error).stack ?? String(err)}\n`);
    return WORKER_EXIT.JOB_FAILED;
  }
}
