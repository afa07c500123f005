import type { BatchMessageBus } from "@toil/batch-core";
import type { SlurmSettings } from "./options.js";
import type { SlurmCommands, Warn } from "./slurm-commands.js";
import type { LogNaming } from "./submission.js";
import type { UpdateQueue } from "./update-queue.js";

/** What the parts of the Slurm batch system share: settings, Slurm commands, the update queue, the bus and log names. */
export interface SlurmContext {
  /** The resolved settings. */
  readonly settings: SlurmSettings;
  /** Runs Slurm commands. */
  readonly slurm: SlurmCommands;
  /** Ended jobs for `getUpdatedBatchJob`. */
  readonly updates: UpdateQueue;
  /** Runs `fn` with no other submission, poll or kill in progress. */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
  /** The workflow's bus, if connected. */
  bus(): BatchMessageBus | undefined;
  /** A job's stdout/stderr file (`/dev/null` with `--noStdOutErr`). */
  logPath(jobId: number, clusterId: string, std: "out" | "err"): string;
  /** How batch log files are named. */
  logNaming(): LogNaming;
  /** Whether the batch system is shutting down. */
  stopped(): boolean;
  /** Sets the message `getSchedulingStatusMessage` returns for a part (`null` clears it). */
  setStatus(part: string, message: string | null): void;
  /** Reports a problem the user should know about (the leader's log when it gave a logger). */
  readonly warn: Warn;
}

/** Seconds a job may be unknown to squeue and sacct before it is reported lost. */
export function missingGraceSeconds(settings: SlurmSettings): number {
  return Math.max(60, 10 * settings.statePollingWait);
}
