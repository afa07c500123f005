/** How a job's failure is told: its log text, why it is not retried, errors its code raises after it ended. */
import { DamagedJobError, DamagedJobStoreFileError, type JobStore } from "@toil/filestore";
import { PermanentJobFailureError, isToilError, type Config, type JobDescription } from "@toil/job/core";
import { UnhandledJobError, type JobScope } from "./job-faults.js";
import { userStack } from "./user-stack.js";

/**
 * Why a job that failed with `err` (one {@link cannotSucceedOnRetry} names) is not retried, and what
 * fixes it. Decided by code, so errors of another copy of the packages get the same line.
 */
export function retryRefusal(err: unknown): string {
  const code = isToilError(err) ? err.code : undefined;
  if (code === PermanentJobFailureError.code) {
    return "The job failed for good (a retry cannot help), so it is not retried: fix the cause, then run again with --restart.";
  }
  if (code === DamagedJobStoreFileError.code || code === DamagedJobError.code) {
    return "The job read damaged data from the job store, so it is not retried: restore the file named above, then run again with --restart.";
  }
  return "Retrying cannot fix this error in the workflow's code, so the job is not retried: fix the code, then run again with --restart.";
}

/** A job's failure as its log shows it: the error and the user's frames of its stack (all of them at debug level). */
export function failureText(err: unknown, config: Config): string {
  if (err instanceof UnhandledJobError) return err.message;
  if (config.logLevel === "debug" || config.logLevel === "trace") return err instanceof Error ? (err.stack ?? err.message) : String(err);
  return userStack(err);
}

/**
 * The scope of one job's run (see job-faults.ts). An error its code leaves unhandled after it ended
 * goes to the leader's log under its name, through the mailbox.
 */
export function jobScope(store: JobStore, desc: JobDescription): JobScope {
  const jobId = desc.originalId;
  const jobName = desc.displayName;
  return {
    label: `'${jobName}' ${jobId}`,
    ended: false,
    fail: () => undefined,
    reportLate(err) {
      const text =
        `Job '${jobName}' ${jobId} had already finished (its results are kept) when its code raised an ${err.kind}:\n${userStack(err.error)}\n` +
        "The worker process it ran in is replaced. Make the job await or catch every promise it starts, and clear its timers.";
      const message = { jobId, jobName, logsToLeader: [{ text, level: "error", jobId, jobName }], succeeded: true };
      void store.writeLogs(JSON.stringify(message)).catch((e: unknown) => {
        process.stderr.write(`toil-worker: could not report an error of job ${jobId} to the leader: ${String(e)}\n${text}\n`);
      });
    },
  };
}
