/**
 * Toil's status functions for scripts that poll a workflow (`ToilStatus.getStatus` and
 * `ToilStatus.getPIDStatus`), with Toil's strings. They read the job store only: the leader lock
 * (who leads, and whether that process lives), the leader's recorded pid and the outcome file
 * the leader writes when a run ends. `toil status` has its own, finer states (see the README).
 */
import { NoSuchJobStoreError, openJobStore, type JobStore } from "@toil/filestore";

/** What {@link getStatus} answers (Toil's strings). */
export type ToilWorkflowStatus = "QUEUED" | "RUNNING" | "COMPLETED" | "ERROR";

/** What {@link getPIDStatus} answers (Toil's strings). */
export type ToilLeaderStatus = "QUEUED" | "RUNNING" | "COMPLETED";

async function resumeIfExists(jobStore: string): Promise<JobStore | undefined> {
  const store = openJobStore(jobStore);
  try {
    await store.resume();
    return store;
  } catch (err) {
    if (err instanceof NoSuchJobStoreError) return undefined;
    throw err;
  }
}

/** A leader holds the store's lock and its process lives (or runs on another host, where it cannot be checked). */
async function leaderLives(store: JobStore): Promise<boolean> {
  const lock = await store.readLeaderLock();
  return lock !== undefined && lock.alive !== false;
}

/** When the leader wrote the outcome file `name` (ms epoch), or undefined when there is none. */
async function writtenAt(store: JobStore, name: string): Promise<number | undefined> {
  if (!(await store.sharedFileExists(name))) return undefined;
  const stamp = Number((await store.readSharedFile(name)).toString("utf8"));
  return Number.isFinite(stamp) ? stamp : 0;
}

/**
 * The state of the workflow's leader process (Toil's `ToilStatus.getPIDStatus`): `QUEUED` when there
 * is no job store yet or no leader has recorded its pid in it, `RUNNING` while that leader lives,
 * `COMPLETED` once it has exited, whatever the outcome (use {@link getStatus} to tell success from
 * failure). `jobStore` is a path or a `file:` locator.
 */
export async function getPIDStatus(jobStore: string): Promise<ToilLeaderStatus> {
  const store = await resumeIfExists(jobStore);
  if (!store) return "QUEUED";
  if (await leaderLives(store)) return "RUNNING";
  return (await store.readLeaderPid()) === undefined ? "QUEUED" : "COMPLETED";
}

/**
 * The state of the workflow (Toil's `ToilStatus.getStatus`): `QUEUED` when there is no job store
 * yet or no leader has recorded its pid in it, `RUNNING` while a leader lives, then `COMPLETED`
 * when the last run succeeded and `ERROR` when it failed, was stopped or its leader died.
 * A workflow whose store was deleted at the end (`--clean onSuccess`, the default) is `QUEUED`
 * again, as in Toil: poll with `--clean never` to see `COMPLETED`. `jobStore` is a path or a
 * `file:` locator.
 */
export async function getStatus(jobStore: string): Promise<ToilWorkflowStatus> {
  const store = await resumeIfExists(jobStore);
  if (!store) return "QUEUED";
  if (await leaderLives(store)) return "RUNNING";
  if ((await store.readLeaderPid()) === undefined) return "QUEUED";
  const succeeded = await writtenAt(store, "succeeded.log");
  const failed = await writtenAt(store, "failed.log");
  // A restart after a failure leaves both: the newer one is the last run's outcome.
  if (succeeded !== undefined && (failed === undefined || succeeded >= failed)) return "COMPLETED";
  return "ERROR";
}
