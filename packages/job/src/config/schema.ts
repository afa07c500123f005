import * as z from "zod";
import { tryParseConfigSize } from "./size.js";

/** The `--clean` / `--cleanWorkDir` policies. */
export const CLEAN_POLICIES = ["always", "onError", "onSuccess", "never"] as const;
/** One of {@link CLEAN_POLICIES}. */
export type CleanPolicy = (typeof CLEAN_POLICIES)[number];

/** Log levels, lowest to highest; "off" silences everything. */
export const LOG_LEVELS = ["trace", "debug", "info", "warning", "error", "critical", "off"] as const;
/** One of {@link LOG_LEVELS}. */
export type ConfigLogLevel = (typeof LOG_LEVELS)[number];

/** Bytes; accepts a number or a size string such as "2Gi", "500M", "1.5G". */
export const sizeSchema = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const bytes = tryParseConfigSize(value);
  if (bytes === undefined) {
    ctx.addIssue({
      code: "custom",
      message: `${JSON.stringify(value)} is not a size; write a whole or decimal number with an optional unit, e.g. 2G, 2Gi, 512Mi, 1000`,
    });
    return z.NEVER;
  }
  return bytes;
});

const booleanSchema = z.union([z.boolean(), z.string(), z.number()]).transform((value, ctx) => {
  if (typeof value === "boolean") return value;
  const text = String(value).trim().toLowerCase();
  if (["true", "yes", "1", "on"].includes(text)) return true;
  if (["false", "no", "0", "off"].includes(text)) return false;
  ctx.addIssue({ code: "custom", message: `${JSON.stringify(value)} is not a boolean; use true or false` });
  return z.NEVER;
});

function numberSchema(opts: { int?: boolean; min?: number; max?: number; exclusiveMin?: boolean } = {}) {
  return z.union([z.number(), z.string()]).transform((value, ctx) => {
    const num = typeof value === "number" ? value : value.trim() === "" ? Number.NaN : Number(value);
    const what = opts.int ? "a whole number" : "a number";
    const fail = (message: string) => {
      ctx.addIssue({ code: "custom", message });
      return z.NEVER;
    };
    if (!Number.isFinite(num)) return fail(`${JSON.stringify(value)} is not ${what}`);
    if (opts.int && !Number.isInteger(num)) return fail(`${JSON.stringify(value)} is not ${what}`);
    if (opts.min !== undefined && (opts.exclusiveMin ? num <= opts.min : num < opts.min)) {
      return fail(`${num} is too small: it must be ${opts.exclusiveMin ? "greater than" : "at least"} ${opts.min}`);
    }
    if (opts.max !== undefined && num > opts.max) return fail(`${num} is too large: it must be at most ${opts.max}`);
    return num;
  });
}

const logLevelSchema = z.string().transform((value, ctx) => {
  const text = value.trim().toLowerCase();
  const level = text === "warn" ? "warning" : text === "fatal" ? "critical" : text;
  if ((LOG_LEVELS as readonly string[]).includes(level)) return level as ConfigLogLevel;
  ctx.addIssue({ code: "custom", message: `${JSON.stringify(value)} is not a log level; use one of ${LOG_LEVELS.join(", ")}` });
  return z.NEVER;
});

const cleanSchema = z.string().transform((value, ctx) => {
  const found = CLEAN_POLICIES.find((p) => p.toLowerCase() === value.trim().toLowerCase());
  if (found) return found;
  ctx.addIssue({ code: "custom", message: `${JSON.stringify(value)} is not a clean policy; use one of ${CLEAN_POLICIES.join(", ")}` });
  return z.NEVER;
});

const acceleratorSchema = z.object({
  /** Kind of accelerator, e.g. `gpu`. */
  kind: z.string(),
  /** How many the job needs (at least 1). */
  count: z.number().int().min(1),
  /** Model required, e.g. `nvidia-tesla-k80`. */
  model: z.string().optional(),
  /** Brand required, e.g. `nvidia`. */
  brand: z.string().optional(),
  /** Programming interface required, e.g. `cuda`. */
  api: z.string().optional(),
});

const optionalPositive = (int: boolean) => numberSchema({ int, min: 0, exclusiveMin: true }).optional();

/**
 * The workflow configuration schema: every essential run option with Toil's defaults.
 * Unknown keys are rejected (`strictObject`), so a typo in a config file is an error.
 * Maxima left undefined mean "unlimited".
 */
