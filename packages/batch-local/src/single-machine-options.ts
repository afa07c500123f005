/**
 * The single-machine batch system's constructor options (the options it adds to the workflow config
 * are in options.ts, a light entry of their own).
 */

/** Construction options of {@link SingleMachineBatchSystem} beyond the config. */
export interface SingleMachineOptions {
  /** Run `[node, script.js, ...]` commands whose script exports `runWarmCommand` in warm hosts (default: config `warmWorkers`, else true). */
  warmWorkers?: boolean;
  /** Idle warm hosts kept for reuse (default: the number of cores). */
  maxIdleWarmWorkers?: number;
  /** Replace a warm host after it ran this many jobs (default: never). */
  warmWorkerMaxJobs?: number;
  /**
   * Warm hosts that may be starting (loading their script) at once (default: the number of CPUs).
   * Jobs that need a new host beyond this wait in the queue for a started or an idle one: twenty
   * processes loading their modules together on two CPUs take longer than the same twenty in turn,
   * and short jobs mostly reuse the first hosts instead.
   */
  warmStartsAtOnce?: number;
  /** Where job std-out/err go: inherit the leader's (default), discard, or per-job files from `formatStdOutErrPath`. */
  stdio?: "inherit" | "ignore" | "files";
  /** Accelerator indices to schedule instead of the detected GPUs (a count means 0..count-1). */
  accelerators?: number | readonly number[];
  /** Seconds between SIGTERM and SIGKILL when killing a job (default 2). */
  killGraceSeconds?: number;
  /** Where warnings go (default: stderr). */
  logger?: (level: "warn" | "info", message: string) => void;
  /**
   * With `stdio: "inherit"`: receive the jobs' stdout/stderr bytes through pipes instead of letting
   * the processes write to the leader's own stdout/stderr. The leader then prints them where its
   * display allows (above a live progress bar), and a job never writes into a pipe the user closed
   * (`toil run … | head`), which would kill the job's tools with SIGPIPE.
   */
  output?: (stream: "stdout" | "stderr", chunk: Buffer) => void;
}
