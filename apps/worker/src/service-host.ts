/**
 * Running a service host job: start its service, store the service's start value, and keep it up
 * until the leader deletes the host's terminate flag.
 */
import type { AbstractFileStore } from "@toil/filestore";
import { importUserModule, jobStoreResultResolver, runServiceHost, type JobDescription, type SerializedValue } from "@toil/job/core";
import { jobScope } from "./job-failure.js";
import { runInJobScope } from "./job-faults.js";
import type { WorkerRun } from "./worker-run.js";

/**
 * Run the service host `desc` with `fileStore` until it is told to stop, then delete it (a service
 * host has no successors). Throws when it was stopped because the jobs using its service failed.
 */
export async function runServiceHostJob(run: WorkerRun, desc: JobDescription, fileStore: AbstractFileStore): Promise<void> {
  const { store, config } = run;
  const flags = desc.serviceFlags;
  const ended = await runInJobScope(jobScope(store, desc), () => fileStore.open(() => runServiceHost(
    desc,
    fileStore,
    {
      started: async (value: SerializedValue) => {
        await store.writeResult(desc.originalId, JSON.stringify(value));
        if (flags) await store.deleteFile(flags.start);
      },
      poll: async () => {
        if (!flags) return "stop";
        if (!(await store.fileExists(flags.terminate))) return (await store.fileExists(flags.error)) ? "stop" : "error";
        return "run";
      },
      intervalMs: Math.max(10, config.servicePollingInterval * 1000),
      // The leader deletes the terminate flag to stop the service: react to that at once.
      watchStop: (wake) => (flags && store.watchFile ? store.watchFile(flags.terminate, wake) : () => {}),
    },
    { resolver: jobStoreResultResolver(store), importModule: importUserModule },
  )));
  run.logsToLeader.push(...fileStore.logMessages);
  // Stopped because its client's successors failed: fail, so the host stays in the job store
  // and `--restart` starts the service again (deleting it would leave the client without it).
  if (ended === "errored") throw new Error(`Service host ${desc} was stopped because the jobs using its service failed.`);
  // A service host has no successors: it is done.
  await store.deleteJob(desc.id);
}
