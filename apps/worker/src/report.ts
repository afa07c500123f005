/**
 * After the chain: attach a failed job's log to it, report to the leader through the job store's
 * mailbox, and give the process back (output capture, temporary directory, deferred functions).
 */
import { rmSync } from "node:fs";
import os from "node:os";
import { returnDeferred } from "./deferred-functions.js";
import { WORKER_EXIT } from "./worker-io.js";
import type { WorkerRun } from "./worker-run.js";

/** Report the run to the leader and clean up after it. Resolves to the worker's exit code so far. */
export async function reportRun(run: WorkerRun): Promise<number> {
  const { store, config, capture, deferred, jobId, failed, current, logsToLeader, stats, chainNames } = run;
  let code: number = WORKER_EXIT.OK;
  try {
    if (failed) {
      code = WORKER_EXIT.JOB_FAILED;
      await deferred.runOwn();
      capture.close();
      // Reload what is committed (local changes are discarded) and attach the log for the leader.
      if (await store.jobExists(current?.id ?? jobId)) {
        const desc = await store.loadJob(current?.id ?? jobId);
        const tail = capture.text();
        const logId = await store.writeFileStream((s) => void s.write(tail), {
          jobId: desc.id,
          cleanup: true,
          basename: "worker_log.txt",
        });
        desc.logFileId = logId;
        if (run.noRetry) {
          // The leader charges one try for this failure: leave exactly that one.
          desc.assignConfig(config);
          desc.remainingTryCount = Math.min(desc.remainingTryCount, 1);
        }
        await store.updateJob(desc);
      }
    } else {
      capture.close();
    }
    const message: Record<string, unknown> = { jobId, jobName: chainNames[0] ?? jobId, logsToLeader, succeeded: !failed };
    if (config.stats) {
      const last = stats[stats.length - 1];
      if (failed && last) last.logTail = capture.text().slice(-64 * 1024);
      message.stats = { host: os.hostname(), pid: process.pid, jobs: stats };
    }
    const allLogs = config.writeLogsFromAllJobs || config.logLevel === "debug" || config.logLevel === "trace";
    if (!failed && allLogs && (config.writeLogs || config.writeLogsGzip)) {
      message.workerLog = { jobNames: chainNames, text: capture.text() };
    }
    if (logsToLeader.length > 0 || config.stats || message.workerLog !== undefined) {
      await store.writeLogs(JSON.stringify(message));
    }
  } catch (err) {
    process.stderr.write(`toil-worker: could not report the result of job ${jobId}: ${(err as Error).stack ?? String(err)}\n`);
    code = WORKER_EXIT.JOB_FAILED;
  } finally {
    const clean = config.cleanWorkDir;
    const tempDir = run.tempDir;
    if (tempDir && (clean === "always" || (clean === "onSuccess" && !failed) || (clean === "onError" && failed))) {
      rmSync(tempDir, { recursive: true, force: true });
    }
    capture.close();
    returnDeferred(run.coordinationDir, run.deferredSlot);
  }
  if (failed && run.io.inProcess) process.stderr.write(capture.text().slice(-64 * 1024));
  return code;
}

/** Give the process back after a run that had nothing to report: output capture and deferred-function slot. */
export function releaseRun(run: WorkerRun): void {
  run.capture.close();
  returnDeferred(run.coordinationDir, run.deferredSlot);
}
