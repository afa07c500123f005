/**
 * Error classes of @toil/batch-slurm. Each extends {@link SlurmError} (a `BatchSystemError`, so a
 * `ToilError`) and sets a stable `code` starting with `SLURM_`.
 */
import { BatchSystemError } from "@toil/batch-core";

/** Base class of the errors raised by the Slurm batch system. */
export class SlurmError extends BatchSystemError {
  static override readonly code: string = "SLURM_ERROR";
}

/** `--slurmArgs` / `TOIL_SLURM_ARGS` contain something Toil cannot combine with its own flags. */
export class SlurmArgsError extends SlurmError {
  static override readonly code: string = "SLURM_ARGS";
}

/** A Slurm option value (flag or `TOIL_SLURM_*` variable) cannot be used. */
export class SlurmOptionError extends SlurmError {
  static override readonly code: string = "SLURM_OPTION";
}

/** A time such as `1-02:30:00` could not be read. */
export class SlurmTimeFormatError extends SlurmError {
  static override readonly code: string = "SLURM_TIME_FORMAT";
}

/** Slurm reported a job state this plugin does not know. */
export class UnknownSlurmStateError extends SlurmError {
  static override readonly code: string = "SLURM_UNKNOWN_STATE";
  constructor(
    /** The state as Slurm reported it. */
    readonly state: string,
    /** The Slurm job it was reported for. */
    readonly slurmJobId: string,
  ) {
    super(
      `Slurm reported state "${state}" for job ${slurmJobId}, which the Slurm batch system does not know. ` +
        "It cannot tell whether the job is still running. Please report this state (with `scontrol show job " +
        `${slurmJobId}\` output) so it can be mapped.`,
    );
  }
}

/** No partition from `sinfo` can run a job for as long as it asks. */
export class NoSuitablePartitionError extends SlurmError {
  static override readonly code: string = "SLURM_NO_PARTITION";
  constructor(
    /** The time limit the job asks for. */
    readonly timeLimitSeconds: number,
    /** The partitions sinfo listed. */
    readonly partitions: readonly string[],
    /** Whether the job needs GPUs. */
    readonly gpu: boolean,
  ) {
    super(
      gpu
        ? `No Slurm partition with GPUs can run a job for ${timeLimitSeconds} seconds ` +
            `(partitions seen by sinfo: ${partitions.join(", ") || "none"}; GPU partitions are those whose nodes list GRES). ` +
            "Name the GPU partition with --slurmGPUPartition, or lower the job's time limit."
        : `No Slurm partition can run a job for ${timeLimitSeconds} seconds ` +
            `(partitions seen by sinfo: ${partitions.join(", ") || "none"}). ` +
            "Lower the job's time limit (--slurmTime or the job's walltime), or name a partition with --slurmPartition.",
    );
  }
}

/** A Slurm command could not be run, or kept failing until `--statePollingTimeout`. */
export class SlurmCommandError extends SlurmError {
  static override readonly code: string = "SLURM_COMMAND";
  constructor(
    message: string,
    /** The command, e.g. `sbatch`. */
    readonly command: string,
    /** Its arguments. */
    readonly args: readonly string[],
    /** Its exit status, or null when it could not be started. */
    readonly exitCode: number | null,
    /** What it wrote to stderr. */
    readonly stderr: string,
    options?: { cause?: unknown; spawnCode?: string },
  ) {
    super(message, options);
    this.spawnCode = options?.spawnCode;
  }
  /** The errno code when the command could not be started at all (`ENOENT`, `E2BIG`). */
  readonly spawnCode: string | undefined;
}
