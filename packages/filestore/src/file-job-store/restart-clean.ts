/**
 * Restart housekeeping (`clean()`): delete jobs the workflow no longer reaches, replay delete
 * journals, forget successors that no longer exist, and rewrite the job-state index.
 */
import type { JobDescription } from "@toil/job/core";
import { DamagedJobError, InvalidIdError, NoSuchJobError } from "../errors.js";
import type { JobRecords } from "./job-records.js";

/** Clean the store of `records` (see {@link JobRecords}); returns the root description, if any. */
export async function cleanJobRecords(
  records: JobRecords,
  deleteFile: (fileId: string) => Promise<void>,
  jobCache?: Map<string, JobDescription>,
): Promise<JobDescription | undefined> {
  const load = async (id: string): Promise<JobDescription | undefined> => {
    const cached = jobCache?.get(id);
    if (cached) return cached;
    try {
      return await records.loadJob(id);
    } catch (err) {
      if (err instanceof NoSuchJobError) return undefined;
      throw err;
    }
  };
  const deleteFileQuietly = async (fileId: string): Promise<void> => {
    try {
      await deleteFile(fileId);
    } catch (err) {
      if (!(err instanceof InvalidIdError)) throw err;
    }
  };
  const exists = new Set<string>();
  if (jobCache) for (const id of jobCache.keys()) exists.add(id);
  else for await (const id of records.jobIds()) exists.add(id);

  const rootId = await records.rootJobId();
  const reachable = new Map<string, JobDescription>();
  // A job the workflow reaches was committed: if its document is there but unreadable, stop
  // before anything is deleted (only unreachable documents can be creations cut by a crash).
  const damaged = (id: string): void => {
    const damage = records.damage(id);
    if (damage !== undefined) throw new DamagedJobError(id, damage.where, damage.problem);
  };
  if (rootId !== undefined) {
    const stack = [rootId];
    while (stack.length > 0) {
      const id = stack.pop()!;
      if (reachable.has(id)) continue;
      if (!exists.has(id)) {
        damaged(id);
        continue;
      }
      const job = await load(id);
      if (!job) {
        damaged(id);
        continue;
      }
      reachable.set(id, job);
      for (const phase of job.successorPhases) for (const s of phase) stack.push(s);
      for (const [host, children] of job.serviceTree) {
        stack.push(host);
        for (const c of children) stack.push(c);
      }
    }
  }
  // Unreachable jobs: replay their deletion journals, then delete them.
  for (const id of exists) {
    if (reachable.has(id)) continue;
    const job = await load(id);
    if (job) for (const f of job.filesToDelete) await deleteFileQuietly(f);
    await records.deleteJob(id);
    jobCache?.delete(id);
  }
  // Reachable jobs: finish journals, forget successors that no longer exist.
  for (const job of reachable.values()) {
    let changed = false;
    if (job.filesToDelete.length > 0) {
      for (const f of job.filesToDelete) await deleteFileQuietly(f);
      job.filesToDelete = [];
      changed = true;
    }
    const before = JSON.stringify(job.successorPhases) + JSON.stringify([...job.serviceTree]);
    job.clearNonexistentDependents((id) => reachable.has(id));
    if (JSON.stringify(job.successorPhases) + JSON.stringify([...job.serviceTree]) !== before) changed = true;
    if (changed) await records.updateJob(job);
  }
  await records.rebuildJobIndex([...reachable.values()].map((j) => j.toStoredJSON()));
  return rootId === undefined ? undefined : reachable.get(rootId);
}