export const configSchema = z.strictObject({
  // --- identity (assigned by prepareStart / prepareRestart) ---
  /** Unique id of this workflow, assigned when it first starts (kept across restarts). */
  workflowId: z.string().optional(),
  /** 0 for the first run of the workflow, then 1, 2, ... for each restart. */
  workflowAttemptNumber: numberSchema({ int: true, min: 0 }).default(0),

  // --- core ---
  /** Job store locator: a directory path or file:<path>. Relative paths are made absolute. */
  jobStore: z.string().default(""),
  /** Batch system that runs the workers (single_machine, slurm, or a toil-batch-<name> plugin). */
  batchSystem: z.string().min(1).default("single_machine"),
  /**
   * Existing directory under which workers make their temporary directories (default: the system temp
   * dir).
   */
  workDir: z.string().optional(),
  /** Existing directory for per-machine lock and coordination files (default: under workDir). */
  coordinationDir: z.string().optional(),
  /** Resume the workflow stored in the job store instead of starting a new one. */
  restart: booleanSchema.default(false),
  /** When to delete the job store at the end: always, onError, onSuccess or never. */
  clean: cleanSchema.default("onSuccess"),
  /** When a worker deletes its temporary directory: always, onError, onSuccess or never. */
  cleanWorkDir: cleanSchema.default("always"),
  /** Keep per-job statistics for `toil stats` (forces --clean never). */
  stats: booleanSchema.default(false),
  /** Do not keep the batch system's stdout/stderr files for workers. */
  noStdOutErr: booleanSchema.default(false),
  /** Set an environment variable for every job; NAME alone copies the leader's value. Repeatable. */
  environment: z.record(z.string(), z.string()).default({}),
  /** Leader log level: trace, debug, info, warning, error, critical or off. */
  logLevel: logLevelSchema.default("info"),
  /** Where the leader's log of every run is kept, as text (default: `<jobStore>.log`, next to the job store). */
  logFile: z.string().optional(),
  /** Write the `logFile` log as JSON lines (one object a line) instead of text. */
  logJson: booleanSchema.default(false),

  // --- resources ---
  /** Memory for jobs that do not ask for any, e.g. 2Gi or 500M. */
  defaultMemory: sizeSchema.default(2 * 2 ** 30),
  /** Cores for jobs that do not ask for any (fractions allowed). */
  defaultCores: numberSchema({ min: 0, exclusiveMin: true }).default(1),
  /** Disk for jobs that do not ask for any. */
  defaultDisk: sizeSchema.default(2 * 2 ** 30),
  /** Accelerators for jobs that do not ask for any, e.g. cuda:1. */
  defaultAccelerators: z.array(acceleratorSchema).default([]),
  /** Whether jobs that do not say may run on preemptible resources. */
  defaultPreemptible: booleanSchema.default(false),
  /** Wall-time limit for jobs that do not ask for one (0 = none). */
  defaultWalltime: numberSchema({ min: 0 }).default(0),
  /**
   * Most cores any job may ask for and the batch system may use (default: unlimited; single machine caps
   * at the CPU count).
   */
  maxCores: optionalPositive(false),
  /** Most memory any job may ask for (default: unlimited; single machine caps at physical memory). */
  maxMemory: sizeSchema.optional(),
  /** Most disk any job may ask for (default: unlimited). */
  maxDisk: sizeSchema.optional(),
  /** Most jobs the batch system runs at once (default: unlimited). */
  maxJobs: optionalPositive(true),
  /** Most local jobs run at once on the leader's machine (default: CPU count). */
  maxLocalJobs: optionalPositive(true),
  /** Single machine: multiply each job's cores by this factor when scheduling. */
  scale: numberSchema({ min: 0, exclusiveMin: true }).default(1),

  // --- retry and rescue ---
  /** How many times a failed job is retried before the workflow fails. */
  retryCount: numberSchema({ int: true, min: 0 }).default(1),
  /** Wait before the first retry of a failed job. */
  retryBackoffSeconds: numberSchema({ min: 0 }).default(2),
  /** Multiply the retry wait by this factor for each further retry. */
  retryBackoffFactor: numberSchema({ min: 1 }).default(3),
  /** Stop the whole workflow as soon as one job has failed for good. */
  stopOnFirstFailure: booleanSchema.default(false),
  /** Double a job's memory when it is retried after running out of memory. */
  doubleMem: booleanSchema.default(false),
  /** Do not charge a retry when a preemptible job is lost. */
  enableUnlimitedPreemptibleRetries: booleanSchema.default(false),
  /** Kill and retry a job running longer than this (default: no limit). */
  maxJobDuration: optionalPositive(false),
  /** How often to look for lost and over-long jobs. */
  rescueJobsFrequency: numberSchema({ min: 0, exclusiveMin: true }).default(60),
  /** How long to wait for a finished job's update to appear in the job store. */
  jobStoreTimeout: numberSchema({ min: 0 }).default(30),

  // --- logs and messages ---
  /** Directory to write each job's log into (failed jobs always; all with --writeLogsFromAllJobs). */
  writeLogs: z.string().optional(),
  /** Like --writeLogs, gzip-compressed. */
  writeLogsGzip: z.string().optional(),
  /** Write logs of successful jobs too (needs --writeLogs or --writeLogsGzip). */
  writeLogsFromAllJobs: booleanSchema.default(false),
  /** Keep at most this much of the end of a failed job's log. */
  maxLogFileSize: sizeSchema.default(100 * 2 ** 20),
  /** Write every message-bus message to this file as JSON lines (read by `toil status`). */
  writeMessages: z.string().optional(),
  /** No progress bar or periodic progress lines. */
  disableProgress: booleanSchema.default(false),
  /** How often the leader logs how many jobs are running and waiting. */
  statusWait: numberSchema({ min: 0, exclusiveMin: true }).default(3600),

  // --- services ---
  /** Most service jobs running at once (default: unlimited). */
  maxServiceJobs: optionalPositive(true),
  /** Most preemptible service jobs running at once (default: unlimited). */
  maxPreemptibleServiceJobs: optionalPositive(true),
  /** How long only services may run, with nothing else able to, before the workflow fails as deadlocked. */
  deadlockWait: numberSchema({ min: 0 }).default(60),
  /** How often to check for a service deadlock while idle. */
  deadlockCheckInterval: numberSchema({ min: 0 }).default(30),
  /** How often a running service is checked and polled for its stop signal. */
  servicePollingInterval: numberSchema({ min: 0 }).default(60),

  // --- files ---
  /** Use the caching file store (default: chosen by the job store type). */
  caching: booleanSchema.optional(),
  /** Symlink imported local files into the job store instead of copying them. */
  symlinkImports: booleanSchema.default(true),
  /** Move exported files out of the job store, leaving a symlink. */
  moveOutputs: booleanSchema.default(false),
  /** Allow reads from the job store to be symlinks. */
  symlinkJobStoreReads: booleanSchema.default(true),

  // --- misc and debugging ---
  /** Never run a job's successor in the same worker. */
  disableChaining: booleanSchema.default(false),
  /** Run jobs marked local through the batch system like any other. */
  runLocalJobsOnWorkers: booleanSchema.default(false),
  /** Run every job inside the leader process, one at a time (for debuggers). */
  debugWorker: booleanSchema.default(false),
  /** Let worker output go to the batch system's stdout/stderr instead of the job log. */
  disableWorkerOutputCapture: booleanSchema.default(false),
  /** Fault injection: probability (0-1) that a worker kills itself at a random time. */
  badWorker: numberSchema({ min: 0, max: 1 }).default(0),
  /** Fault injection: a bad worker dies within this many seconds. */
  badWorkerFailInterval: numberSchema({ min: 0 }).default(0.01),
  /** How often a cluster batch system polls job states (default: the batch system's). */
  statePollingWait: optionalPositive(false),
  /** How long a cluster batch system retries failing scheduler commands. */
  statePollingTimeout: numberSchema({ min: 0 }).default(1200),
  /** Directory where the scheduler keeps workers' stdout/stderr. */
  batchLogsDir: z.string().optional(),

  // --- options declared by batch-system plugins, keyed by option name ---
  /** Values of the options that batch-system plugins declare, keyed by option name. */
  batchOptions: z.record(z.string(), z.unknown()).default({}),
});

/** A validated workflow configuration. Plain data: JSON round-trips it exactly. */
export type Config = z.output<typeof configSchema>;
/** What `parseConfig` accepts: any subset of the options, sizes and numbers may be strings. */
export type ConfigInput = z.input<typeof configSchema>;
/** The name of a run option. */
export type ConfigKey = keyof Config;
