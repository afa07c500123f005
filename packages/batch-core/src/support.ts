import { readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type {
  BatchJobDescription,
  BatchMessageBus,
  BatchSystem,
  BatchSystemConfig,
  Environment,
  WorkerContextDescriptor,
} from "./batch-system.js";
import { checkEnvironment } from "./command.js";
import { BatchSystemError, InsufficientSystemResources } from "./errors.js";
import type { UpdatedBatchJobInfo } from "./exit.js";
import type { AcceleratorRequirement, Requirements } from "./requirements.js";
import type { CleanPolicy } from "@toil/job";

/** What `BatchSystemSupport.workerCleanup` needs to clean up a node after a workflow's last job there. */
export interface WorkerCleanupInfo {
  /** Work directory of the workflow on the node (default: the OS temp directory). */
  workDir?: string;
  /** Id of the workflow run. */
  workflowId: string;
  /** When to remove the per-workflow directory. */
  cleanWorkDir: CleanPolicy;
  /** Node-local coordination directory to remove, if any. */
  coordinationDir?: string;
  /**
   * Whether the workflow succeeded. Not needed by `workerCleanup` (each worker applies
   * `cleanWorkDir` to its own directory by its own outcome); kept for batch systems that report it.
   */
  succeeded?: boolean;
}

/**
 * Name of the per-workflow directory inside the work directory (and the coordination directory),
 * where workers make their temporary directories: `toilwf-<workflowId>`, as the worker names it.
 */
export function workflowDirName(workflowId: string): string {
  return `toilwf-${workflowId}`;
}

/** Entries a finished workflow leaves in its per-workflow directory that are not a worker's data. */
function isBookkeeping(name: string): boolean {
  return name === "deferred" || name.startsWith("cache-");
}

/**
 * Empty the per-workflow directory of what the run no longer needs and remove it when nothing else
 * is left. Workers' temporary directories are the run's data: removed only with `always` (live
 * workers remove their own per the policy, so those left belong to killed workers), kept otherwise,
 * since the policy kept them. Deferred-function state of dead workers is kept for whoever runs it.
 */
async function removeWorkflowDir(dir: string, removeWorkerDirs: boolean): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  let kept = 0;
  for (const name of names) {
    const p = join(dir, name);
    if (name === "deferred") {
      const pending = await readdir(p).catch(() => []);
      if (pending.length > 0) kept++;
      else await rm(p, { recursive: true, force: true });
    } else if (isBookkeeping(name) || removeWorkerDirs) {
      await rm(p, { recursive: true, force: true });
    } else {
      kept++;
    }
  }
  if (kept === 0) await rm(dir, { recursive: true, force: true });
}

/**
 * Partial implementation of {@link BatchSystem} with the parts every backend shares: limits
 * and resource checks, the batch environment, message-bus hookup, log-file naming and worker
 * cleanup. Subclasses implement issuing, killing, listing, reporting and shutdown.
 */
export abstract class BatchSystemSupport implements BatchSystem {
  /** Whether the batch system can deploy the user's module itself (default: no). */
  static supportsAutoDeployment(): boolean {
    return false;
  }

  /** Whether the batch system runs worker cleanup after a node's last job (default: no). */
  static supportsWorkerCleanup(): boolean {
    return false;
  }

  /** Environment applied to every job issued from now on (see `setEnv`). */
  protected readonly environment: Environment = {};
  /** The workflow run's id (from the config). */
  readonly workflowId: string;
  /** The message bus, once `setMessageBus` was called. */
  protected messageBus: BatchMessageBus | null = null;

