/**
 * Message types carried by the bus: one interface per event, joined into the discriminated
 * union {@link BusMessage} on `type`. Every message is a plain, flat, JSON-safe object so it can
 * cross a `MessagePort` (structured clone) and be written as one line of the bus log unchanged.
 */

/** Fields every message has. `time` is milliseconds since the Unix epoch. */
export interface BusMessageBase {
  /** The message kind; narrows {@link BusMessage} to one interface. */
  readonly type: BusMessageType;
  /** When the event happened, in milliseconds since the Unix epoch. */
  readonly time: number;
}

/** Fields of messages that are about one job. */
export interface JobScoped {
  /** The job's id in the job store. */
  readonly jobId: string;
  /** The job's display name (unit name, job name or display name; "Unknown Job" if none). */
  readonly jobName: string;
}

/** The leader handed a job to the batch system. */
export interface JobIssuedMessage extends BusMessageBase, JobScoped {
  /** Discriminant of this message kind. */
  readonly type: "JobIssued";
  /** The id the batch system returned from `issueBatchJob`. */
  readonly batchId: number;
}

/** The batch system reported that a job's process ended. */
export interface JobUpdatedMessage extends BusMessageBase, JobScoped {
  /** Discriminant of this message kind. */
  readonly type: "JobUpdated";
  /** The process exit code (or the batch system's stand-in value when it is unavailable). */
  readonly exitCode: number;
  /** Name of the batch system's exit reason (`FINISHED`, `FAILED`, `LOST`, `KILLED`, …), or null. */
  readonly exitReason: string | null;
}

/** The leader finished processing a job's result. */
export interface JobCompletedMessage extends BusMessageBase, JobScoped {
  /** Discriminant of this message kind. */
  readonly type: "JobCompleted";
  /** Exit code of the job's last run (0 when it succeeded). */
  readonly exitCode: number;
}

/** A job ran out of retries and failed for good. */
export interface JobFailedMessage extends BusMessageBase, JobScoped {
  /** Discriminant of this message kind. */
  readonly type: "JobFailed";
}

/** The batch system lost track of an issued job. */
export interface JobMissingMessage extends BusMessageBase, JobScoped {
  /** Discriminant of this message kind. */
  readonly type: "JobMissing";
}

/** A named piece of information about a job (for example its log file). Last value wins. */
export interface JobAnnotationMessage extends BusMessageBase, JobScoped {
  /** Discriminant of this message kind. */
  readonly type: "JobAnnotation";
  /** Name of the annotation, e.g. `logFile`. */
  readonly name: string;
  /** Its value; a later annotation of the same name replaces it. */
  readonly value: string;
}

/** The batch system's own id for a job it was given (for example a Slurm job id). */
export interface ExternalBatchIdMessage extends BusMessageBase {
  /** Discriminant of this message kind. */
  readonly type: "ExternalBatchId";
  /** The id `issueBatchJob` returned for the job. */
  readonly batchId: number;
  /** The backend's own id for it, e.g. a Slurm job id. */
  readonly externalBatchId: string;
  /** Name of the batch system, e.g. `slurm`. */
  readonly batchSystem: string;
}

/** Number of jobs issued to the batch system and not yet finished. */
export interface QueueSizeMessage extends BusMessageBase {
  /** Discriminant of this message kind. */
  readonly type: "QueueSize";
  /** Jobs issued and not yet finished. */
  readonly queueSize: number;
}

/** Current number of nodes of an instance type. */
export interface ClusterSizeMessage extends BusMessageBase {
  /** Discriminant of this message kind. */
  readonly type: "ClusterSize";
  /** Node type the count is about. */
  readonly instanceType: string;
  /** Nodes of that type now. */
  readonly currentSize: number;
}

/** Number of nodes of an instance type the scaler wants. */
export interface ClusterDesiredSizeMessage extends BusMessageBase {
  /** Discriminant of this message kind. */
  readonly type: "ClusterDesiredSize";
  /** Node type the count is about. */
  readonly instanceType: string;
  /** Nodes of that type the scaler wants. */
  readonly desiredSize: number;
}

/**
 * A batch system started a worker host: one allocation (for example a Slurm job) that runs jobs
 * one after another. Jobs it runs name it as their `externalBatchId`.
 */
