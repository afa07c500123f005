import { readBusLog, type BusLogReadOptions } from "./log.js";
import type { BusMessage } from "./messages.js";

/** Exit code of a job that has been issued and has not reported back. */
export const RUNNING_EXIT_CODE = -1;

/** What the bus says about one job, as rebuilt by {@link JobStatusTracker} / {@link replayMessageBus}. */
export interface JobStatus {
  /** The job's id in the job store. */
  readonly jobId: string;
  /** The job's display name, from its latest message. */
  jobName: string;
  /** {@link RUNNING_EXIT_CODE} (-1) while issued and not yet back; otherwise the last exit code reported. */
  exitCode: number;
  /** Exit reason of the last JobUpdated, or null. */
  exitReason: string | null;
  /** Last value of each annotation. */
  annotations: Record<string, string>;
  /** Batch system id of the latest issue, or null if never issued. */
  batchId: number | null;
  /** The batch system's own id for the latest issue (e.g. a Slurm job id), or null. */
  externalBatchId: string | null;
  /** Name of the batch system that reported `externalBatchId`, or null. */
  batchSystem: string | null;
  /** A JobFailed was seen (the job ran out of retries). */
  failed: boolean;
  /** A JobMissing was seen since the latest issue. */
  missing: boolean;
  /** Time of the last message about this job (ms epoch). */
  lastUpdate: number;
}

/** A worker host that has started and not stopped, as rebuilt by {@link JobStatusTracker}. */
export interface WorkerHostStatus {
  /** The batch system's id of the host; jobs it runs carry it as their `externalBatchId`. */
  readonly hostId: string;
  /** Name of the batch system that runs it. */
  readonly batchSystem: string;
  /** Its resources, for people. */
  readonly shape: string;
  /** The machine it runs on. */
  readonly node: string;
  /** When it started (ms epoch). */
  readonly since: number;
}

/** True if the job was issued and has not reported an exit code since. */
export function isRunning(status: JobStatus): boolean {
  return status.exitCode < 0 && !status.failed;
}

/**
 * Folds bus messages into a per-job status map, as `toil status` needs it. Feed it a bus log
 * ({@link replayMessageBus}) or live messages: `bus.subscribeAll((m) => tracker.apply(m))`.
 *
 * Rules: JobIssued starts a new attempt (exit code -1, running; clears exit reason, missing and
 * external id). JobUpdated and JobCompleted set the exit code. JobFailed marks the job failed and
 * turns an exit code of 0 or below into 1, so a failed job never reads as running or successful.
 * JobMissing marks it missing. JobAnnotation sets one annotation (last value wins).
 * ExternalBatchId attaches to the job issued with that batch id, whichever of the two comes first.
 * WorkerHostStarted adds a host to `hosts`, WorkerHostStopped removes it. Queue and cluster size
 * messages are not about jobs and are ignored.
 */
export class JobStatusTracker {
  /** Status of every job seen so far, by job id. */
  readonly jobs: Map<string, JobStatus> = new Map();
  /** Worker hosts started and not stopped, by `<batchSystem>:<hostId>`, in order of start. */
  readonly hosts: Map<string, WorkerHostStatus> = new Map();
  readonly #jobByBatchId = new Map<number, string>();
  readonly #externalByBatchId = new Map<number, { externalBatchId: string; batchSystem: string }>();

  /** Updates the status of the job `message` is about (messages about no job are ignored). */
  apply(message: BusMessage): void {
    switch (message.type) {
      case "JobIssued": {
        const s = this.#entry(message.jobId, message.jobName, message.time);
        s.jobName = message.jobName;
        s.exitCode = RUNNING_EXIT_CODE;
        s.exitReason = null;
        s.missing = false;
        s.failed = false;
        s.batchId = message.batchId;
        const ext = this.#externalByBatchId.get(message.batchId);
        s.externalBatchId = ext?.externalBatchId ?? null;
        s.batchSystem = ext?.batchSystem ?? null;
        this.#externalByBatchId.delete(message.batchId);
        this.#jobByBatchId.set(message.batchId, message.jobId);
        return;
      }
      case "JobUpdated": {
        const s = this.#entry(message.jobId, message.jobName, message.time);
        s.exitCode = message.exitCode;
        s.exitReason = message.exitReason;
        return;
      }
      case "JobCompleted": {
        const s = this.#entry(message.jobId, message.jobName, message.time);
        s.jobName = message.jobName;
        s.exitCode = message.exitCode;
        return;
      }
      case "JobFailed": {
        const s = this.#entry(message.jobId, message.jobName, message.time);
        s.failed = true;
        if (s.exitCode <= 0) s.exitCode = 1;
        return;
      }
      case "JobMissing":
        this.#entry(message.jobId, message.jobName, message.time).missing = true;
        return;
      case "JobAnnotation":
        this.#entry(message.jobId, message.jobName, message.time).annotations[message.name] = message.value;
        return;
      case "ExternalBatchId": {
        const jobId = this.#jobByBatchId.get(message.batchId);
        const s = jobId === undefined ? undefined : this.jobs.get(jobId);
        if (s === undefined || s.batchId !== message.batchId) {
          this.#externalByBatchId.set(message.batchId, { externalBatchId: message.externalBatchId, batchSystem: message.batchSystem });
          return;
        }
        s.externalBatchId = message.externalBatchId;
        s.batchSystem = message.batchSystem;
        s.lastUpdate = message.time;
        return;
      }
      case "WorkerHostStarted":
        this.hosts.set(`${message.batchSystem}:${message.hostId}`, {
          hostId: message.hostId,
          batchSystem: message.batchSystem,
          shape: message.shape,
          node: message.node,
          since: message.time,
        });
        return;
      case "WorkerHostStopped":
        this.hosts.delete(`${message.batchSystem}:${message.hostId}`);
        return;
      default:
        return;
    }
  }

  #entry(jobId: string, jobName: string, time: number): JobStatus {
    let s = this.jobs.get(jobId);
    if (s === undefined) {
      s = {
        jobId,
        jobName,
        exitCode: RUNNING_EXIT_CODE,
        exitReason: null,
        annotations: {},
        batchId: null,
        externalBatchId: null,
        batchSystem: null,
        failed: false,
        missing: false,
        lastUpdate: time,
      };
      this.jobs.set(jobId, s);
    }
    s.lastUpdate = time;
    return s;
  }
}

/**
 * Reads a bus log and returns the status of every job it mentions, keyed by job id, in order of
 * first appearance. Use `readBusLog` with a {@link JobStatusTracker} to also get the reader's stats.
 *
 * @example
 * ```ts
 * for (const s of (await replayMessageBus(path)).values())
 *   if (isRunning(s)) console.log(`${s.jobName} (${s.jobId}) is running as ${s.externalBatchId ?? s.batchId}`);
 * ```
 */
export async function replayMessageBus(path: string, options: BusLogReadOptions = {}): Promise<Map<string, JobStatus>> {
  const tracker = new JobStatusTracker();
  for await (const message of readBusLog(path, options)) tracker.apply(message);
  return tracker.jobs;
}
