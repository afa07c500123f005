/**
 * Running the job a worker was started for and the jobs it chains to, committing each; a failure
 * is recorded in the run for the report (see report.ts), never thrown.
 */
import { cannotSucceedOnRetry, createServiceFlags, executeJob, importUserModule, jobStoreResultResolver } from "@toil/job/core";
import { chainToStoredSuccessor, commitChainingToNewSuccessor, commitJob } from "./commit.js";
import { failureText, jobScope, retryRefusal } from "./job-failure.js";
import { runInJobScope } from "./job-faults.js";
import { statOf } from "./job-stats.js";
import { prepareJob } from "./prepare-job.js";
import { runServiceHostJob } from "./service-host.js";
import type { WorkerRun } from "./worker-run.js";

/**
 * Run the chain. Resolves to "nothing to do" when the job no longer exists or was re-issued only
 * to clean up (done), else "ran" (the run says whether it failed).
 */
export async function runJobChain(run: WorkerRun): Promise<"nothing to do" | "ran"> {
  const { store, config, capture, deferred } = run;
  try {
    // Deferred functions of workers that died on this machine.
    await deferred.runOrphans();

    let desc = await prepareJob(run);
    if (desc === undefined) return "nothing to do";

    for (;;) {
      // Import the job's module before measuring, so module loading does not count as the job's CPU.
      if (desc.hasBody()) await importUserModule(desc.getBody().module).catch(() => undefined);
      const started = Date.now();
      const cpu = process.cpuUsage();
      run.currentStart = started;
      run.currentCpu = cpu;
      run.chainNames.push(desc.displayName);
      const fileStore = run.newFileStore(desc);
      run.lastFileStore = fileStore;
      if (desc.isService) {
        await runServiceHostJob(run, desc, fileStore);
        run.current = undefined;
        run.stats.push(statOf(desc, started, cpu, false, config));
        break;
      }

      // open(): cache reservation, disk-use check, accessed files to the leader's log on failure.
      const job = desc;
      const outcome = await runInJobScope(jobScope(store, job), () => fileStore.open(() => executeJob(job, fileStore, {
        resolver: jobStoreResultResolver(store),
        importModule: importUserModule,
      })));
      // The job's own time and CPU end here: committing it is the worker's bookkeeping.
      const ran = { end: Date.now(), cpu: process.cpuUsage(cpu) };
      run.logsToLeader.push(...fileStore.logMessages);
      for (const d of outcome.newDescriptions) d.assignConfig(config);
      await createServiceFlags(store, outcome.newDescriptions);
      desc = outcome.description;
      desc.filesToDelete = [...desc.filesToDelete, ...fileStore.pendingDeletes];
      const resultText = JSON.stringify(outcome.returnValue);
      const chained = await commitChainingToNewSuccessor(run, desc, outcome, resultText);
      if (chained) {
        run.recordStat(desc, statOf(desc, started, cpu, false, config, ran));
        await deferred.runOwn();
        desc = chained;
        run.current = desc;
        continue;
      }
      const subtreeDone = await commitJob(run, desc, outcome, resultText);
      run.current = subtreeDone ? undefined : desc;
      run.recordStat(desc, statOf(desc, started, cpu, false, config, ran));
      await deferred.runOwn();
      if (subtreeDone) break;

      const next = await chainToStoredSuccessor(run, desc);
      if (!next) break;
      desc = next;
      run.current = desc;
    }
  } catch (err) {
    run.failed = true;
    const text = failureText(err, config);
    capture.line(`Job ${run.current ? run.current.toString() : run.jobId} failed:\n${text}`);
    if (cannotSucceedOnRetry(err)) {
      run.noRetry = true;
      capture.line(retryRefusal(err));
    }
    // The file store's open() already put the files the job accessed in its leader log messages.
    if (run.lastFileStore) run.logsToLeader.push(...run.lastFileStore.logMessages);
    if (run.current) {
      const stat = statOf(run.current, run.currentStart, run.currentCpu, true, config);
      run.stats.push(stat);
    }
    process.stderr.write(""); // keep ordering of captured output
  }
  return "ran";
}
