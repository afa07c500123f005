/**
 * A job as the single-machine batch system keeps it, from issue to end, and what both ways of
 * running one (a fresh process, a warm host) need: how its process ended, and where its output goes.
 */
import type { ChildProcess } from "node:child_process";
import { constants as osConstants } from "node:os";
import { BatchJobExitReason, EXIT_STATUS_UNAVAILABLE_VALUE, type Environment, type FifoQueue } from "@toil/batch-core";

export { JOB_MARKER_ENV } from "./prestart.js";

/** Where a job is: waiting for resources, running, ended, or killed before it started. */
type JobState = "queued" | "running" | "done" | "killed";

/** Receives the jobs' stdout/stderr bytes (see `SingleMachineOptions.output`). */
export type OutputSink = (stream: "stdout" | "stderr", chunk: Buffer) => void;

/** One job of the single-machine batch system. */
export interface LocalJob {
  id: number;
  seq: number;
  command: string;
  argv: string[] | null;
  warmScript: string | null;
  jobName: string;
  jobStoreId: string | undefined;
  cores: number;
  tenths: number;
  memory: number;
  disk: number;
  gpuCount: number;
  /** The batch system's environment when the job was issued (shared by the jobs issued with it). */
  baseEnv: Environment;
  /** The job's own variables, if any. */
  jobEnv: Environment | undefined;
  /** The whole environment, built when the job starts (not per queued job: 100,000 queued jobs). */
  env: Environment | null;
  shape: Shape;
  state: JobState;
  startTime: number;
  pid: number | undefined;
  gpus: ReadonlySet<number> | null;
  /** The warm host running it: its process is the root of the job's process tree. */
  host: { readonly pid: number } | null;
  killIntended: boolean;
  /** Its warm host said it only waits for its commit's sync: its resources are free already. */
  released: boolean;
  exited: Promise<void> | null;
  markExited: (() => void) | null;
}

/** The queue of the jobs that need the same resources, oldest first. */
export interface Shape {
  key: string;
  jobs: FifoQueue<LocalJob>;
}

function signalNumber(signal: NodeJS.Signals): number {
  return (osConstants.signals as Record<string, number>)[signal] ?? 0;
}

/** A job's exit status and reason from how its process (or its warm host) ended. */
export function exitOf(code: number | null, signal: NodeJS.Signals | null): { status: number; reason: BatchJobExitReason } {
  if (code !== null) return { status: code, reason: code === 0 ? BatchJobExitReason.FINISHED : BatchJobExitReason.FAILED };
  if (signal) return { status: 128 + signalNumber(signal), reason: BatchJobExitReason.KILLED };
  return { status: EXIT_STATUS_UNAVAILABLE_VALUE, reason: BatchJobExitReason.LOST };
}

/** Hand a child's piped stdout/stderr to `output`; the pipes never keep the leader alive. */
export function forwardOutput(child: ChildProcess, output: OutputSink | undefined): void {
  if (!output) return;
  for (const name of ["stdout", "stderr"] as const) {
    const pipe = child[name] as (NodeJS.ReadableStream & { unref?: () => void }) | null;
    if (!pipe) continue;
    pipe.on("data", (chunk: Buffer) => output(name, chunk));
    pipe.on("error", () => undefined);
    pipe.unref?.();
  }
}
