import { BatchCommandError, type BatchSystemConfig, resolveBatchSystemOptions, splitShellWords } from "@toil/batch-core";
import { SlurmArgsError, SlurmOptionError } from "./errors.js";
import { parseSlurmTime } from "./time.js";
import { SLURM_OPTIONS } from "./option-specs.js";

export { SLURM_OPTIONS };

/** The Slurm settings of one batch system, resolved from the config, the environment and defaults. */
export interface SlurmSettings {
  /** `--slurmAllocateMem`: pass each job's memory to Slurm as `--mem`. */
  allocateMem: boolean;
  /** `--slurmDefaultAllMem`: jobs with the default memory get a whole node's memory (`--mem=0`). */
  defaultAllMem: boolean;
  /** `--slurmTime` in seconds. */
  time: number | undefined;
  /** `--slurmPartition`: partition for jobs (undefined: chosen from sinfo). */
  partition: string | undefined;
  /** `--slurmGPUPartition`: partition for jobs that need GPUs. */
  gpuPartition: string | undefined;
  /** `--slurmPE`: partition for jobs that need more than one core. */
  pe: string | undefined;
  /** `--slurmQOS`: quality of service for jobs. */
  qos: string | undefined;
  /** `--slurmGPUQOS`: quality of service for jobs that need GPUs. */
  gpuQos: string | undefined;
  /** `--slurmArgs` split into words. */
  args: string[];
  /** `--memoryIsProduct`: ask for memory per CPU (`--mem-per-cpu`) instead of per job. */
  memoryIsProduct: boolean;
  /** `--slurmArrays`: submit ready jobs with identical requirements as one job array. */
  arrays: boolean;
  /** `--slurmPackJobs`: most jobs run one after another in one array task. */
  packJobs: number;
  /** `--slurmWorkers`: run jobs on warm worker hosts. */
  workers: boolean;
  /** `--slurmMaxWorkers`: most worker hosts alive at once. */
  maxWorkers: number;
  /** `--slurmWorkerIdleTime` in seconds. */
  workerIdleTime: number;
  /** `--slurmWorkerTime` in seconds. */
  workerTime: number | undefined;
  /** `--slurmPlainJobs`: jobs whose name or kind matches run as Slurm jobs of their own. */
  plainJobs: RegExp | undefined;
  /** `--slurmArrayMinJobs`: smallest group submitted as a job array. */
  arrayMinJobs: number;
  /** `--slurmArrayMaxSize`: most tasks in one job array. */
  arrayMaxSize: number;
  /** Seconds. */
  arrayWindow: number;
  /** Seconds between polls. */
  statePollingWait: number;
  /** Seconds to retry failing commands. */
  statePollingTimeout: number;
  /** Most Slurm jobs submitted and not yet ended. */
  maxJobs: number;
  /** The workflow's default memory in bytes (for `--slurmDefaultAllMem`), when known. */
  defaultMemory: number | undefined;
}

function numberOr(value: unknown, fallback: number, what: string, min = 0): number {
  if (value === undefined || value === null) return fallback;
  const n = typeof value === "string" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isFinite(n) || n < min) {
    throw new SlurmOptionError(`Bad ${what}: ${String(value)}; expected a number >= ${min}.`);
  }
  return n;
}

/** Config fields outside the batch-system contract that the Slurm batch system reads when present (the leader's Config has them). */
export interface SlurmConfigExtras {
  /** Default memory of jobs in bytes (for `--slurmDefaultAllMem`). */
  defaultMemory?: number;
  /** Send jobs marked local to Slurm too. */
  runLocalJobsOnWorkers?: boolean;
}

/**
 * Resolves the Slurm settings: values in `config.batchOptions` win over `TOIL_SLURM_*`
 * variables, which win over the defaults. Throws {@link SlurmOptionError} on bad values.
 */
