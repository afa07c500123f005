/**
 * Error classes of @toil/batch-core. Each extends {@link BatchSystemError} (itself a `ToilError`)
 * and sets a stable `code` starting with `BATCH_`; a batch plugin's own errors extend it too, with
 * codes in the plugin's namespace (`SLURM_...`).
 */
import { ToilError } from "@toil/job";

/** Base class of every error raised by `@toil/batch-core` and batch plugins built on it (a `ToilError`). */
export class BatchSystemError extends ToilError {
  static override readonly code: string = "BATCH_ERROR";
}

/** Options of {@link InsufficientSystemResources}. */
export interface InsufficientSystemResourcesInit {
  /** Name of the resource: "cores", "memory", "disk", "accelerators", ... */
  resource: string;
  /** What was asked for (a number, or a description such as "1 gpu"). */
  requested: number | string;
  /** The limit, or `null` when the resource is not available at all. */
  available: number | string | null;
  /** The job that asked, when known. */
  jobName?: string;
  /** The batch system that refused, e.g. "single_machine". */
  batchSystem?: string;
  /** Where the limit comes from, e.g. "--maxCores" or "this machine". */
  source?: string;
  /** Extra lines explaining the refusal. */
  details?: readonly string[];
  /**
   * What will let the job run, replacing the generic "Lower the job's ... requirement or raise the
   * batch system's limit." (say it when the limit cannot simply be raised, e.g. the machine's size).
   */
  advice?: string;
  /**
   * Options that, given a new value, let this job run (e.g. `--maxCores`), so `toil run --restart`
   * with them continues a stopped workflow. Empty when only changing the job (or the machine) helps.
   */
  restartOptions?: readonly string[];
}

function formatAmount(resource: string, value: number | string): string {
  if (typeof value === "string") return value;
  if (resource === "memory" || resource === "disk") return `${value} bytes (${humanBytes(value)})`;
  return String(value);
}

function humanBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[i]}`;
}

/**
 * A job asks for more of a resource than the batch system can ever give it. Raised by
 * `issueBatchJob` before anything runs; the message names the resource, the request and the limit.
 */
export class InsufficientSystemResources extends BatchSystemError {
  static override readonly code: string = "BATCH_INSUFFICIENT_RESOURCES";
  /** Name of the resource: "cores", "memory", "disk", "accelerators", ... */
  readonly resource: string;
  /** What was asked for (a number, or a description such as "1 gpu"). */
  readonly requested: number | string;
  /** The limit, or `null` when the resource is not available at all. */
  readonly available: number | string | null;
  /** The job that asked, when known. */
  readonly jobName: string | undefined;
  /** The batch system that refused, e.g. "single_machine". */
  readonly batchSystem: string | undefined;
  /** Where the limit comes from, e.g. "--maxCores" or "this machine". */
  readonly source: string | undefined;
  /** Extra lines explaining the refusal. */
  readonly details: readonly string[];
  /** Options that, given a new value, let this job run (see {@link InsufficientSystemResourcesInit.restartOptions}). */
  readonly restartOptions: readonly string[];

  constructor(init: InsufficientSystemResourcesInit) {
    const who = init.jobName ? `Job "${init.jobName}"` : "A job";
    const where = init.batchSystem ? ` on the ${init.batchSystem} batch system` : "";
    const limit =
      init.available === null
        ? `no ${init.resource} are available${where}`
        : `the limit${where} is ${formatAmount(init.resource, init.available)}` +
          (init.source ? ` (${init.source})` : "");
    const lines = [
      `${who} requests ${init.resource} = ${formatAmount(init.resource, init.requested)}, but ${limit}.`,
      init.advice ?? `Lower the job's ${init.resource} requirement or raise the batch system's limit.`,
      ...(init.details ?? []),
    ];
    super(lines.join(" "));
    this.resource = init.resource;
    this.requested = init.requested;
    this.available = init.available;
    this.jobName = init.jobName;
    this.batchSystem = init.batchSystem;
    this.source = init.source;
    this.details = init.details ?? [];
    this.restartOptions = init.restartOptions ?? [];
  }
}

/** Acquiring an amount of a resource from a {@link ResourcePool} or {@link ResourceSet} took longer than its timeout. */
export class AcquisitionTimeoutException extends BatchSystemError {
  static override readonly code: string = "BATCH_ACQUISITION_TIMEOUT";
  constructor(
    /** Name of the resource, e.g. "cores". */
    readonly resource: string,
    /** The amount that was waited for. */
    readonly requested: number | string,
    /** What was free when the wait gave up. */
    readonly available: number | string,
  ) {
    super(
      `Timed out acquiring ${requested} of ${resource}: only ${available} free. ` +
        `Release what other holders took, or raise the pool's size or timeout.`,
    );
  }
}

/** A plugin module or package does not provide a batch system that fits the contract. */
export class InvalidBatchSystemPluginError extends BatchSystemError {
  static override readonly code: string = "BATCH_INVALID_PLUGIN";
  constructor(
    /** The batch system name the plugin was loaded for. */
    readonly pluginName: string,
    /** Where it was loaded from (package, module path or factory). */
    readonly origin: string,
    /** What the class lacks. */
    readonly missing: readonly string[],
  ) {
    super(
      `Batch system plugin "${pluginName}" (${origin}) does not fit the BatchSystem contract: ` +
        `${missing.join("; ")}. ` +
        "Export the batch system class as the module's default export (a class with static " +
        "supportsAutoDeployment() and supportsWorkerCleanup() and the BatchSystem methods).",
    );
  }
}

/** A plugin module or package threw while it was imported (before its class could be checked). */
export class BatchSystemPluginLoadError extends BatchSystemError {
  static override readonly code: string = "BATCH_PLUGIN_LOAD";
  constructor(
    /** The batch system name the plugin was loaded for. */
    readonly pluginName: string,
    /** Where it was loaded from (package or module path). */
    readonly origin: string,
    /** What the import threw. */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      `Batch system plugin "${pluginName}" (${origin}) failed while it was imported: ${reason}. ` +
        "Fix the plugin or what it needs at import time (an environment variable, a file, a dependency), " +
        "or choose another --batchSystem.",
      options,
    );
  }
}

/** No batch system is known by this name, and no plugin package or module provides it. */
export class UnknownBatchSystemError extends BatchSystemError {
  static override readonly code: string = "BATCH_UNKNOWN_SYSTEM";
  constructor(
    /** The name that was asked for. */
    readonly batchSystemName: string,
    /** The registered names. */
    readonly known: readonly string[],
    /** The packages and paths that were also looked for. */
    readonly tried: readonly string[],
  ) {
    super(
      `Unknown batch system "${batchSystemName}". Registered: ${known.join(", ") || "(none)"}. ` +
        (tried.length ? `Also looked for ${tried.join(", ")}. ` : "") +
        `Install a plugin package named toil-batch-${batchSystemName.replace(/^@[^/]+\//, "")}, ` +
        "pass a module path (./my-plugin.js), or register it with addBatchSystemFactory().",
    );
  }
}

/** A plugin's declared option received a value it cannot use. */
export class BatchSystemOptionError extends BatchSystemError {
  static override readonly code: string = "BATCH_OPTION";
}

/** A batch system method was used after `shutdown()`. */
export class BatchSystemShutdownError extends BatchSystemError {
  static override readonly code: string = "BATCH_SHUT_DOWN";
}

/** Raised when a command, one of its arguments or an environment value cannot be passed to a process as it is. */
export class BatchCommandError extends BatchSystemError {
  static override readonly code: string = "BATCH_COMMAND";
}
