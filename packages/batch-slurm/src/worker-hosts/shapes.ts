/**
 * Host shapes: the Slurm allocation a worker host asks for (partition, QOS, GPUs, memory, CPUs,
 * time limit). A job runs only on a host of exactly its own shape, so Slurm's limits of the host
 * are the job's own, as they would be for a Slurm job of its own.
 */
import type { BatchJobDescription } from "@toil/batch-core";
import type { SlurmSettings } from "../options.js";
import { type ParsedSlurmArgs, type PartitionChooser, resourceArgs } from "../sbatch.js";

/** The allocation of a worker host. */
export interface HostShape {
  /** Equal for equal shapes. */
  key: string;
  /** The sbatch resource arguments of a host of this shape. */
  args: string[];
  /** The hosts' time limit in seconds, if they have one. */
  timeLimit: number | undefined;
  /** For people: "1 CPU, 64M memory, partition debug". */
  label: string;
}

/** Seconds a host keeps free before its time limit: Slurm's warning (`--signal=B:INT@30`) plus slack. */
export const TIME_LIMIT_MARGIN_SECONDS = 45;

/** The time limit of worker hosts: `--slurmWorkerTime`, else `--time` in `--slurmArgs`, else `--slurmTime`. */
export function hostTimeLimit(settings: SlurmSettings, user: ParsedSlurmArgs): number | undefined {
  return settings.workerTime ?? user.time ?? settings.time;
}

/** The shape of the host a job runs on. */
export function hostShapeOf(
  desc: BatchJobDescription,
  settings: SlurmSettings,
  user: ParsedSlurmArgs,
  choosePartition: PartitionChooser,
): HostShape {
  const timeLimit = hostTimeLimit(settings, user);
  // The job's variables travel with each job, not with the host; its own walltime is checked
  // against the host's time left when it is handed out.
  const args = resourceArgs(
    { requirements: desc.requirements, environment: {} },
    { ...settings, time: timeLimit },
    { ...user, time: undefined },
    choosePartition,
  );
  return { key: JSON.stringify(args), args, timeLimit, label: shapeLabel(args) };
}

/** "2 CPUs, 1024M memory, 1 GPU, partition gpu, 2:00:00". */
export function shapeLabel(args: readonly string[]): string {
  const value = (flag: string): string | undefined => {
    const a = args.find((x) => x.startsWith(`${flag}=`));
    return a === undefined ? undefined : a.slice(flag.length + 1);
  };
  const parts: string[] = [];
  const cpus = value("--cpus-per-task");
  if (cpus) parts.push(`${cpus} CPU${cpus === "1" ? "" : "s"}`);
  const mem = value("--mem");
  if (mem) parts.push(mem === "0" ? "a whole node's memory" : `${mem} memory`);
  const memPerCpu = value("--mem-per-cpu");
  if (memPerCpu) parts.push(`${memPerCpu} memory per CPU`);
  const gres = value("--gres");
  if (gres?.startsWith("gpu:")) parts.push(`${gres.slice(4)} GPU${gres === "gpu:1" ? "" : "s"}`);
  const partition = value("--partition");
  if (partition) parts.push(`partition ${partition}`);
  const qos = value("--qos");
  if (qos) parts.push(`QOS ${qos}`);
  const time = value("--time");
  if (time) parts.push(`time limit ${formatSeconds(Number(time.replace(/^0:/, "")))}`);
  return parts.join(", ");
}

function formatSeconds(s: number): string {
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.round(s % 60);
  return `${h}:${String(m).padStart(2, "0")}:${String(sec).padStart(2, "0")}`;
}

/** Why a job does not run on a worker host, or `null` when it does. */
export function plainReason(desc: BatchJobDescription, settings: SlurmSettings, user: ParsedSlurmArgs): string | null {
  if (!settings.workers) return "--no-slurmWorkers";
  if (settings.packJobs > 1) return "--slurmPackJobs";
  if (settings.plainJobs && (settings.plainJobs.test(desc.jobName) || (desc.jobKind !== undefined && settings.plainJobs.test(desc.jobKind)))) {
    return "--slurmPlainJobs";
  }
  const walltime = desc.walltime && desc.walltime > 0 ? desc.walltime : undefined;
  if (walltime !== undefined) {
    const limit = hostTimeLimit(settings, user);
    // Without a host time limit, Slurm would not enforce the job's own: it goes out on its own.
    if (limit === undefined || walltime + TIME_LIMIT_MARGIN_SECONDS > limit) return "its walltime";
  }
  return null;
}
