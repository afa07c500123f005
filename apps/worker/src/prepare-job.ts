/**
 * Before a job runs: load its description, drop the log of its previous failed attempt, and handle
 * a job issued without a body (a checkpoint to restart, or a job re-issued only to clean up).
 */
import { DamagedJobError, NoSuchJobError, type JobStore } from "@toil/filestore";
import type { JobDescription } from "@toil/job/core";
import type { WorkerRun } from "./worker-run.js";

/** Delete a job and, recursively, every successor and service host it still references. */
async function deleteSubtree(store: JobStore, ids: Iterable<string>): Promise<void> {
  const stack = [...ids];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (!(await store.jobExists(id))) continue;
    const d = await store.loadJob(id);
    for (const s of d.successorsAndServiceHosts()) stack.push(s);
    await store.deleteJob(id);
  }
}

/**
 * The description of the job the worker was started for, ready to run (a failed checkpoint
 * restarted), or undefined when there is nothing to run: the job no longer exists, or it was
 * re-issued only to clean up (done here).
 */
export async function prepareJob(run: WorkerRun): Promise<JobDescription | undefined> {
  const { store, config, capture, jobId } = run;
  let desc: JobDescription;
  try {
    desc = await store.loadJob(jobId);
  } catch (err) {
    // A damaged description is not a job that is gone: it fails the job for good.
    if (!(err instanceof NoSuchJobError) || err instanceof DamagedJobError) throw err;
    capture.line(`Job ${jobId} no longer exists: nothing to do.`);
    return undefined;
  }
  desc.assignConfig(config);
  run.current = desc;

  // A previous failed attempt's log is no longer needed.
  if (desc.logFileId) {
    const old = desc.logFileId;
    desc.logFileId = undefined;
    await store.updateJob(desc);
    await store.deleteFile(old);
  }

  if (!desc.hasBody()) {
    // Checkpoint whose subtree failed: rerun it from scratch (its successors are deleted).
    const pending = desc.nextSuccessors() !== undefined || desc.services.length > 0;
    if (desc.checkpoint && desc.hasCheckpointBody() && pending) {
      desc.chargeRetry();
      const doomed = desc.restartCheckpoint();
      await store.updateJob(desc);
      await deleteSubtree(store, doomed);
      capture.line(`Restarting checkpoint job ${desc}; ${desc.remainingTryCount} ${desc.remainingTryCount === 1 ? "try" : "tries"} left`);
    } else {
      // Re-issued only to clean up: drop finished successors, delete if done.
      const exists = new Map<string, boolean>();
      for (const id of desc.successorsAndServiceHosts()) exists.set(id, await store.jobExists(id));
      desc.clearNonexistentDependents((id) => exists.get(id) ?? false);
      if (desc.isSubtreeDone()) await store.deleteJob(desc.id);
      else await store.updateJob(desc);
      return undefined;
    }
  }
  return desc;
}
