import { mkdirSync } from "node:fs";
import {
  type AcceleratorRequirement,
  type BatchJobDescription,
  type BatchSystemClass,
  type BatchSystemConfig,
  type BatchSystemOptionSpec,
  BatchSystemShutdownError,
  BatchSystemSupport,
  checkArgv,
  checkEnvironment,
  type Environment,
  getBatchSystem,
  hasBatchSystem,
  plainCommandWords,
  singleQuote,
  InsufficientSystemResources,
  shellCommand,
  type UpdatedBatchJobInfo,
} from "@toil/batch-core";
import type { SlurmContext } from "./context.js";
import { SlurmOptionError } from "./errors.js";
import { LocalJobRouter } from "./local-jobs.js";
import { resolveSlurmSettings, SLURM_OPTIONS, type SlurmConfigExtras, type SlurmSettings } from "./options.js";
import { PartitionSet } from "./partitions.js";
import { PlainJobs } from "./plain-jobs.js";
import { type CommandRunner, spawnCommand } from "./runner.js";
import { runtimeScript } from "./runtime-scripts.js";
import { type ParsedSlurmArgs, parseSlurmArgs, resourceArgs } from "./sbatch.js";
import { processWarning, SlurmCommands, type Warn } from "./slurm-commands.js";
import type { TrackedJob } from "./tracked-job.js";
import { UpdateQueue } from "./update-queue.js";
import { type HostShape, hostShapeOf, plainReason } from "./worker-hosts/shapes.js";
import { WorkerHosts } from "./worker-hosts/worker-hosts.js";

/** Extra constructor options of {@link SlurmBatchSystem} (beyond the batch-system contract). */
export interface SlurmBatchSystemOptions {
  /** Runs Slurm commands (default: spawn without a shell). Wrap it to count or log calls. */
  runner?: CommandRunner;
  /** Environment the `TOIL_SLURM_*` variables are read from (default: `process.env`). */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * Where jobs marked `local` run. Default: the `single_machine` batch system from the
   * batch-core registry, created on the first local job.
   */
  localBatchSystem?: () => Promise<BatchSystemClass>;
  /** Directories the registry searches for the `single_machine` package (default: the registry's). */
  localSearchFrom?: readonly string[];
  /** The script each worker host runs (default: this package's `runtime/worker-host.mjs`). */
  workerHostScript?: string;
  /**
   * Where the plugin's warnings go (the leader passes its logger, so they reach the run's log file),
   * and the `single_machine` batch system's messages about jobs marked `local`. Default: Node
   * process warnings (`ToilSlurmWarning`).
   */
  logger?: (level: "warn" | "info", message: string) => void;
  /**
   * Receives the stdout/stderr of jobs marked `local` (they run on the leader's machine), as the
   * `single_machine` batch system's option of that name: the leader prints them above its progress
   * bar, and no local job writes into a pipe the user closed. Jobs on Slurm write to their log files.
   */
  output?: (stream: "stdout" | "stderr", chunk: Buffer) => void;
}

/**
 * Runs Toil jobs on a Slurm cluster. By default they run on warm worker hosts: Slurm jobs that
 * each run jobs of one shape one after another until idle. With `--no-slurmWorkers` (or job
 * packs) each job is a Slurm job of its own, and ready jobs with identical requirements are
 * submitted together as one job array. Everything is watched with one `squeue` (plus one `sacct`
 * for jobs squeue has forgotten) per poll and killed with `scancel`. Jobs marked `local` run on
 * the leader's machine through the `single_machine` batch system.
 *
 * @example
 * const bs = new SlurmBatchSystem({ workflowId: "wf", batchLogsDir: "/shared/logs" }, 64, 2 ** 40, 2 ** 40);
 * const id = await bs.issueBatchJob("toil-worker file:/shared/js abc", { jobName: "align", requirements });
 * const info = await bs.getUpdatedBatchJob(60);
 */
