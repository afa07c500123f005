import { z } from "zod";
import { tryParseConfigSize } from "./size.js";

/** The `--clean` / `--cleanWorkDir` policies. */
export const CLEAN_POLICIES = ["always", "onError", "onSuccess", "never"] as const;
export type CleanPolicy = (typeof CLEAN_POLICIES)[number];

/** Log levels, lowest to highest; "off" silences everything. */
export const LOG_LEVELS = ["trace", "debug", "info", "warning", "error", "critical", "off"] as const;
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
  kind: z.string(),
  count: z.number().int().min(1),
  model: z.string().optional(),
  brand: z.string().optional(),
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
  workflowId: z.string().optional(),
  workflowAttemptNumber: numberSchema({ int: true, min: 0 }).default(0),

  // --- core ---
  jobStore: z.string().default(""),
  batchSystem: z.string().min(1).default("single_machine"),
  workDir: z.string().optional(),
  coordinationDir: z.string().optional(),
  restart: booleanSchema.default(false),
  clean: cleanSchema.default("onSuccess"),
  cleanWorkDir: cleanSchema.default("always"),
  stats: booleanSchema.default(false),
  noStdOutErr: booleanSchema.default(false),
  environment: z.record(z.string(), z.string()).default({}),
  logLevel: logLevelSchema.default("info"),
  logFile: z.string().optional(),

  // --- resources ---
  defaultMemory: sizeSchema.default(2 * 2 ** 30),
  defaultCores: numberSchema({ min: 0, exclusiveMin: true }).default(1),
  defaultDisk: sizeSchema.default(2 * 2 ** 30),
  defaultAccelerators: z.array(acceleratorSchema).default([]),
  defaultPreemptible: booleanSchema.default(false),
  defaultWalltime: numberSchema({ min: 0 }).default(0),
  maxCores: optionalPositive(false),
  maxMemory: sizeSchema.optional(),
  maxDisk: sizeSchema.optional(),
  maxJobs: optionalPositive(true),
  maxLocalJobs: optionalPositive(true),
  scale: numberSchema({ min: 0, exclusiveMin: true }).default(1),

  // --- retry and rescue ---
  retryCount: numberSchema({ int: true, min: 0 }).default(1),
  retryBackoffSeconds: numberSchema({ min: 0 }).default(2),
  retryBackoffFactor: numberSchema({ min: 1 }).default(3),
  stopOnFirstFailure: booleanSchema.default(false),
  doubleMem: booleanSchema.default(false),
  enableUnlimitedPreemptibleRetries: booleanSchema.default(false),
  maxJobDuration: optionalPositive(false),
  rescueJobsFrequency: numberSchema({ min: 0, exclusiveMin: true }).default(60),
  jobStoreTimeout: numberSchema({ min: 0 }).default(30),

  // --- logs and messages ---
  writeLogs: z.string().optional(),
  writeLogsGzip: z.string().optional(),
  writeLogsFromAllJobs: booleanSchema.default(false),
  maxLogFileSize: sizeSchema.default(100 * 2 ** 20),
  writeMessages: z.string().optional(),
  disableProgress: booleanSchema.default(false),
  statusWait: numberSchema({ min: 0, exclusiveMin: true }).default(3600),

  // --- services ---
  maxServiceJobs: optionalPositive(true),
  maxPreemptibleServiceJobs: optionalPositive(true),
  deadlockWait: numberSchema({ min: 0 }).default(60),
  deadlockCheckInterval: numberSchema({ min: 0 }).default(30),
  servicePollingInterval: numberSchema({ min: 0 }).default(60),

  // --- files ---
  caching: booleanSchema.optional(),
  symlinkImports: booleanSchema.default(true),
  moveOutputs: booleanSchema.default(false),
  symlinkJobStoreReads: booleanSchema.default(true),

  // --- misc and debugging ---
  disableChaining: booleanSchema.default(false),
  runLocalJobsOnWorkers: booleanSchema.default(false),
  debugWorker: booleanSchema.default(false),
  disableWorkerOutputCapture: booleanSchema.default(false),
  badWorker: numberSchema({ min: 0, max: 1 }).default(0),
  badWorkerFailInterval: numberSchema({ min: 0 }).default(0.01),
  statePollingWait: optionalPositive(false),
  statePollingTimeout: numberSchema({ min: 0 }).default(1200),
  batchLogsDir: z.string().optional(),

  // --- options declared by batch-system plugins, keyed by option name ---
  batchOptions: z.record(z.string(), z.unknown()).default({}),
});

/** A validated workflow configuration. Plain data: JSON round-trips it exactly. */
export type Config = z.output<typeof configSchema>;
/** What `parseConfig` accepts: any subset of the options, sizes and numbers may be strings. */
export type ConfigInput = z.input<typeof configSchema>;
/** The name of a run option. */
export type ConfigKey = keyof Config;
