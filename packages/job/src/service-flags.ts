/**
 * A service host's three flag files (Toil's start / terminate / error jobStoreFileIDs), which the
 * leader and the host signal each other with by deleting them. Whoever stores a new service host
 * (the leader saving the root graph, a worker committing the jobs a job created) gives it its flags
 * first.
 */
import type { JobDescription } from "./description.js";
import type { JobStoreView } from "./filestore.js";

/** Give every new service host among `descriptions` its three flag files (start / terminate / error, signalled by deletion). */
export async function createServiceFlags(store: Pick<JobStoreView, "getEmptyFileStoreId">, descriptions: readonly JobDescription[]): Promise<void> {
  for (const d of descriptions) {
    if (!d.isService || d.serviceFlags) continue;
    const opts = { jobId: d.id, cleanup: true } as const;
    d.serviceFlags = {
      start: await store.getEmptyFileStoreId({ ...opts, hints: ["service", "start"] }),
      terminate: await store.getEmptyFileStoreId({ ...opts, hints: ["service", "terminate"] }),
      error: await store.getEmptyFileStoreId({ ...opts, hints: ["service", "error"] }),
    };
  }
}
