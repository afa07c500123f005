import type { MessagePublisher } from "@toil/bus";
import type { CleanPolicy } from "@toil/job";
import type { UpdatedBatchJobInfo } from "./exit.js";
import type { BatchSystemOptionSpec } from "./options.js";
import type { Requirements } from "./requirements.js";

/**
 * What a batch system learns about the job behind a command: its name and requirements, never
 * its body. The leader builds this from a JobDescription.
 */
export interface BatchJobDescription {
  /** Human-readable job name (used in messages and backend job names). */
  jobName: string;
  /** Resources the job needs. */
  requirements: Requirements;
  /** The job's id in the job store, when there is one. */
  jobStoreId?: string;
  /** Short kind of job for backend job names, e.g. the job class or function name. */
  jobKind?: string;
  /** Wall-time limit in seconds, if the job has one. */
  walltime?: number;
  /** Run on the leader's machine even when the batch system is a cluster. */
  local?: boolean;
  /**
   * The command as an argument array (the leader always sets it). When present, a batch system
   * MUST execute exactly these words, without a shell (`spawn(argv[0], argv.slice(1))`), or, if
   * it can only hand a line to a shell (a batch script), the line `shellCommand(argv)`. The
   * `command` argument of `issueBatchJob` is then `shellCommand(argv)`: a display form. Job
   * names, paths and values inside it are data and must arrive literally. Use
   * `batchJobArgv(command, jobDesc)` to get what to execute.
   */
  argv?: readonly string[];
}

/** Environment variables, by name. */
export type Environment = Record<string, string>;

/**
 * What `setMessageBus` receives: anything that can publish bus messages (`@toil/bus`'s
 * `MessageBus` fits). Batch systems may publish `ExternalBatchId` and `JobAnnotation` messages,
 * built with `externalBatchId()` / `jobAnnotation()` from `@toil/bus`, and, if they keep worker
 * hosts that run jobs one after another, `WorkerHostStarted` / `WorkerHostStopped` (a job's
 * `ExternalBatchId` then names its host).
 */
export type BatchMessageBus = MessagePublisher;

/**
 * A serializable description of something the worker enters around its work (the TypeScript
 * form of Toil's pickled worker context managers): the worker imports `module`, takes the
 * export `exportName` and calls it with `args`; it returns an (async) disposable that the
 * worker disposes after the job.
 */
export interface WorkerContextDescriptor {
  /** Module specifier or URL the worker imports. */
  module: string;
  /** Name of the export to call. */
  exportName: string;
  /** JSON-safe argument passed to it. */
  args?: unknown;
}

/**
 * The batch-system contract. The leader issues commands (worker command lines) with the
 * job's requirements; the batch system runs them somewhere and reports each one that ends,
 * exactly once.
 */
export interface BatchSystem {
  /**
   * Queue a command to run. Resolves to a new unique batch id. Rejects with
   * `InsufficientSystemResources` (before anything runs) when the job can never fit.
   *
   * @param command the command line: `shellCommand(jobDesc.argv)` when `jobDesc.argv` is set (then
   *   run the argv without a shell), else a shell command line the caller chose (see `batchJobArgv`)
   * @param jobDesc the job's name and requirements
   * @param jobEnvironment extra environment for this job only (on top of `setEnv` variables)
   */
  issueBatchJob(command: string, jobDesc: BatchJobDescription, jobEnvironment?: Environment): Promise<number>;

  /**
   * Kill jobs. When the promise resolves, none of them runs any more, and none of them will
   * ever be returned by `getUpdatedBatchJob`. Unknown ids are ignored.
   */
  killBatchJobs(jobIds: readonly number[]): Promise<void>;

  /** Ids of jobs issued and not yet returned by `getUpdatedBatchJob` (queued or running). Order is meaningless. */
  getIssuedBatchJobIds(): Promise<number[]>;

  /** Jobs actually running (not merely queued), with the seconds they have been running. */
  getRunningBatchJobIds(): Promise<Map<number, number>>;

  /**
   * Wait up to `maxWaitSeconds` for a job to stop and return it; `null` when none did. Each
   * stopped job is returned exactly once. Killed jobs are never returned (they may make this
   * return `null` early).
   */
  getUpdatedBatchJob(maxWaitSeconds: number): Promise<UpdatedBatchJobInfo | null>;

  /** A fragment for the user about why jobs are waiting (e.g. "Not enough cores to run job 7"), or `null`. */
  getSchedulingStatusMessage(): string | null;

  /**
   * Set an environment variable for jobs issued from now on. Without a value, the leader's
   * current value is copied (and it is an error if it has none).
   */
  setEnv(name: string, value?: string): void;

  /** Connect the batch system to the workflow's message bus (optional for the batch system to use). */
  setMessageBus(bus: BatchMessageBus): void;

