import type { BatchJobDescription, Environment, FifoQueue } from "@toil/batch-core";
import type { HostShape } from "./shapes.js";

/** A job that runs on a worker host. */
export interface HostedJob {
  /** Batch id. */
  id: number;
  /** What the leader said about it. */
  desc: BatchJobDescription;
  /** The exact argv, or null for a shell command line. */
  argv: string[] | null;
  /** The command line (display form, or the shell line). */
  command: string;
  /** Its variables (`setEnv` ones and its own). */
  env: Environment;
  /** The host shape it needs. */
  shape: HostShape;
  /** Its walltime in seconds (0: not known). */
  need: number;
  /** The host it was handed to. */
  host?: Host;
  /** The host's number of this assignment. */
  seq?: number;
  /** When the host said it started (leader's clock, ms). */
  startedAt?: number;
  /** Times it was run again because its host died under it. */
  freeReissues: number;
}

/** A worker host: one Slurm array task. */
export interface Host {
  key: string;
  submitId: string;
  rawId?: string;
  shape: HostShape;
  /** submitted: not yet ready; ready: takes jobs; gone: takes nothing more (exited, told to stop, cancelled). */
  phase: "submitted" | "ready" | "gone";
  ever: { ready: boolean };
  slurmRunningSince?: number;
  slurmPending: boolean;
  /** When it was submitted (ms). */
  submittedAt: number;
  /** Since when it has had no job (ms). */
  idleSince: number;
  /** Estimated Slurm start (leader's clock, ms). */
  startedAt?: number;
  node?: string;
  job?: HostedJob;
  seq: number;
  draining: boolean;
  exitWhy?: string;
  cancelled: boolean;
  missingSince?: number;
}

/** The jobs waiting for hosts of one shape, and those hosts. */
export interface ShapeState {
  shape: HostShape;
  queue: FifoQueue<HostedJob>;
  hosts: Set<Host>;
  /** Its hosts that are ready and have no job. */
  idle: Set<Host>;
  /** Hosts being submitted right now (sbatch has not answered). */
  submitting: number;
  /** Recent seconds per job on its hosts (a moving average), once a job has ended. */
  jobSeconds?: number;
}

