import type { JobStore } from "@toil/filestore";
import { NoSuchFileError } from "@toil/filestore";
import { deserializeValue, isJob, saveJobGraph, type Config, type Job } from "@toil/job";
import { ToilContextError } from "./leader/errors.js";
import { createServiceFlags, importUserModule } from "@toil/worker";

/** What `Toil.start` accepts as the root of a workflow. */
export type RootJob = Job;

/**
 * Validate the root job's graph (cycles, roots, checkpoints, promises, job data) and write it to the
 * job store as a new workflow. Nothing is written if validation fails. Returns the root job's id.
 */
export async function saveRootJob(root: RootJob, store: JobStore, config: Config): Promise<string> {
  if (!isJob(root)) {
    throw new ToilContextError(
      `start() needs a Job (a subclass instance or Job.wrapFn(...)), got ${root === null ? "null" : typeof root === "object" ? (root as object).constructor?.name ?? "an object" : typeof root}.`,
    );
  }
  const { descriptions } = saveJobGraph(root);
  for (const d of descriptions) d.assignConfig(config);
  await createServiceFlags(store, descriptions);
  await store.createJobs(descriptions);
  await store.setRootJob(root.jobStoreId);
  return root.jobStoreId;
}

/** A resolver that reads job results (promise values) from the store. */
function storeResolver(store: JobStore) {
  return {
    async readResult(jobId: string): Promise<unknown> {
      if (!(await store.hasResult(jobId))) return undefined;
      return JSON.parse(await store.readResult(jobId)) as unknown;
    },
  };
}

/** The root job's deserialized return value (undefined if it stored none). */
export async function rootJobReturnValue(store: JobStore): Promise<unknown> {
  let text: string;
  try {
    text = await store.getRootJobReturnValue();
  } catch (err) {
    if (err instanceof NoSuchFileError) return undefined;
    throw err;
  }
  return deserializeValue(JSON.parse(text), { resolver: storeResolver(store), importModule: importUserModule });
}
