import { BatchCommandError, type BatchSystemConfig, type BatchSystemOptionSpec, resolveBatchSystemOptions, splitShellWords } from "@toil/batch-core";
import { SlurmArgsError, SlurmOptionError } from "./errors.js";
import { parseSlurmTime } from "./time.js";

const S = "Slurm";

/**
 * The options the Slurm batch system adds to the workflow configuration (flag, environment
 * variable, default). The leader lists them in `toil run --help` and resolves them into
 * `config.batchOptions`; {@link resolveSlurmSettings} checks them.
 */
export const SLURM_OPTIONS: readonly BatchSystemOptionSpec[] = [
  {
    name: "slurmAllocateMem",
    kind: "boolean",
    section: S,
    env: "TOIL_SLURM_ALLOCATE_MEM",
    default: true,
    help: "Pass each job's memory to Slurm as --mem (false: let the cluster's defaults decide).",
  },
  {
    name: "slurmDefaultAllMem",
    kind: "boolean",
    section: S,
    env: "TOIL_SLURM_DEFAULT_ALL_MEM",
    default: false,
    help: "Give jobs that use the default memory a whole node's memory (--mem=0).",
  },
  {
    name: "slurmTime",
    kind: "string",
    section: S,
    env: "TOIL_SLURM_TIME",
    valueName: "[DD-]HH:MM:SS",
    help: "Time limit of every Slurm job (default: the job's own walltime, else none).",
  },
  {
    name: "slurmPartition",
    kind: "string",
    section: S,
    env: "TOIL_SLURM_PARTITION",
    help: "Partition for jobs (default: chosen from sinfo by time limit).",
  },
  {
    name: "slurmGPUPartition",
    kind: "string",
    section: S,
    env: "TOIL_SLURM_GPU_PARTITION",
    help: "Partition for jobs that need GPUs (default: the GPU partition with the lowest priority tier).",
  },
  {
    name: "slurmPE",
    kind: "string",
    section: S,
    env: "TOIL_SLURM_PE",
    help: "Partition for jobs that need more than one core.",
  },
  {
    name: "slurmQOS",
    kind: "string",
    section: S,
    env: "TOIL_SLURM_QOS",
    help: "Quality of service (--qos) for jobs.",
  },
  {
    name: "slurmGPUQOS",
    kind: "string",
    section: S,
    env: "TOIL_SLURM_GPU_QOS",
    help: "Quality of service (--qos) for jobs that need GPUs.",
  },
  {
    name: "slurmArgs",
    kind: "string",
    section: S,
    env: "TOIL_SLURM_ARGS",
    valueName: "ARGS",
    help:
      'Extra sbatch arguments, split like a shell would (e.g. "--account=lab -p long"). --time, --partition, ' +
      "--qos and --export override Toil's; memory and CPU flags are refused.",
  },
  {
    name: "memoryIsProduct",
    kind: "boolean",
    section: S,
    env: "TOIL_SLURM_MEMORY_IS_PRODUCT",
    default: false,
    help: "Ask Slurm for memory per CPU (--mem-per-cpu = memory / cores) instead of per job.",
  },
  {
    name: "slurmArrays",
    kind: "boolean",
    section: S,
    env: "TOIL_SLURM_ARRAYS",
    default: true,
    help: "Submit ready jobs with identical requirements together as one Slurm job array.",
  },
  {
    name: "slurmArrayMinJobs",
    kind: "int",
    section: S,
    env: "TOIL_SLURM_ARRAY_MIN_JOBS",
    default: 4,
    help: "Smallest group of identical ready jobs submitted as a job array.",
  },
  {
    name: "slurmArrayMaxSize",
    kind: "int",
    section: S,
    env: "TOIL_SLURM_ARRAY_MAX_SIZE",
    default: 1000,
    help: "Most tasks in one job array (also capped by the cluster's MaxArraySize).",
  },
  {
    name: "slurmArrayWindow",
    kind: "number",
    section: S,
    env: "TOIL_SLURM_ARRAY_WINDOW",
    default: 0.05,
    valueName: "SECONDS",
    help: "Submit newly issued jobs once none has arrived for this many seconds (at most 1 s after the first), so they can share an array.",
  },
  {
    name: "slurmPackJobs",
    kind: "int",
    section: S,
    env: "TOIL_SLURM_PACK_JOBS",
    default: 1,
    help: "Run up to this many jobs of a job array one after another in each array task, sharing one worker start (1: one job per task). Needs a shared --batchLogsDir.",
  },
];

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
