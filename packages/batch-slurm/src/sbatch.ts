import type { AcceleratorRequirement, Requirements } from "@toil/batch-core";
import { SlurmArgsError } from "./errors.js";
import { parseSlurmTime } from "./time.js";

/** `--slurmArgs` taken apart: values Toil must honour, and the rest passed to sbatch as they are. */
export interface ParsedSlurmArgs {
  /** Arguments passed through unchanged, in order. */
  passthrough: string[];
  /** `--time` / `-t`, in seconds. */
  time?: number;
  /** `--partition` / `-p`. */
  partition?: string;
  /** `--qos` / `-q`. */
  qos?: string;
  /** The value of a user `--export=...` (replaces Toil's `ALL`). */
  exportValue?: string;
  /** A user `--export-file` was given (Toil then adds no `--export`). */
  exportFile: boolean;
}

/** A matcher for one sbatch option in its long (`--x`, `--x=v`) and short (`-x`, `-xv`) forms. */
function option(long: string, short?: string): (arg: string) => boolean {
  return (arg) =>
    arg === `--${long}` ||
    arg.startsWith(`--${long}=`) ||
    (short !== undefined && (arg === `-${short}` || (arg.startsWith(`-${short}`) && !arg.startsWith("--"))));
}

const CONFLICTS: [string, (arg: string) => boolean, string][] = [
  ["memory", option("mem"), "--mem"],
  ["memory", option("mem-per-cpu"), "--mem-per-cpu"],
  ["memory", option("mem-per-gpu"), "--mem-per-gpu"],
  ["cpus", option("cpus-per-task", "c"), "--cpus-per-task/-c"],
  ["cpus", option("cpus-per-gpu"), "--cpus-per-gpu"],
];

const MANAGED: [(arg: string) => boolean, string][] = [
  [option("array", "a"), "--array (Toil groups jobs into arrays itself; see --slurmArrays)"],
  [option("wrap"), "--wrap (Toil runs the worker command itself)"],
  [option("parsable"), "--parsable (Toil reads sbatch's output itself)"],
];

/** Value of an option at `args[i]`: `--x=v`, `-xv`, or the next word. Returns [value, last index used]. */
function takeValue(args: readonly string[], i: number, long: string, short?: string): [string, number] {
  const arg = args[i] as string;
  if (arg.startsWith(`--${long}=`)) return [arg.slice(long.length + 3), i];
  if (short !== undefined && arg.startsWith(`-${short}`) && arg.length > short.length + 1 && !arg.startsWith("--")) {
    return [arg.slice(short.length + 1), i];
  }
  const next = args[i + 1];
  if (next === undefined) throw new SlurmArgsError(`Slurm argument ${arg} needs a value (in --slurmArgs / TOIL_SLURM_ARGS).`);
  return [next, i + 1];
}

/**
 * Takes user sbatch arguments apart with Toil's rules: memory and CPU flags are refused (Toil sets
 * them from the job's requirements); `--time`, `--partition`, `--qos` are pulled out and override
 * Toil's values; `--export=...` replaces Toil's `ALL`; `--export-file` suppresses it; anything
 * else is passed through.
 */
export function parseSlurmArgs(args: readonly string[]): ParsedSlurmArgs {
  const out: ParsedSlurmArgs = { passthrough: [], exportFile: false };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    for (const [what, matches, flag] of CONFLICTS) {
      if (matches(arg)) {
        throw new SlurmArgsError(
          `--slurmArgs / TOIL_SLURM_ARGS contains ${arg}, but Toil sets the ${what} of each Slurm job from the ` +
            `job's requirements (${flag}). Remove it and set the job's ${what === "memory" ? "memory" : "cores"} ` +
            "requirement instead (or --slurmAllocateMem false to send no memory at all).",
        );
      }
    }
    for (const [matches, why] of MANAGED) {
      if (matches(arg)) throw new SlurmArgsError(`--slurmArgs / TOIL_SLURM_ARGS may not contain ${why}; found ${arg}.`);
    }
    if (option("time", "t")(arg)) {
      const [v, j] = takeValue(args, i, "time", "t");
      out.time = parseSlurmTime(v);
      i = j;
    } else if (option("partition", "p")(arg)) {
      const [v, j] = takeValue(args, i, "partition", "p");
      out.partition = v;
      i = j;
    } else if (option("qos", "q")(arg)) {
      const [v, j] = takeValue(args, i, "qos", "q");
      out.qos = v;
      i = j;
    } else if (option("export-file")(arg)) {
      out.exportFile = true;
      out.passthrough.push(arg);
      if (!arg.includes("=")) {
        const next = args[i + 1];
        if (next === undefined) throw new SlurmArgsError("Slurm argument --export-file needs a value.");
        out.passthrough.push(next);
        i++;
      }
    } else if (option("export")(arg)) {
      const [v, j] = takeValue(args, i, "export");
      out.exportValue = v;
      i = j;
    } else {
      out.passthrough.push(arg);
    }
  }
  return out;
}

