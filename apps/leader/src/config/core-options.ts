/**
 * The core run options as the CLI shows them: flag, kind, section, environment variable and help
 * text of every user-settable key of `@toil/job`'s Config. Options declared by batch systems come
 * from their plugins.
 */
import { CLEAN_POLICIES, LOG_LEVELS, type ConfigKey, type ConfigOptionSpec } from "@toil/job";

type CoreSpec = Omit<ConfigOptionSpec, "name">;

/**
 * Every user-settable core option. Keys missing here (workflowId, workflowAttemptNumber, batchOptions)
 * are assigned by the engine, not by users.
 */
const CORE_OPTION_SPECS = {
  jobStore: { kind: "string", section: "Core", help: "Job store locator: a directory path or file:<path>. Relative paths are made absolute." },
  batchSystem: { kind: "string", section: "Core", help: "Batch system that runs the workers (single_machine, slurm, or a toil-batch-<name> plugin)." },
  workDir: { kind: "path", section: "Core", env: "TOIL_WORKDIR", help: "Existing directory under which workers make their temporary directories (default: the system temp dir)." },
  coordinationDir: { kind: "path", section: "Core", env: "TOIL_COORDINATION_DIR", help: "Existing directory for per-machine lock and coordination files (default: under workDir)." },
  restart: {
    kind: "boolean",
    section: "Core",
    help:
      "Resume the workflow stored in the job store instead of starting a new one. It runs with the stored options, " +
      "overridden by those given again; --badWorker, --badWorkerFailInterval, --debugWorker and " +
      "--disableWorkerOutputCapture apply only to the run that gives them.",
  },
  clean: { kind: "enum", section: "Core", choices: CLEAN_POLICIES, help: "When to delete the job store at the end: always, onError, onSuccess or never." },
  cleanWorkDir: { kind: "enum", section: "Core", choices: CLEAN_POLICIES, help: "When a worker deletes its temporary directory: always, onError, onSuccess or never." },
  stats: { kind: "boolean", section: "Core", help: "Keep per-job statistics for `toil stats` (forces --clean never)." },
  noStdOutErr: { kind: "boolean", section: "Core", help: "Do not keep the batch system's stdout/stderr files for workers." },
  environment: { kind: "setEnv", flag: "setEnv", section: "Core", valueName: "NAME[=VALUE]", help: "Set an environment variable for every job; NAME alone copies the leader's value. Repeatable." },
  logLevel: { kind: "enum", section: "Core", choices: LOG_LEVELS, help: "Leader log level: trace, debug, info, warning, error, critical or off." },
  logFile: { kind: "path", section: "Core", help: "Where the leader's log of every run is kept, as text (default: <jobStore>.log, next to the job store)." },
  logJson: { kind: "boolean", section: "Core", help: "Write the --logFile log as JSON lines (one object a line) instead of text." },

  defaultMemory: { kind: "size", section: "Resources", valueName: "BYTES", help: "Memory for jobs that do not ask for any, e.g. 2Gi or 500M." },
  defaultCores: { kind: "number", section: "Resources", help: "Cores for jobs that do not ask for any (fractions allowed)." },
  defaultDisk: { kind: "size", section: "Resources", valueName: "BYTES", help: "Disk for jobs that do not ask for any." },
  defaultAccelerators: { kind: "accelerators", section: "Resources", valueName: "SPEC[,SPEC]", help: "Accelerators for jobs that do not ask for any, e.g. cuda:1." },
  defaultPreemptible: { kind: "boolean", section: "Resources", help: "Whether jobs that do not say may run on preemptible resources." },
  defaultWalltime: { kind: "number", section: "Resources", valueName: "SECONDS", help: "Wall-time limit for jobs that do not ask for one (0 = none)." },
  maxCores: { kind: "number", section: "Resources", help: "Most cores any job may ask for and the batch system may use (default: unlimited; single machine caps at the CPU count)." },
  maxMemory: { kind: "size", section: "Resources", valueName: "BYTES", help: "Most memory any job may ask for (default: unlimited; single machine caps at physical memory)." },
  maxDisk: { kind: "size", section: "Resources", valueName: "BYTES", help: "Most disk any job may ask for (default: unlimited)." },
  maxJobs: { kind: "int", section: "Resources", help: "Most jobs the batch system runs at once (default: unlimited)." },
  maxLocalJobs: { kind: "int", section: "Resources", help: "Most local jobs run at once on the leader's machine (default: CPU count)." },
  scale: { kind: "number", section: "Resources", help: "Single machine: multiply each job's cores by this factor when scheduling." },

  retryCount: { kind: "int", section: "Retries", help: "How many times a failed job is retried before the workflow fails." },
  retryBackoffSeconds: { kind: "number", section: "Retries", valueName: "SECONDS", help: "Wait before the first retry of a failed job." },
  retryBackoffFactor: { kind: "number", section: "Retries", help: "Multiply the retry wait by this factor for each further retry." },
  stopOnFirstFailure: { kind: "boolean", section: "Retries", help: "Stop the whole workflow as soon as one job has failed for good." },
  doubleMem: { kind: "boolean", section: "Retries", help: "Double a job's memory when it is retried after running out of memory." },
  enableUnlimitedPreemptibleRetries: { kind: "boolean", section: "Retries", help: "Do not charge a retry when a preemptible job is lost." },
  maxJobDuration: { kind: "number", section: "Retries", valueName: "SECONDS", help: "Kill and retry a job running longer than this (default: no limit)." },
  rescueJobsFrequency: { kind: "number", section: "Retries", valueName: "SECONDS", help: "How often to look for lost and over-long jobs." },
  jobStoreTimeout: { kind: "number", section: "Retries", valueName: "SECONDS", help: "How long to wait for a finished job's update to appear in the job store." },

  writeLogs: { kind: "path", section: "Logging", help: "Directory to write each job's log into (failed jobs always; all with --writeLogsFromAllJobs)." },
  writeLogsGzip: { kind: "path", section: "Logging", help: "Like --writeLogs, gzip-compressed." },
  writeLogsFromAllJobs: { kind: "boolean", section: "Logging", help: "Write logs of successful jobs too (needs --writeLogs or --writeLogsGzip)." },
  maxLogFileSize: { kind: "size", section: "Logging", valueName: "BYTES", help: "Keep at most this much of the end of a failed job's log." },
  writeMessages: { kind: "path", section: "Logging", help: "Write every message-bus message to this file as JSON lines (read by `toil status`)." },
  disableProgress: { kind: "boolean", section: "Logging", help: "No progress bar or periodic progress lines." },
  statusWait: { kind: "number", section: "Logging", valueName: "SECONDS", help: "How often the leader logs how many jobs are running and waiting." },

  maxServiceJobs: { kind: "int", section: "Services", help: "Most service jobs running at once (default: unlimited)." },
  maxPreemptibleServiceJobs: { kind: "int", section: "Services", help: "Most preemptible service jobs running at once (default: unlimited)." },
  deadlockWait: { kind: "number", section: "Services", valueName: "SECONDS", help: "How long only services may run, with nothing else able to, before the workflow fails as deadlocked." },
  deadlockCheckInterval: { kind: "number", section: "Services", valueName: "SECONDS", help: "How often to check for a service deadlock while idle." },
  servicePollingInterval: { kind: "number", section: "Services", valueName: "SECONDS", help: "How often a running service is checked and polled for its stop signal." },

  caching: { kind: "boolean", section: "Files", help: "Use the caching file store (default: chosen by the job store type)." },
  symlinkImports: { kind: "boolean", section: "Files", help: "Symlink imported local files into the job store instead of copying them." },
  moveOutputs: { kind: "boolean", section: "Files", help: "Move exported files out of the job store, leaving a symlink." },
  symlinkJobStoreReads: { kind: "boolean", section: "Files", help: "Allow reads from the job store to be symlinks." },

  disableChaining: { kind: "boolean", section: "Debugging", help: "Never run a job's successor in the same worker." },
  runLocalJobsOnWorkers: { kind: "boolean", section: "Debugging", help: "Run jobs marked local through the batch system like any other." },
  debugWorker: { kind: "boolean", section: "Debugging", help: "Run every job inside the leader process, one at a time (for debuggers)." },
  disableWorkerOutputCapture: { kind: "boolean", section: "Debugging", help: "Let worker output go to the batch system's stdout/stderr instead of the job log." },
  badWorker: { kind: "number", section: "Debugging", valueName: "P", help: "Fault injection: probability (0-1) that a worker kills itself at a random time." },
  badWorkerFailInterval: { kind: "number", section: "Debugging", valueName: "SECONDS", help: "Fault injection: a bad worker dies within this many seconds." },
  statePollingWait: { kind: "number", section: "Debugging", valueName: "SECONDS", help: "How often a cluster batch system polls job states (default: the batch system's)." },
  statePollingTimeout: { kind: "number", section: "Debugging", valueName: "SECONDS", help: "How long a cluster batch system retries failing scheduler commands." },
  batchLogsDir: { kind: "path", section: "Debugging", env: "TOIL_BATCH_LOGS_DIR", help: "Directory where the scheduler keeps workers' stdout/stderr." },
} as const satisfies Partial<Record<ConfigKey, CoreSpec>>;

/** Core option specs as a list, in display order. */
export const coreOptionSpecs: readonly ConfigOptionSpec[] = Object.entries(CORE_OPTION_SPECS).map(
  ([name, spec]) => ({ name, ...(spec as CoreSpec) }),
);