export class SlurmBatchSystem extends BatchSystemSupport {
  /** The name this batch system is registered under. */
  static readonly batchSystemName = "slurm";
  /** The options this plugin adds to the workflow config (`--slurm*`). */
  static readonly options: readonly BatchSystemOptionSpec[] = SLURM_OPTIONS;

  /** The resolved Slurm settings. */
  readonly settings: SlurmSettings;
  private readonly userArgs: ParsedSlurmArgs;
  private readonly slurm: SlurmCommands;
  private readonly warn: Warn;
  private readonly updates = new UpdateQueue();
  private readonly local: LocalJobRouter;
  private readonly plain: PlainJobs;
  private readonly hosts: WorkerHosts;
  private readonly statusParts = new Map<string, string>();
  private readonly shapes = new Map<string, HostShape>();

  private nextId = 1;
  private lock: Promise<unknown> = Promise.resolve();
  private loopPromise: Promise<void> | undefined;
  private wakeLoop: (() => void) | undefined;
  private stopped = false;

  constructor(
    config: BatchSystemConfig,
    maxCores: number,
    maxMemory: number,
    maxDisk: number,
    options: SlurmBatchSystemOptions = {},
  ) {
    super(config, maxCores, maxMemory, maxDisk);
    this.settings = resolveSlurmSettings(config, options.env ?? process.env);
    this.userArgs = parseSlurmArgs(this.settings.args);
    const logger = options.logger;
    this.warn = logger ? (message) => logger("warn", message) : processWarning;
    this.slurm = new SlurmCommands(options.runner ?? spawnCommand, this.settings, () => this.stopped, this.warn);
    const localFactory =
      options.localBatchSystem ??
      // The leader registers single_machine; a program using this package alone finds it by package name.
      (() =>
        getBatchSystem(
          hasBatchSystem("single_machine") ? "single_machine" : "@toil/batch-local",
          options.localSearchFrom ? { searchFrom: options.localSearchFrom } : {},
        ));
    this.local = new LocalJobRouter(
      {
        config,
        maxCores,
        maxMemory,
        maxDisk,
        bus: () => this.messageBus ?? undefined,
        newId: () => this.nextId++,
        report: (info) => this.updates.push(info),
        fail: (err) => this.updates.fail(err),
        stopped: () => this.stopped,
        localOptions: {
          ...(options.logger ? { logger: options.logger } : {}),
          ...(options.output ? { output: options.output } : {}),
        },
      },
      localFactory,
    );
    const ctx: SlurmContext = {
      settings: this.settings,
      slurm: this.slurm,
      updates: this.updates,
      exclusive: (fn) => this.exclusive(fn),
      bus: () => this.messageBus ?? undefined,
      logPath: (jobId, clusterId, std) => this.formatStdOutErrPath(jobId, clusterId, std),
      logNaming: () => ({ dir: this.getBatchLogsDir(), workflowId: this.workflowId, discard: this.config.noStdOutErr === true }),
      stopped: () => this.stopped,
      warn: this.warn,
      setStatus: (part, message) => {
        if (message === null) this.statusParts.delete(part);
        else this.statusParts.set(part, message);
      },
    };
    this.plain = new PlainJobs(ctx, () => this.hosts.alive);
    this.hosts = new WorkerHosts(
      ctx,
      {
        runPlain: (job) => this.plain.add(this.plainJob(job.id, job.command, job.desc, job.env, this.slurm.partitions ?? new PartitionSet([]))),
        wake: () => this.wakeLoop?.(),
        plainInSlurm: () => this.plain.submittedCount(),
        plainPending: () => this.plain.lastPollCounts().pending,
        jobStore: typeof (config as { jobStore?: unknown }).jobStore === "string" ? (config as { jobStore: string }).jobStore : undefined,
        workflowId: this.workflowId,
        batchLogsDir: this.getBatchLogsDir(),
      },
      options.workerHostScript ?? runtimeScript("worker-host.mjs"),
    );
    if (!config.noStdOutErr) {
      // Slurm reads -o/-e as patterns where a backslash turns patterns off and is dropped: such a
      // directory cannot be named to Slurm literally.
      if (this.getBatchLogsDir().includes("\\")) {
        throw new SlurmOptionError(
          `The batch logs directory ${JSON.stringify(this.getBatchLogsDir())} contains a backslash, which Slurm does not ` +
            "accept literally in log file names. Pass --batchLogsDir with a directory without backslashes (or --noStdOutErr).",
        );
      }
      mkdirSync(this.getBatchLogsDir(), { recursive: true, mode: 0o700 });
    }
  }