  /** Contexts the worker should enter around its work, in order. */
  getWorkerContexts(): WorkerContextDescriptor[];

  /** Kill everything still running, stop background work, and run worker cleanup if supported. */
  shutdown(): Promise<void>;
}

/**
 * The part of the workflow configuration a batch system reads (the seed's `config` constructor
 * argument). `@toil/job`'s `Config` fits it, so the leader passes its config unchanged.
 */
export interface BatchSystemConfig {
  /** Unique id of this workflow run (required by batch systems; used in log names and cleanup). */
  workflowId?: string;
  /** Work directory for temporary files (default: the OS temp directory). */
  workDir?: string;
  /** Where batch-system std-out/err logs go (default: the work directory). */
  batchLogsDir?: string;
  /** Discard batch-system std-out/err (paths become /dev/null). */
  noStdOutErr?: boolean;
  /** Maximum number of jobs running at once. */
  maxJobs?: number;
  /** Maximum number of `local` jobs running at once on the leader's machine. */
  maxLocalJobs?: number;
  /** Scale applied to cores requests (single machine). */
  scale?: number;
  /** Node-local coordination directory. */
  coordinationDir?: string;
  /** When to remove the per-workflow work directory. */
  cleanWorkDir?: CleanPolicy;
  /** Seconds between state polls for cluster backends. */
  statePollingWait?: number;
  /** Seconds to keep retrying failing backend commands. */
  statePollingTimeout?: number;
  /** Values of the options batch plugins declare, keyed by option name. */
  batchOptions?: Record<string, unknown>;
}

/**
 * A batch system class: how the registry, the leader and the conformance kit see a plugin.
 * (The class-level capabilities of Toil's AbstractBatchSystem are static members.)
 */
export interface BatchSystemClass<T extends BatchSystem = BatchSystem> {
  new (config: BatchSystemConfig, maxCores: number, maxMemory: number, maxDisk: number): T;
  /** Whether the batch system can deploy the user's module to workers itself. */
  supportsAutoDeployment(): boolean;
  /** Whether the batch system runs `BatchSystemSupport.workerCleanup` after a node's last job. */
  supportsWorkerCleanup(): boolean;
  /** Options (flags with defaults and environment variables) the plugin adds to the workflow config (`config.batchOptions`). */
  readonly options?: readonly BatchSystemOptionSpec[];
  /** Display name, e.g. "slurm". */
  readonly batchSystemName?: string;
}

/**
 * Resources and load of one node of a scalable batch system. `coresUsed`/`memoryUsed` are
 * fractions (0..1) of the node's totals; `requested*` are what jobs reserved.
 */
export interface NodeInfo {
  /** Fraction (0..1) of the node's cores in use. */
  coresUsed: number;
  /** Fraction (0..1) of the node's memory in use. */
  memoryUsed: number;
  /** Cores of the node. */
  coresTotal: number;
  /** Memory of the node in bytes. */
  memoryTotal: number;
  /** Cores reserved by the jobs on the node. */
  requestedCores: number;
  /** Memory in bytes reserved by the jobs on the node. */
  requestedMemory: number;
  /** Number of workers (jobs) running on the node. */
  workers: number;
}

/** A batch system whose set of worker nodes may grow and shrink (used by an autoscaler). */
export interface ScalableBatchSystem extends BatchSystem {
  /** Nodes (by address) with their load, optionally only preemptible or non-preemptible ones. */
  getNodes(preemptible?: boolean, timeoutSeconds?: number): Promise<Map<string, NodeInfo>>;
  /** Whether a node runs any job; `false` for unknown nodes. */
  nodeInUse(nodeAddress: string): boolean;
  /** Stop sending jobs to a node (so it can be terminated once idle). */
  ignoreNode(nodeAddress: string): void;
  /** Undo `ignoreNode`. */
  unignoreNode(nodeAddress: string): void;
}

/** Whether a batch system implements the scalable variant. */
export function isScalableBatchSystem(bs: BatchSystem): bs is ScalableBatchSystem {
  const s = bs as Partial<ScalableBatchSystem>;
  return (
    typeof s.getNodes === "function" &&
    typeof s.nodeInUse === "function" &&
    typeof s.ignoreNode === "function" &&
    typeof s.unignoreNode === "function"
  );
}

/** Names of the instance methods every batch system must have. */
export const BATCH_SYSTEM_METHODS = [
  "issueBatchJob",
  "killBatchJobs",
  "getIssuedBatchJobIds",
  "getRunningBatchJobIds",
  "getUpdatedBatchJob",
  "getSchedulingStatusMessage",
  "setEnv",
  "setMessageBus",
  "getWorkerContexts",
  "shutdown",
] as const satisfies readonly (keyof BatchSystem)[];