  constructor(
    /** The workflow's batch-system settings. */
    readonly config: BatchSystemConfig,
    /** Most cores one job may ask for. */
    readonly maxCores: number,
    /** Most memory in bytes one job may ask for. */
    readonly maxMemory: number,
    /** Most disk in bytes one job may ask for. */
    readonly maxDisk: number,
  ) {
    if (!config || typeof config.workflowId !== "string" || config.workflowId === "") {
      throw new BatchSystemError(
        "A batch system needs a config with a non-empty workflowId (the leader assigns one when the workflow starts).",
      );
    }
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(config.workflowId) || config.workflowId.length > 200) {
      throw new BatchSystemError(
        `The workflowId ${JSON.stringify(config.workflowId)} cannot be used in file names: use letters, digits, "_", "." and "-" ` +
          "(no \"/\", no leading \".\"; the leader assigns a UUID).",
      );
    }
    this.workflowId = config.workflowId;
  }

  /** Name used in messages; defaults to the class's static `batchSystemName` or its class name. */
  get batchSystemName(): string {
    const ctor = this.constructor as { batchSystemName?: string; name: string };
    return ctor.batchSystemName ?? ctor.name;
  }

  abstract issueBatchJob(command: string, jobDesc: BatchJobDescription, jobEnvironment?: Environment): Promise<number>;
  abstract killBatchJobs(jobIds: readonly number[]): Promise<void>;
  abstract getIssuedBatchJobIds(): Promise<number[]>;
  abstract getRunningBatchJobIds(): Promise<Map<number, number>>;
  abstract getUpdatedBatchJob(maxWaitSeconds: number): Promise<UpdatedBatchJobInfo | null>;
  abstract shutdown(): Promise<void>;

  getSchedulingStatusMessage(): string | null {
    return null;
  }

  getWorkerContexts(): WorkerContextDescriptor[] {
    return [];
  }

  setMessageBus(bus: BatchMessageBus): void {
    this.messageBus = bus;
  }

  /** A copy of the batch environment. */
  getEnvironment(): Environment {
    return { ...this.environment };
  }

  setEnv(name: string, value?: string): void {
    if (!name || name.includes("=")) {
      throw new BatchSystemError(`Invalid environment variable name "${name}".`);
    }
    if (value === undefined) {
      const current = process.env[name];
      if (current === undefined) {
        throw new BatchSystemError(
          `setEnv("${name}") without a value copies the leader's value, but ${name} is not set in the leader's environment. Pass a value.`,
        );
      }
      value = current;
    }
    checkEnvironment({ [name]: value });
    this.environment[name] = value;
  }

  /**
   * Throws {@link InsufficientSystemResources} if the job asks for more cores, memory or disk
   * than this batch system's maxima, or for accelerators it cannot provide.
   */
  checkResourceRequest(jobDesc: Pick<BatchJobDescription, "jobName" | "requirements">, detail?: string): void {
    const req = jobDesc.requirements as Partial<Requirements> | undefined;
    const jobName = jobDesc.jobName;
    for (const key of ["cores", "memory", "disk"] as const) {
      const v = req?.[key];
      if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
        throw new BatchSystemError(
          `Job "${jobName}" has no valid ${key} requirement (got ${String(v)}); requirements need cores, memory and disk as numbers >= 0.`,
        );
      }
    }
    if (!Array.isArray(req?.accelerators)) {
      throw new BatchSystemError(`Job "${jobName}" has no accelerators list in its requirements (use [] for none).`);
    }
    const r = req as Requirements;
    const limits: [keyof Requirements & ("cores" | "memory" | "disk"), number, string][] = [
      ["cores", this.maxCores, "--maxCores"],
      ["memory", this.maxMemory, "--maxMemory"],
      ["disk", this.maxDisk, "--maxDisk"],
    ];
    for (const [resource, limit, flag] of limits) {
      if (r[resource] > limit) {
        throw new InsufficientSystemResources({
          resource,
          requested: r[resource],
          available: limit,
          jobName,
          batchSystem: this.batchSystemName,
          source: `the batch system's ${resource} limit; see ${flag}`,
          details: detail ? [detail] : [],
          restartOptions: [flag],
        });
      }
    }
    for (const acc of r.accelerators) this.checkAcceleratorRequest(acc, jobName, detail);
  }

  /**
   * Throws {@link InsufficientSystemResources} when an accelerator cannot be provided.
   * The default supports none; backends with accelerators override this.
   */
  protected checkAcceleratorRequest(requirement: AcceleratorRequirement, jobName: string, detail?: string): void {
    throw new InsufficientSystemResources({
      resource: "accelerators",
      requested: describeAccelerator(requirement),
      available: null,
      jobName,
      batchSystem: this.batchSystemName,
      details: [`The ${this.batchSystemName} batch system does not support accelerators.`, ...(detail ? [detail] : [])],
    });
  }

  /** Directory where the backend should write its std-out/err logs. */
  getBatchLogsDir(): string {
    return this.config.batchLogsDir ?? this.config.workDir ?? tmpdir();
  }

  /**
   * Path of a std-out/err (or other backend) file for a job:
   * `<batchLogsDir>/toil_<workflowId>.<toilJobId>.<clusterJobId>.<std>.log`, or `/dev/null`
   * when the config says `noStdOutErr`.
   */
  formatStdOutErrPath(toilJobId: number | string, clusterJobId: number | string, std: string): string {
    if (this.config.noStdOutErr) return "/dev/null";
    return join(this.getBatchLogsDir(), `toil_${this.workflowId}.${toilJobId}.${clusterJobId}.${std}.log`);
  }

  /** A glob matching every path `formatStdOutErrPath` makes for a job. */
  formatStdOutErrGlob(toilJobId: number | string): string {
    return join(this.getBatchLogsDir(), `toil_${this.workflowId}.${toilJobId}.*.log`);
  }

  /** The worker-cleanup description for this batch system's config. */
  protected workerCleanupInfo(succeeded?: boolean): WorkerCleanupInfo {
    return {
      workDir: this.config.workDir,
      workflowId: this.workflowId,
      cleanWorkDir: this.config.cleanWorkDir ?? "always",
      coordinationDir: this.config.coordinationDir,
      succeeded,
    };
  }

  /**
   * Cleans up a node after the workflow's last job there. Unless `cleanWorkDir` is `never`, the
   * per-workflow directory in the work directory loses what the run no longer needs (the cache,
   * empty bookkeeping) and goes when nothing else is left: each worker already removed its own
   * temporary directory per the policy, so what the policy keeps stays and nothing else does
   * (`always` also removes what killed workers left). The coordination directory is removed, all
   * but deferred-function state still waiting to run.
   * (Orphaned deferred functions are run by the file store when it next starts on the node.)
   */
  static async workerCleanup(info: WorkerCleanupInfo): Promise<void> {
    if (info.cleanWorkDir !== "never") {
      await removeWorkflowDir(join(info.workDir ?? tmpdir(), workflowDirName(info.workflowId)), info.cleanWorkDir === "always");
    }
    if (info.coordinationDir) {
      // Whatever the policy (it is not the run's data), but not deferred functions still to run.
      await removeWorkflowDir(join(info.coordinationDir, workflowDirName(info.workflowId)), true);
    }
  }
}

/** "2 gpu (cuda, A100)" style description of an accelerator requirement. */
export function describeAccelerator(a: AcceleratorRequirement): string {
  const extra = [a.api, a.brand, a.model].filter(Boolean).join(", ");
  return `${a.count} ${a.kind}${extra ? ` (${extra})` : ""}`;
}
