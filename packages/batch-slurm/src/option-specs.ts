import type { BatchSystemOptionSpec } from "@toil/batch-core";

const S = "Slurm";

/**
 * The options the Slurm batch system adds to the workflow configuration (flag, environment
 * variable, default). The leader lists them in `toil run --help` and resolves them into
 * `config.batchOptions`; `resolveSlurmSettings` checks them. A module of its own (data, type
 * imports only) so that `toil --help` lists them without loading the batch system
 * (`@toil/batch-slurm/options`).
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
    name: "slurmWorkers",
    kind: "boolean",
    section: S,
    env: "TOIL_SLURM_WORKERS",
    default: true,
    help:
      "Run jobs on warm worker hosts: Slurm jobs that each run Toil jobs of their own shape one after another until idle " +
      "(--no-slurmWorkers: one Slurm job, or job array task, per Toil job).",
  },
  {
    name: "slurmMaxWorkers",
    kind: "int",
    section: S,
    env: "TOIL_SLURM_MAX_WORKERS",
    help: "Most worker hosts alive at once (default: no limit besides --maxJobs).",
  },
  {
    name: "slurmWorkerIdleTime",
    kind: "number",
    section: S,
    env: "TOIL_SLURM_WORKER_IDLE_TIME",
    default: 30,
    valueName: "SECONDS",
    help: "A worker host with no job for this many seconds exits and frees its allocation.",
  },
  {
    name: "slurmWorkerTime",
    kind: "string",
    section: S,
    env: "TOIL_SLURM_WORKER_TIME",
    valueName: "[DD-]HH:MM:SS",
    help: "Time limit of each worker host (default: --time in --slurmArgs, else --slurmTime, else none). A host only takes a job whose walltime fits in its time left.",
  },
  {
    name: "slurmPlainJobs",
    kind: "string",
    section: S,
    env: "TOIL_SLURM_PLAIN_JOBS",
    valueName: "REGEX",
    help: "Jobs whose name or kind matches this regular expression (e.g. long or big ones) go out as Slurm jobs of their own instead of running on worker hosts.",
  },
  {
    name: "slurmPackJobs",
    kind: "int",
    section: S,
    env: "TOIL_SLURM_PACK_JOBS",
    default: 1,
    help: "Run up to this many jobs of a job array one after another in each array task, sharing one worker start (1: one job per task; more than 1 turns worker hosts off). Needs a shared --batchLogsDir.",
  },
];