  static override supportsAutoDeployment(): boolean {
    return false;
  }

  static override supportsWorkerCleanup(): boolean {
    return false;
  }

  // ---------------------------------------------------------------- issuing

  async issueBatchJob(command: string, jobDesc: BatchJobDescription, jobEnvironment?: Environment): Promise<number> {
    this.checkUsable();
    this.checkResourceRequest(jobDesc);
    const env: Environment = { ...this.environment, ...(jobEnvironment ?? {}) };
    checkEnvironment(env, jobDesc.jobName);
    if (jobDesc.argv !== undefined) checkArgv(jobDesc.argv, jobDesc.jobName);
    if (jobDesc.local && (this.config as SlurmConfigExtras).runLocalJobsOnWorkers !== true) return this.local.issue(command, jobDesc, env);

    const partitions = await this.slurm.partitionSet();
    const id = this.nextId++;
    const onHost = plainReason(jobDesc, this.settings, this.userArgs) === null && !this.hosts.disabled;
    if (onHost) {
      const argv = jobDesc.argv === undefined ? plainCommandWords(command) : [...jobDesc.argv];
      this.hosts.add({
        id,
        desc: jobDesc,
        argv,
        command: jobDesc.argv === undefined ? command : shellCommand(jobDesc.argv),
        env,
        shape: this.shapeOf(jobDesc, partitions),
        need: jobDesc.walltime && jobDesc.walltime > 0 ? jobDesc.walltime : 0,
        freeReissues: 0,
      });
    } else {
      this.plain.add(this.plainJob(id, command, jobDesc, env, partitions));
    }
    this.ensureLoop();
    this.wakeLoop?.();
    return id;
  }

  /** The host shape of a job (the same for equal requirements: computed once). */
  private shapeOf(jobDesc: BatchJobDescription, partitions: PartitionSet): HostShape {
    const key = JSON.stringify(jobDesc.requirements);
    let shape = this.shapes.get(key);
    if (!shape) {
      shape = hostShapeOf(jobDesc, this.settings, this.userArgs, (time, gpu) => partitions.choose(time, gpu));
      this.shapes.set(key, shape);
    }
    return shape;
  }

