import type { FileJobStore } from "@toil/filestore";
import { saveJobGraph, type Config, type Job } from "@toil/job";

/** Write a root job graph the way the leader does (no services in the benchmarks). */
export async function saveRootJobForBench(store: FileJobStore, config: Config, root: Job): Promise<string> {
  const { descriptions } = saveJobGraph(root);
  for (const d of descriptions) d.assignConfig(config);
  await store.createJobs(descriptions);
  await store.setRootJob(root.jobStoreId);
  return root.jobStoreId;
}