/** Everything needed to decide one job's sbatch arguments (except its name, logs and command). */
export interface SbatchRequest {
  /** The job's resource requirements. */
  requirements: Requirements;
  /** Job's own time limit in seconds, if any. */
  walltime?: number;
  /** Environment variables the job needs on top of the submitting environment. */
  environment: Record<string, string>;
}

/** Resolved settings that shape sbatch arguments (see {@link resolveSlurmSettings}). */
export interface SbatchSettings {
  /** Pass the job's memory as `--mem`. */
  allocateMem: boolean;
  /** Jobs with the default memory get a whole node's memory (`--mem=0`). */
  defaultAllMem: boolean;
  /** Time limit of every job in seconds, overriding the job's own. */
  time: number | undefined;
  /** Partition for jobs (undefined: chosen automatically). */
  partition: string | undefined;
  /** Partition for jobs that need GPUs. */
  gpuPartition: string | undefined;
  /** Partition for jobs that need more than one core. */
  pe: string | undefined;
  /** Quality of service for jobs. */
  qos: string | undefined;
  /** Quality of service for jobs that need GPUs. */
  gpuQos: string | undefined;
  /** Ask for memory per CPU (`--mem-per-cpu`) instead of per job. */
  memoryIsProduct: boolean;
  /** The workflow's default memory, to recognise jobs that did not ask (for `defaultAllMem`). */
  defaultMemory: number | undefined;
}

/** Picks a partition automatically (from sinfo) for a time limit and GPU need; `undefined` = Slurm's default. */
export type PartitionChooser = (timeLimitSeconds: number | undefined, gpu: boolean) => string | undefined;

const MiB = 1024 * 1024;

/** Number of GPUs a job asks for (only `kind: "gpu"` accelerators exist on Slurm). */
export function gpuCount(accelerators: readonly AcceleratorRequirement[]): number {
  let n = 0;
  for (const a of accelerators) if (a.kind === "gpu") n += a.count;
  return n;
}

/**
 * The sbatch arguments that depend on a job's requirements and the settings, in Toil's order:
 * user pass-through arguments, `--export`, `--partition`, `--qos`, `--gres`, `--mem`,
 * `--cpus-per-task`, `--time`. Jobs whose resource arguments are equal may share a job array.
 */
export function resourceArgs(
  request: SbatchRequest,
  settings: SbatchSettings,
  user: ParsedSlurmArgs,
  choosePartition: PartitionChooser,
): string[] {
  const req = request.requirements;
  const args = [...user.passthrough];
  const gpus = gpuCount(req.accelerators);

  if (user.exportValue !== undefined) {
    const extra = Object.entries(request.environment).map(([k, v]) => {
      if (v.includes(",")) {
        throw new SlurmArgsError(
          `Environment variable ${k} has a comma in its value, which cannot be passed through --export=${user.exportValue}. ` +
            "Remove --export from --slurmArgs (Toil then passes the environment itself) or drop the comma.",
        );
      }
      return `${k}=${v}`;
    });
    args.push(`--export=${[user.exportValue, ...extra].join(",")}`);
  } else if (!user.exportFile) {
    // The job's own variables travel in sbatch's environment (see SlurmBatchSystem), so any value works.
    args.push("--export=ALL");
  }

  const time = user.time ?? settings.time ?? (request.walltime && request.walltime > 0 ? request.walltime : undefined);
  const cpus = Math.max(1, Math.ceil(req.cores));
  let partition = user.partition;
  if (partition === undefined && gpus > 0) partition = settings.gpuPartition;
  if (partition === undefined && cpus > 1) partition = settings.pe;
  if (partition === undefined) partition = settings.partition;
  if (partition === undefined) partition = choosePartition(time, gpus > 0);
  if (partition !== undefined) args.push(`--partition=${partition}`);

  const qos = user.qos ?? (gpus > 0 ? (settings.gpuQos ?? settings.qos) : settings.qos);
  if (qos !== undefined) args.push(`--qos=${qos}`);
  if (gpus > 0) args.push(`--gres=gpu:${gpus}`);

  if (settings.allocateMem) {
    const isDefault = settings.defaultMemory !== undefined && req.memory === settings.defaultMemory;
    if (settings.defaultAllMem && isDefault) {
      args.push("--mem=0");
    } else if (req.memory > 0) {
      if (settings.memoryIsProduct) args.push(`--mem-per-cpu=${Math.ceil(req.memory / cpus / MiB)}M`);
      else args.push(`--mem=${Math.ceil(req.memory / MiB)}M`);
    }
  }
  args.push(`--cpus-per-task=${cpus}`);
  if (time !== undefined && time > 0) args.push(`--time=0:${Math.ceil(time)}`);
  return args;
}

/** A Slurm job name from Toil's parts: `toil_job_<id>_<kind>`, limited to safe characters. */
export function slurmJobName(prefix: string, id: number, kind: string | undefined): string {
  const clean = (kind ?? "job").replace(/[^A-Za-z0-9_.-]+/g, "_").slice(0, 64) || "job";
  return `${prefix}_${id}_${clean}`;
}

/** Escapes `%` for Slurm's file name patterns (`%j` etc. stay Slurm's). */
export function escapeSlurmPattern(path: string): string {
  return path.replace(/%/g, "%%");
}
