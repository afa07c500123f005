import type { BatchJobDescription, Environment } from "@toil/batch-core";

/** A Toil job the Slurm batch system has been given and not yet reported. */
export interface TrackedJob {
  /** The batch id. */
  id: number;
  /** The shell line written into batch scripts: `shellCommand(argv)` when the job has an argv. */
  command: string;
  /** The exact argv (from `jobDesc.argv`); `undefined` when the caller issued a shell command line. */
  argv?: string[];
  /** What the leader said about the job. */
  desc: BatchJobDescription;
  /** The job's variables (`setEnv` ones and its own). */
  env: Environment;
  /** sbatch arguments decided by the requirements (shared by all jobs of an array). */
  args: string[];
  /** Jobs with the same group key may share one job array. */
  groupKey: string;
  /** Set once submitted: `123` (a job) or `123_4` (an array task). */
  key?: string;
  /** The id sbatch printed (the array id for a task): what squeue's `-j` gets. */
  submitId?: string;
  /** Slurm's own id of the job/task once known (sacct -c needs it for array tasks). */
  rawId?: string;
  /** Whether it runs (as far as the last poll knows). */
  running: boolean;
  /** Seconds it has run. */
  elapsed: number;
  /** When squeue and sacct first failed to list it. */
  missingSince?: number;
  /** Set when the job runs in a job pack (`--slurmPackJobs`): one array task for several jobs. */
  pack?: Pack;
}

/** Several jobs run one after another by the pack runner in one array task. */
export interface Pack {
  /** `<array id>_<task>`. */
  key: string;
  /** The array's id. */
  submitId: string;
  /** Where the runner writes `<id>.started` / `<id>.status` and reads `<id>.cancel`. */
  dir: string;
  /** The jobs, in the order the runner runs them. */
  jobs: TrackedJob[];
  /** When squeue and sacct first failed to list the task. */
  missingSince?: number;
}