export interface WorkerHostStartedMessage extends BusMessageBase {
  /** Discriminant of this message kind. */
  readonly type: "WorkerHostStarted";
  /** The batch system's id of the host, e.g. a Slurm job id `123_4`. */
  readonly hostId: string;
  /** Name of the batch system, e.g. `slurm`. */
  readonly batchSystem: string;
  /** The host's resources, for people, e.g. `1 CPU, 64M memory, partition debug`. */
  readonly shape: string;
  /** The machine it runs on. */
  readonly node: string;
}

/** A worker host stopped (it was idle, cancelled, hit its time limit, lost its node, ...). */
export interface WorkerHostStoppedMessage extends BusMessageBase {
  /** Discriminant of this message kind. */
  readonly type: "WorkerHostStopped";
  /** The batch system's id of the host. */
  readonly hostId: string;
  /** Name of the batch system. */
  readonly batchSystem: string;
  /** Why it stopped, for people, e.g. `idle`, `cancelled`, `TIMEOUT`. */
  readonly reason: string;
}

/** Every message the bus carries, discriminated on `type`. */
export type BusMessage =
  | JobIssuedMessage
  | JobUpdatedMessage
  | JobCompletedMessage
  | JobFailedMessage
  | JobMissingMessage
  | JobAnnotationMessage
  | ExternalBatchIdMessage
  | QueueSizeMessage
  | ClusterSizeMessage
  | ClusterDesiredSizeMessage
  | WorkerHostStartedMessage
  | WorkerHostStoppedMessage;

/** The `type` tags, in a fixed order. */
export const BUS_MESSAGE_TYPES = [
  "JobIssued",
  "JobUpdated",
  "JobCompleted",
  "JobFailed",
  "JobMissing",
  "JobAnnotation",
  "ExternalBatchId",
  "QueueSize",
  "ClusterSize",
  "ClusterDesiredSize",
  "WorkerHostStarted",
  "WorkerHostStopped",
] as const;

/** A message `type` tag. */
export type BusMessageType = (typeof BUS_MESSAGE_TYPES)[number];

/** The message interface for a `type` tag: `MessageOfType<"JobIssued">` is `JobIssuedMessage`. */
export type MessageOfType<T extends BusMessageType> = Extract<
  BusMessage,
  {
    /** The tag to select. */
    type: T;
  }
>;

/** True if `type` is one of {@link BUS_MESSAGE_TYPES}. */
export function isBusMessageType(type: unknown): type is BusMessageType {
  return typeof type === "string" && Object.hasOwn(FIELD_KINDS, type);
}

type Kind = "string" | "number" | "string|null";

/**
 * Required fields and their kinds, per type (besides `type` and `time`). Used to check
 * messages read back from a bus log; publishing does not pay for it.
 * @internal
 */
const FIELD_KINDS: { readonly [T in BusMessageType]: Readonly<Record<string, Kind>> } = {
  JobIssued: { jobId: "string", jobName: "string", batchId: "number" },
  JobUpdated: { jobId: "string", jobName: "string", exitCode: "number", exitReason: "string|null" },
  JobCompleted: { jobId: "string", jobName: "string", exitCode: "number" },
  JobFailed: { jobId: "string", jobName: "string" },
  JobMissing: { jobId: "string", jobName: "string" },
  JobAnnotation: { jobId: "string", jobName: "string", name: "string", value: "string" },
  ExternalBatchId: { batchId: "number", externalBatchId: "string", batchSystem: "string" },
  QueueSize: { queueSize: "number" },
  ClusterSize: { instanceType: "string", currentSize: "number" },
  ClusterDesiredSize: { instanceType: "string", desiredSize: "number" },
  WorkerHostStarted: { hostId: "string", batchSystem: "string", shape: "string", node: "string" },
  WorkerHostStopped: { hostId: "string", batchSystem: "string", reason: "string" },
};

/**
 * Describes what is wrong with `value` as a bus message, or returns null if it is a well-formed
 * message of a known type. Unknown types are reported as `unknown type`.
 * @internal
 */
export function messageProblem(value: unknown): string | null {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return "not a JSON object";
  const rec = value as Record<string, unknown>;
  if (typeof rec.type !== "string") return 'missing string field "type"';
  if (!isBusMessageType(rec.type)) return "unknown type";
  if (typeof rec.time !== "number" || !Number.isFinite(rec.time)) return 'missing numeric field "time"';
  const kinds = FIELD_KINDS[rec.type];
  for (const field in kinds) {
    const kind = kinds[field];
    const v = rec[field];
    const ok =
      kind === "string" ? typeof v === "string" : kind === "number" ? typeof v === "number" : v === null || typeof v === "string";
    if (!ok) return `field "${field}" of ${rec.type} must be ${kind === "string|null" ? "a string or null" : `a ${kind}`}`;
  }
  return null;
}