export function resolveSlurmSettings(
  config: BatchSystemConfig & SlurmConfigExtras,
  env: Readonly<Record<string, string | undefined>> = process.env,
): SlurmSettings {
  let o: Record<string, unknown>;
  try {
    o = resolveBatchSystemOptions(SLURM_OPTIONS, config.batchOptions ?? {}, env);
  } catch (err) {
    throw new SlurmOptionError((err as Error).message, { cause: err });
  }
  const str = (k: string): string | undefined => {
    const v = o[k];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "string" || v.trim() === "") {
      throw new SlurmOptionError(`Bad value for --${k}: ${JSON.stringify(v)}; expected a non-empty string.`);
    }
    return v.trim();
  };
  const int = (k: string, fallback: number, min: number): number => {
    const v = o[k] ?? fallback;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min) {
      throw new SlurmOptionError(`Bad value for --${k}: ${JSON.stringify(v)}; expected a whole number >= ${min}.`);
    }
    return v;
  };
  const time = str("slurmTime");
  const args = o.slurmArgs === undefined || o.slurmArgs === "" ? undefined : str("slurmArgs");
  const window = o.slurmArrayWindow ?? 0.05;
  if (typeof window !== "number" || !(window >= 0 && window <= 60)) {
    throw new SlurmOptionError(`Bad value for --slurmArrayWindow: ${JSON.stringify(window)}; expected 0 to 60 seconds.`);
  }
  const idle = o.slurmWorkerIdleTime ?? 30;
  if (typeof idle !== "number" || !(idle >= 1 && idle <= 86_400)) {
    throw new SlurmOptionError(`Bad value for --slurmWorkerIdleTime: ${JSON.stringify(idle)}; expected 1 to 86400 seconds.`);
  }
  const workerTime = str("slurmWorkerTime");
  const plain = o.slurmPlainJobs === undefined || o.slurmPlainJobs === "" ? undefined : str("slurmPlainJobs");
  let plainJobs: RegExp | undefined;
  if (plain !== undefined) {
    try {
      plainJobs = new RegExp(plain);
    } catch (err) {
      throw new SlurmOptionError(`Bad value for --slurmPlainJobs: ${JSON.stringify(plain)} is not a regular expression (${(err as Error).message}).`);
    }
  }
  return {
    allocateMem: o.slurmAllocateMem !== false,
    defaultAllMem: o.slurmDefaultAllMem === true,
    time: time === undefined ? undefined : parseSlurmTime(time),
    partition: str("slurmPartition"),
    gpuPartition: str("slurmGPUPartition"),
    pe: str("slurmPE"),
    qos: str("slurmQOS"),
    gpuQos: str("slurmGPUQOS"),
    args: args === undefined ? [] : slurmArgsWords(args),
    memoryIsProduct: o.memoryIsProduct === true,
    arrays: o.slurmArrays !== false,
    arrayMinJobs: int("slurmArrayMinJobs", 4, 1),
    arrayMaxSize: int("slurmArrayMaxSize", 1000, 1),
    arrayWindow: window,
    packJobs: int("slurmPackJobs", 1, 1),
    workers: o.slurmWorkers !== false,
    maxWorkers: o.slurmMaxWorkers === undefined ? Infinity : int("slurmMaxWorkers", 1, 1),
    workerIdleTime: idle,
    workerTime: workerTime === undefined ? undefined : parseSlurmTime(workerTime),
    plainJobs,
    statePollingWait: numberOr(config.statePollingWait, 1, "statePollingWait", 0.01),
    statePollingTimeout: numberOr(config.statePollingTimeout, 1200, "statePollingTimeout"),
    maxJobs: numberOr(config.maxJobs, Infinity, "maxJobs", 1),
    defaultMemory: typeof config.defaultMemory === "number" ? config.defaultMemory : undefined,
  };
}

/** The words of `--slurmArgs` / `TOIL_SLURM_ARGS`, split as a shell would; a malformed line is a {@link SlurmArgsError}. */
export function slurmArgsWords(args: string): string[] {
  try {
    return splitShellWords(args);
  } catch (err) {
    if (!(err instanceof BatchCommandError)) throw err;
    throw new SlurmArgsError(`--slurmArgs / TOIL_SLURM_ARGS: ${err.message}`, { cause: err });
  }
}
