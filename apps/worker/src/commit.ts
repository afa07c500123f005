/**
 * Committing a job's run to the job store, and chaining (Toil's nextChainable): a successor the
 * worker runs itself is committed under the finished job's id. Groups are appended unsynced: the
 * worker syncs the whole chain once, before it reports (see runWorker).
 */
import type { JobStore } from "@toil/filestore";
import { nextChainable, type Config, type JobDescription, type JobRunOutcome } from "@toil/job/core";
import { processUnfitReason } from "./job-faults.js";
import type { WorkerRun } from "./worker-run.js";

/**
 * The successor `desc` would chain to, if it is one of the jobs its run just created (not yet
 * stored); chaining to an older job goes through the store as usual.
 */
async function chainableNewSuccessor(
  store: JobStore,
  desc: JobDescription,
  created: readonly JobDescription[],
  config: Config,
): Promise<JobDescription | undefined> {
  if (created.length === 0) return undefined;
  // Made only if chaining looks at a successor: a job with many children never does, and a map of
  // a million new jobs is not free.
  let byId: Map<string, JobDescription> | undefined;
  let storedSuccessor = false;
  const next = await nextChainable(
    desc,
    async (id) => {
      byId ??= new Map(created.map((d) => [d.id, d] as const));
      const fresh = byId.get(id);
      if (fresh) return fresh;
      storedSuccessor = true;
      return (await store.jobExists(id)) ? await store.loadJob(id) : undefined;
    },
    { disableChaining: config.disableChaining, runLocalJobsOnWorkers: config.runLocalJobsOnWorkers, defaults: config },
  );
  return next && !storedSuccessor ? next : undefined;
}

/**
 * A successor this job just made and that it will run itself (chaining) is committed directly
 * under this job's id, with the result and the other new jobs, in one group: the same state as
 * committing the job and then chaining, without writing and deleting the successor's document.
 * Returns that successor (now the job to run), or undefined when the job is to be committed with
 * {@link commitJob}. A process an unhandled error made unfit runs no more jobs: the successor goes
 * to the leader.
 */
export async function commitChainingToNewSuccessor(
  run: WorkerRun,
  desc: JobDescription,
  outcome: JobRunOutcome,
  resultText: string,
): Promise<JobDescription | undefined> {
  const { store, config } = run;
  const chained = desc.filesToDelete.length === 0 && !desc.isSubtreeDone() && processUnfitReason() === undefined
    ? await chainableNewSuccessor(store, desc, outcome.newDescriptions, config)
    : undefined;
  if (!chained) return undefined;
  const successorId = chained.id;
  run.capture.line(`Chaining from ${desc} to ${chained}`);
  chained.replace(desc);
  // Not synced per link: nothing outside this worker sees the links in between, so the
  // whole chain is made durable once, before the worker reports (see the end of runWorker).
  await store.batch(async () => {
    await store.writeResult(outcome.resultJobId, resultText);
    await store.createJobs(outcome.newDescriptions.filter((d) => d.id !== successorId));
    await store.updateJob(chained);
  }, { sync: false });
  return chained;
}

/**
 * Commit, as one group: the result, the new jobs, and the job itself (updated with its delete
 * journal, or deleted when its subtree is done). Files the job deleted go after the group that
 * journals them. The group is synced with the rest of the chain before the worker reports.
 * Returns whether the job's subtree is done (the job is deleted).
 */
export async function commitJob(run: WorkerRun, desc: JobDescription, outcome: JobRunOutcome, resultText: string): Promise<boolean> {
  const { store } = run;
  const subtreeDone = desc.isSubtreeDone();
  const doomedFiles = desc.filesToDelete;
  const finish = async (): Promise<void> => {
    for (const link of desc.getChain()) if (link.id !== desc.id) await store.deleteJob(link.id);
    await store.deleteJob(desc.id);
  };
  await store.batch(async () => {
    await store.writeResult(outcome.resultJobId, resultText);
    if (outcome.newDescriptions.length > 0) await store.createJobs(outcome.newDescriptions);
    if (subtreeDone && doomedFiles.length === 0) await finish();
    else await store.updateJob(desc);
  }, { sync: false });
  if (doomedFiles.length > 0) {
    // The journal is in the store: make it durable before the files go.
    await store.sync();
    for (const id of doomedFiles) await store.deleteFile(id);
    desc.filesToDelete = [];
    if (subtreeDone) await store.batch(finish, { sync: false });
    else await store.batch(() => store.updateJob(desc), { sync: false });
  }
  return subtreeDone;
}

/**
 * Chaining (Toil's nextChainable) to a stored successor of the committed job `desc`: when the single
 * next successor fits, it is moved under `desc`'s id and returned, to run next in this process.
 */
export async function chainToStoredSuccessor(run: WorkerRun, desc: JobDescription): Promise<JobDescription | undefined> {
  const { store, config } = run;
  const next = await nextChainable(
    desc,
    async (id) => ((await store.jobExists(id)) ? await store.loadJob(id) : undefined),
    { disableChaining: config.disableChaining, runLocalJobsOnWorkers: config.runLocalJobsOnWorkers, defaults: config },
  );
  if (!next || processUnfitReason() !== undefined) return undefined;
  next.assignConfig(config);
  const successorId = next.id;
  run.capture.line(`Chaining from ${desc} to ${next}`);
  next.replace(desc);
  // The successor now lives under this job's id: commit that and drop its old description, in
  // one group (synced with the rest of the chain).
  await store.batch(async () => {
    await store.updateJob(next);
    await store.deleteJob(successorId);
  }, { sync: false });
  return next;
}
