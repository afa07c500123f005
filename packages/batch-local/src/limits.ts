/**
 * The single-machine batch system's limits: the requested maxima capped to what this machine has,
 * and, when a job cannot fit, what will let it run. A limit the user set below the machine's size
 * can be raised (`--maxCores`, `--maxMemory`, `--maxDisk`); the machine's own size cannot (a higher
 * `--maxCores` is capped again), so then the advice is to scale the cores down (`--scale`), lower the
 * job's requirement, or use a cluster batch system.
 */
import { statfsSync } from "node:fs";
import { availableParallelism, tmpdir, totalmem } from "node:os";
import { BatchSystemError, InsufficientSystemResources, type BatchSystemConfig } from "@toil/batch-core";

/** The maxima a single-machine batch system schedules with, and what they were capped by. */
export interface Limits {
  maxCores: number;
  maxMemory: number;
  maxDisk: number;
  /** Warnings about limits that were capped to what the machine has. */
  warnings: string[];
  /** What this machine has: CPUs, physical memory, free disk in the work directory (null: unknown). */
  machine: { cpus: number; memory: number; disk: number | null };
  /** The work directory whose free space limits disk. */
  workDir: string;
}

/** Free bytes on the filesystem holding `dir` (or `null` when unknown). */
function freeDiskOf(dir: string): number | null {
  try {
    const s = statfsSync(dir);
    return s.bavail * s.bsize;
  } catch {
    return null;
  }
}

/** Cap the requested maxima to this machine (as Toil's single machine batch system does). */
export function capLimits(config: BatchSystemConfig, maxCores: number, maxMemory: number, maxDisk: number): Limits {
  const warnings: string[] = [];
  const cpus = availableParallelism();
  if (!(maxCores > 0)) throw new BatchSystemError(`maxCores must be > 0 (got ${maxCores}).`);
  if (maxCores > cpus) {
    if (Number.isFinite(maxCores)) warnings.push(`Limiting maxCores to ${cpus}: this machine has ${cpus} cores, not ${maxCores}.`);
    maxCores = cpus;
  }
  const mem = totalmem();
  if (!(maxMemory > 0)) throw new BatchSystemError(`maxMemory must be > 0 (got ${maxMemory}).`);
  if (maxMemory > mem) {
    if (Number.isFinite(maxMemory)) warnings.push(`Limiting maxMemory to ${mem} bytes: this machine has no more.`);
    maxMemory = mem;
  }
  const workDir = config.workDir ?? tmpdir();
  const free = freeDiskOf(workDir);
  if (!(maxDisk > 0)) throw new BatchSystemError(`maxDisk must be > 0 (got ${maxDisk}).`);
  if (free !== null && maxDisk > free) {
    if (Number.isFinite(maxDisk)) warnings.push(`Limiting maxDisk to ${free} bytes: that is the free space of the work directory.`);
    maxDisk = free;
  }
  return { maxCores, maxMemory, maxDisk, warnings, machine: { cpus, memory: mem, disk: free }, workDir };
}

/** A `--scale` value, rounded down to 3 significant digits, that brings `cores` to at most `limit`. */
function scaleFor(cores: number, limit: number): string {
  const exact = limit / cores;
  const digits = Math.max(0, 2 - Math.floor(Math.log10(exact)));
  const factor = 10 ** digits;
  return String(Math.floor(exact * factor) / factor);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/**
 * Restate a refusal of the generic check (which names only the limit) with where the limit comes
 * from on this machine and what will let the job run. `cores` is the job's own request, `scale` the
 * batch system's `--scale`.
 */
export function explainLimit(
  err: InsufficientSystemResources,
  limits: Limits,
  cores: number,
  scale: number,
  batchSystem: string,
): InsufficientSystemResources {
  const { machine } = limits;
  const base = { resource: err.resource, requested: err.requested, available: err.available, batchSystem, details: err.details };
  const job = err.jobName;
  const init = (source: string, advice: string, restartOptions: string[]) =>
    new InsufficientSystemResources({ ...base, ...(job === undefined ? {} : { jobName: job }), source, advice, restartOptions });
  const scaled = typeof err.requested === "number" ? err.requested : cores;
  const scaleNote = scale === 1 ? "" : ` (its ${cores} cores scaled by --scale ${scale})`;
  switch (err.resource) {
    case "cores": {
      // Cores are scheduled in whole tenths: the usable limit is the maximum rounded down to one.
      const usable = Math.floor(limits.maxCores * 10 + 1e-9) / 10;
      const scaleDown = `--scale ${scaleFor(cores, scaled > machine.cpus ? machine.cpus : usable)}`;
      if (scaled > machine.cpus) {
        return init(
          `this machine has ${plural(machine.cpus, "CPU")}; the single_machine batch system never uses more, whatever --maxCores says${scaleNote}`,
          `Lower the job's cores to ${machine.cpus} or fewer, scale every job's cores down with ${scaleDown}, ` +
            "or run the workflow on a cluster batch system (for example --batchSystem slurm).",
          ["--scale"],
        );
      }
      return init(
        `--maxCores${scaleNote}`,
        `Raise --maxCores (this machine has ${plural(machine.cpus, "CPU")}), scale every job's cores down with ${scaleDown}, or lower the job's cores.`,
        ["--maxCores", "--scale"],
      );
    }
    case "memory":
      if (typeof err.requested === "number" && err.requested > machine.memory) {
        return init(
          "the physical memory of this machine; the single_machine batch system never uses more, whatever --maxMemory says",
          "Lower the job's memory, or run the workflow on a cluster batch system (for example --batchSystem slurm).",
          [],
        );
      }
      return init("--maxMemory", "Raise --maxMemory (up to the machine's physical memory), or lower the job's memory.", ["--maxMemory"]);
    case "disk":
      if (machine.disk !== null && typeof err.requested === "number" && err.requested > machine.disk) {
        return init(
          `the free space of the work directory ${limits.workDir}`,
          "Free space there, give a --workDir on a larger filesystem, or lower the job's disk.",
          ["--workDir"],
        );
      }
      return init("--maxDisk", "Raise --maxDisk (up to the free space of the work directory), or lower the job's disk.", ["--maxDisk"]);
    default:
      return err;
  }
}