/** Optional `time` for factories; defaults to `Date.now()`. */
type Init<M extends BusMessage> = Omit<M, "type" | "time"> & { time?: number };

/** Builds a {@link JobIssuedMessage}. */
export function jobIssued(init: Init<JobIssuedMessage>): JobIssuedMessage {
  return { type: "JobIssued", time: init.time ?? Date.now(), jobId: init.jobId, jobName: init.jobName, batchId: init.batchId };
}

/** Builds a {@link JobUpdatedMessage}. */
export function jobUpdated(init: Init<JobUpdatedMessage>): JobUpdatedMessage {
  return {
    type: "JobUpdated",
    time: init.time ?? Date.now(),
    jobId: init.jobId,
    jobName: init.jobName,
    exitCode: init.exitCode,
    exitReason: init.exitReason,
  };
}

/** Builds a {@link JobCompletedMessage}. */
export function jobCompleted(init: Init<JobCompletedMessage>): JobCompletedMessage {
  return { type: "JobCompleted", time: init.time ?? Date.now(), jobId: init.jobId, jobName: init.jobName, exitCode: init.exitCode };
}

/** Builds a {@link JobFailedMessage}. */
export function jobFailed(init: Init<JobFailedMessage>): JobFailedMessage {
  return { type: "JobFailed", time: init.time ?? Date.now(), jobId: init.jobId, jobName: init.jobName };
}

/** Builds a {@link JobMissingMessage}. */
export function jobMissing(init: Init<JobMissingMessage>): JobMissingMessage {
  return { type: "JobMissing", time: init.time ?? Date.now(), jobId: init.jobId, jobName: init.jobName };
}

/** Builds a {@link JobAnnotationMessage}. */
export function jobAnnotation(init: Init<JobAnnotationMessage>): JobAnnotationMessage {
  return {
    type: "JobAnnotation",
    time: init.time ?? Date.now(),
    jobId: init.jobId,
    jobName: init.jobName,
    name: init.name,
    value: init.value,
  };
}

/** Builds an {@link ExternalBatchIdMessage}. */
export function externalBatchId(init: Init<ExternalBatchIdMessage>): ExternalBatchIdMessage {
  return {
    type: "ExternalBatchId",
    time: init.time ?? Date.now(),
    batchId: init.batchId,
    externalBatchId: init.externalBatchId,
    batchSystem: init.batchSystem,
  };
}

/** Builds a {@link QueueSizeMessage}. */
export function queueSize(init: Init<QueueSizeMessage>): QueueSizeMessage {
  return { type: "QueueSize", time: init.time ?? Date.now(), queueSize: init.queueSize };
}

/** Builds a {@link ClusterSizeMessage}. */
export function clusterSize(init: Init<ClusterSizeMessage>): ClusterSizeMessage {
  return { type: "ClusterSize", time: init.time ?? Date.now(), instanceType: init.instanceType, currentSize: init.currentSize };
}

/** Builds a {@link ClusterDesiredSizeMessage}. */
export function clusterDesiredSize(init: Init<ClusterDesiredSizeMessage>): ClusterDesiredSizeMessage {
  return {
    type: "ClusterDesiredSize",
    time: init.time ?? Date.now(),
    instanceType: init.instanceType,
    desiredSize: init.desiredSize,
  };
}

/** Builds a {@link WorkerHostStartedMessage}. */
export function workerHostStarted(init: Init<WorkerHostStartedMessage>): WorkerHostStartedMessage {
  return {
    type: "WorkerHostStarted",
    time: init.time ?? Date.now(),
    hostId: init.hostId,
    batchSystem: init.batchSystem,
    shape: init.shape,
    node: init.node,
  };
}

/** Builds a {@link WorkerHostStoppedMessage}. */
export function workerHostStopped(init: Init<WorkerHostStoppedMessage>): WorkerHostStoppedMessage {
  return { type: "WorkerHostStopped", time: init.time ?? Date.now(), hostId: init.hostId, batchSystem: init.batchSystem, reason: init.reason };
}