  /** A job to run as a Slurm job of its own. */
  private plainJob(id: number, command: string, jobDesc: BatchJobDescription, env: Environment, partitions: PartitionSet): TrackedJob {
    const args = resourceArgs(
      { requirements: jobDesc.requirements, walltime: jobDesc.walltime, environment: env },
      this.settings,
      this.userArgs,
      (time, gpu) => partitions.choose(time, gpu),
    );
    const envKey = Object.entries(env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const argv = jobDesc.argv === undefined ? undefined : [...jobDesc.argv];
    return {
      id,
      // Never trust the display form when there is an argv: the script line is rebuilt from it.
      command: argv ? shellCommand(argv) : command,
      ...(argv ? { argv } : {}),
      desc: jobDesc,
      env,
      args,
      groupKey: JSON.stringify([args, envKey, jobDesc.jobKind ?? ""]),
      running: false,
      elapsed: 0,
    };
  }

  protected override checkAcceleratorRequest(requirement: AcceleratorRequirement, jobName: string, detail?: string): void {
    if (requirement.kind === "gpu" && Number.isInteger(requirement.count) && requirement.count >= 0) return;
    throw new InsufficientSystemResources({
      resource: "accelerators",
      requested: `${requirement.count} ${requirement.kind}`,
      available: null,
      jobName,
      batchSystem: "slurm",
      details: [
        "The Slurm batch system can only request GPUs (accelerators of kind \"gpu\", sent as --gres=gpu:N).",
        ...(detail ? [detail] : []),
      ],
    });
  }

  /** Partitions seen by sinfo (after the first job was issued). */
  getPartitions(): PartitionSet | undefined {
    return this.slurm.partitions;
  }

  // ---------------------------------------------------------------- reporting

  async getUpdatedBatchJob(maxWaitSeconds: number): Promise<UpdatedBatchJobInfo | null> {
    return this.updates.next(maxWaitSeconds, this.stopped);
  }

  async getIssuedBatchJobIds(): Promise<number[]> {
    return [...this.plain.issuedIds(), ...this.hosts.issuedIds(), ...this.local.issuedIds()];
  }

  async getRunningBatchJobIds(): Promise<Map<number, number>> {
    const out = new Map<number, number>();
    this.plain.running(out);
    this.hosts.running(out);
    for (const [id, secs] of await this.local.running()) out.set(id, secs);
    return out;
  }

  override getSchedulingStatusMessage(): string | null {
    const parts = [...this.statusParts.values()];
    return parts.length > 0 ? parts.join("; ") : null;
  }

  override getWorkerContexts(): [] {
    return [];
  }

  private checkUsable(): void {
    if (this.stopped) throw new BatchSystemShutdownError("The Slurm batch system was shut down; create a new one to issue jobs.");
    if (this.updates.failure) throw this.updates.failure;
  }

  // ---------------------------------------------------------------- background loop

  private ensureLoop(): void {
    this.loopPromise ??= this.loop().catch((err: unknown) => this.updates.fail(err as Error));
  }

  private async loop(): Promise<void> {
    while (!this.stopped && !this.updates.failure) {
      const nextAt = Math.min(await this.hosts.step(), await this.plain.step());
      if (this.stopped || this.updates.failure) break;
      if (this.plain.size === 0 && !this.hosts.active) {
        // Idle: sleep until the next issue wakes us.
        await new Promise<void>((r) => (this.wakeLoop = r));
      } else {
        const delay = Math.max(5, nextAt - Date.now());
        await new Promise<void>((r) => {
          const t = setTimeout(r, delay);
          t.unref();
          this.wakeLoop = () => {
            clearTimeout(t);
            r();
          };
        });
      }
      this.wakeLoop = undefined;
    }
  }

  /** Runs `fn` with no other submission, poll or kill in progress. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.lock.then(fn, fn);
    this.lock = next.catch(() => undefined);
    return next;
  }

  /** sbatch arguments of a single job (without the command). */
  sbatchArgsFor(jobId: number): string[] | undefined {
    return this.plain.sbatchArgsFor(jobId);
  }

  // ---------------------------------------------------------------- killing and shutdown

  async killBatchJobs(jobIds: readonly number[]): Promise<void> {
    await this.local.kill(jobIds);
    await this.exclusive(async () => {
      await this.plain.kill(jobIds);
      await this.hosts.kill(jobIds);
      if (this.plain.hasWaiting) this.wakeLoop?.();
    });
    // Nothing killed is ever reported, even if it ended just before.
    this.updates.drop(new Set(jobIds));
  }

  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.wakeLoop?.();
    await this.loopPromise;
    await this.exclusive(async () => {
      for (const part of [this.plain, this.hosts]) {
        try {
          await part.shutdown();
        } catch (err) {
          this.warn(`could not cancel every Slurm job at shutdown: ${(err as Error).message}`);
        }
      }
    });
    await this.local.shutdown();
    this.updates.notify();
  }

  /** Counts from the last poll (jobs Slurm listed as pending and running). */
  getLastPollCounts(): {
    /** Jobs Slurm listed as pending. */
    pending: number;
    /** Jobs Slurm listed as running. */
    running: number;
  } {
    return this.plain.lastPollCounts();
  }
}
