import { type ChildProcess, spawn, type StdioOptions } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, mkdirSync, openSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname } from "node:path";
import { performance } from "node:perf_hooks";
import {
  type AcceleratorRequirement,
  type BatchJobDescription,
  BatchJobExitReason,
  BatchSystemError,
  BatchSystemShutdownError,
  BatchSystemSupport,
  type BatchSystemConfig,
  type BatchSystemOptionSpec,
  describeAccelerator,
  type Environment,
  EXIT_STATUS_UNAVAILABLE_VALUE,
  FifoQueue,
  InsufficientSystemResources,
  type UpdatedBatchJobInfo,
} from "@toil/batch-core";
import { externalBatchId } from "@toil/bus";
import { localJobArgv, warmScriptOf } from "./command.js";
import { detectGpus } from "./gpus.js";
import { JobResources } from "./job-resources.js";
import { capLimits, explainLimit, type Limits } from "./limits.js";
import { EscapedProcessSweeper } from "./escaped-processes.js";
import { exitOf, forwardOutput, JOB_MARKER_ENV, type LocalJob, type OutputSink, type Shape } from "./local-job.js";
import { environHas, findTreeProcesses, killProcessTree, signalGroup } from "./process-tree.js";
import { SINGLE_MACHINE_OPTIONS } from "./options.js";
import type { SingleMachineOptions } from "./single-machine-options.js";
import { WarmHostPool } from "./warm-host-pool.js";

/** The workflow part of the marker: the workflow id with anything but [A-Za-z0-9_-] replaced. */
function workflowMarkOf(workflowId: string | undefined): string {
  return (workflowId ?? "").replace(/[^A-Za-z0-9_-]/g, "_") || "none";
}

/**
 * The single-machine batch system: runs each command on this machine, in its own process
 * group, when job slots, cores (in tenths), memory, disk and accelerators allow.
 *
 * Scheduling is event-driven: it runs when a job is issued and when one ends, and looks at one
 * queue per distinct requirement shape (not at every queued job), oldest first, so a job that
 * does not fit yet never blocks smaller ones behind it.
 */
export class SingleMachineBatchSystem extends BatchSystemSupport {
  /** The name this batch system is registered under. */
  static readonly batchSystemName = "single_machine";

  static override supportsAutoDeployment(): boolean {
    return false;
  }

  static override supportsWorkerCleanup(): boolean {
    return true;
  }

  /** Options this batch system adds to the workflow config. */
  static readonly options: readonly BatchSystemOptionSpec[] = SINGLE_MACHINE_OPTIONS;

  /** Warnings about limits that were capped to what the machine has. */
  readonly warnings: readonly string[];
  /** Maximum number of jobs running at once. */
  readonly maxJobs: number;
  /** Accelerator indices this batch system schedules. */
  readonly acceleratorIndices: readonly number[];

  private readonly resources: JobResources;
  private readonly scale: number;
  private readonly limits: Limits;
  private readonly warm: boolean;
  private readonly warmHosts: WarmHostPool;
  private readonly stdio: "inherit" | "ignore" | "files";
  private readonly output: OutputSink | undefined;
  private readonly killGrace: number;
  private readonly log: (level: "warn" | "info", message: string) => void;
  /**
   * Marks this batch system's processes: `<workflow>/<leader pid>-<random>`. The workflow part lets a
   * later leader of the same workflow find the processes an earlier one left (see
   * {@link killLeftoverWorkers}); the rest tells this batch system's own processes apart.
   */
  private readonly token: string;
  private readonly workflowMark: string;
  /** Stops the processes a job left behind once it ended. */
  private readonly escaped: EscapedProcessSweeper;

  private nextId = 1;
  private nextSeq = 0;
  private readonly issued = new Map<number, LocalJob>();
  private readonly running = new Map<number, LocalJob>();
  private readonly shapes = new Map<string, Shape>();
  private readonly waitingShapes = new Set<Shape>();
  private readonly updates = new FifoQueue<UpdatedBatchJobInfo>();
  private readonly updateWaiters: ((info: UpdatedBatchJobInfo | null) => void)[] = [];
  private statusMessage: string | null = null;
  private baseEnv: Environment;
  private scheduling = false;
  private scheduleAgain = false;
  private isShutdown = false;

  constructor(
    config: BatchSystemConfig,
    maxCores: number,
    maxMemory: number,
    maxDisk: number,
    options: SingleMachineOptions = {},
  ) {
    const limits = capLimits(config, maxCores, maxMemory, maxDisk);
    super(config, limits.maxCores, limits.maxMemory, limits.maxDisk);
    this.limits = limits;
    this.log =
      options.logger ?? ((level, message) => process.stderr.write(`[single_machine] ${level}: ${message}\n`));
    this.warnings = limits.warnings;
    for (const w of limits.warnings) this.log("warn", w);

    const maxJobs = config.maxJobs;
    this.maxJobs = typeof maxJobs === "number" && maxJobs > 0 && Number.isFinite(maxJobs) ? Math.floor(maxJobs) : Number.MAX_SAFE_INTEGER;
    this.scale = typeof config.scale === "number" && config.scale > 0 ? config.scale : 1;
    const acc = options.accelerators;
    this.acceleratorIndices =
      acc === undefined ? detectGpus() : typeof acc === "number" ? Array.from({ length: acc }, (_, i) => i) : [...acc];
    this.resources = new JobResources(this.maxJobs, this.maxCores, this.maxMemory, this.maxDisk, this.acceleratorIndices);

    const cfgWarm = config.batchOptions?.warmWorkers;
    this.warm = options.warmWorkers ?? (typeof cfgWarm === "boolean" ? cfgWarm : true);
    this.stdio = options.stdio ?? "inherit";
    this.output = this.stdio === "inherit" ? options.output : undefined;
    const cfgGrace = config.batchOptions?.killGraceSeconds;
    this.killGrace = options.killGraceSeconds ?? (typeof cfgGrace === "number" ? cfgGrace : 2);
    this.workflowMark = workflowMarkOf(config.workflowId);
    this.token = `${this.workflowMark}/${process.pid}-${randomBytes(4).toString("hex")}`;
    this.escaped = new EscapedProcessSweeper(`${JOB_MARKER_ENV}=${this.token}.`, (jobId) => this.running.has(jobId));
    this.baseEnv = this.computeBaseEnv();
    this.warmHosts = new WarmHostPool(
      {
        token: this.token,
        maxIdle: options.maxIdleWarmWorkers ?? Math.max(1, Math.ceil(this.maxCores)),
        maxJobsPerHost: options.warmWorkerMaxJobs ?? 0,
        startsAtOnce: Math.max(1, options.warmStartsAtOnce ?? availableParallelism()),
        stdio: this.stdio,
        output: this.output,
        killGraceSeconds: this.killGrace,
      },
      {
        baseEnv: () => this.baseEnv,
        outputPaths: (job) =>
          this.stdio === "files"
            ? { stdoutPath: this.formatStdOutErrPath(job.id, "local", "out"), stderrPath: this.formatStdOutErrPath(job.id, "local", "err") }
            : {},
        announce: (job, externalId) => this.announce(job, externalId),
        releaseResources: (job) => this.resources.release(job),
        finish: (job, status, reason) => this.finish(job, status, reason),
        runCold: (job) => this.runColdInstead(job),
        schedule: () => this.schedule(),
        log: (level, message) => this.log(level, message),
      },
    );
  }

  /**
   * Stop every process that an earlier batch system of the same workflow left running: the workers
   * (and anything they started that kept their environment) of a leader that was killed before it
   * could shut down. Call it before the first job is issued (the leader does so on `--restart`): a
   * restarted workflow must not wait for, or race with, jobs nobody will collect. Returns the pids
   * that were stopped (SIGKILL, no grace: their leader is gone).
   */
  async killLeftoverWorkers(): Promise<number[]> {
    // Without a workflow id there is no telling another workflow's processes from an earlier one of ours.
    if (this.workflowMark === "none") return [];
    const prefix = `${JOB_MARKER_ENV}=${this.workflowMark}/`;
    const own = `${JOB_MARKER_ENV}=${this.token}.`;
    const leftovers = findTreeProcesses({ roots: [], envMarker: prefix }).filter((pid) => !environHas(pid, own));
    if (leftovers.length === 0) return [];
    await killProcessTree({ roots: leftovers }, 0);
    return leftovers;
  }

  // ---------------------------------------------------------------- contract

  async issueBatchJob(command: string, jobDesc: BatchJobDescription, jobEnvironment?: Environment): Promise<number> {
    return this.issueBatchJobSync(command, jobDesc, jobEnvironment);
  }

  /** Synchronous form of {@link issueBatchJob} (same checks, same result). */
  issueBatchJobSync(command: string, jobDesc: BatchJobDescription, jobEnvironment?: Environment): number {
    if (this.isShutdown) throw new BatchSystemShutdownError("issueBatchJob called after shutdown().");
    if (typeof command !== "string" || command.trim() === "") {
      throw new BatchSystemError(`Job "${jobDesc?.jobName}" has an empty command.`);
    }
    this.checkResourceRequest(jobDesc);
    const req = jobDesc.requirements;
    const tenths = this.tenthsOf(req.cores);
    if (tenths > this.resources.coreTenthsTotal) {
      // A --maxCores that is not a whole number of tenths: the pool holds fewer than it says.
      const refusal = new InsufficientSystemResources({
        resource: "cores",
        requested: tenths / 10,
        available: this.resources.coreTenthsTotal / 10,
        jobName: jobDesc.jobName,
        batchSystem: SingleMachineBatchSystem.batchSystemName,
      });
      throw explainLimit(refusal, this.limits, req.cores, this.scale, SingleMachineBatchSystem.batchSystemName);
    }
    const gpuCount = req.accelerators.reduce((n, a) => n + a.count, 0);
    if (gpuCount > this.acceleratorIndices.length) {
      throw new InsufficientSystemResources({
        resource: "accelerators",
        requested: gpuCount,
        available: this.acceleratorIndices.length,
        jobName: jobDesc.jobName,
        batchSystem: SingleMachineBatchSystem.batchSystemName,
        source: "GPUs on this machine",
      });
    }
    const id = this.nextId++;
    const argv = localJobArgv(command, jobDesc, jobEnvironment);
    const cwd = process.cwd();
    const memory = Math.ceil(req.memory);
    const disk = Math.ceil(req.disk);
    const key = `${tenths}/${memory}/${disk}/${gpuCount}`;
    let shape = this.shapes.get(key);
    if (!shape) {
      shape = { key, jobs: new FifoQueue() };
      this.shapes.set(key, shape);
    }
    const job: LocalJob = {
      id,
      seq: this.nextSeq++,
      command,
      argv,
      warmScript: this.warm && argv ? warmScriptOf(argv, cwd) : null,
      jobName: jobDesc.jobName,
      jobStoreId: jobDesc.jobStoreId,
      cores: req.cores,
      tenths,
      memory,
      disk,
      gpuCount,
      baseEnv: this.baseEnv,
      jobEnv: jobEnvironment,
      env: null,
      shape,
      state: "queued",
      startTime: 0,
      pid: undefined,
      gpus: null,
      host: null,
      killIntended: false,
      released: false,
      exited: null,
      markExited: null,
    };
    this.issued.set(id, job);
    shape.jobs.push(job);
    this.waitingShapes.add(shape);
    this.schedule();
    return id;
  }

  async killBatchJobs(jobIds: readonly number[]): Promise<void> {
    const waits: Promise<void>[] = [];
    const ids = new Set<number>();
    for (const id of jobIds) {
      const job = this.issued.get(id);
      if (!job) continue;
      ids.add(id);
      this.issued.delete(id);
      if (job.state === "queued") {
        job.state = "killed";
      } else if (job.state === "running") {
        waits.push(this.killRunning(job));
      }
    }
    if (ids.size && this.updates.length) this.updates.removeWhere((u) => ids.has(u.jobId));
    await Promise.all(waits);
    this.schedule();
  }

  async getIssuedBatchJobIds(): Promise<number[]> {
    return [...this.issued.keys()];
  }

  async getRunningBatchJobIds(): Promise<Map<number, number>> {
    const now = performance.now();
    const out = new Map<number, number>();
    for (const [id, job] of this.running) if (!job.killIntended) out.set(id, (now - job.startTime) / 1000);
    return out;
  }

  getUpdatedBatchJob(maxWaitSeconds: number): Promise<UpdatedBatchJobInfo | null> {
    const ready = this.updates.shift();
    if (ready) return Promise.resolve(ready);
    if (!(maxWaitSeconds > 0) || this.isShutdown) return Promise.resolve(null);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const i = this.updateWaiters.indexOf(waiter);
        if (i >= 0) this.updateWaiters.splice(i, 1);
        resolve(null);
      }, Math.min(maxWaitSeconds * 1000, 2 ** 31 - 1));
      const waiter = (info: UpdatedBatchJobInfo | null) => {
        clearTimeout(timer);
        resolve(info);
      };
      this.updateWaiters.push(waiter);
    });
  }

  override getSchedulingStatusMessage(): string | null {
    return this.statusMessage;
  }

  override setEnv(name: string, value?: string): void {
    super.setEnv(name, value);
    this.baseEnv = this.computeBaseEnv();
  }

  async shutdown(): Promise<void> {
    if (this.isShutdown) return;
    this.isShutdown = true;
    const waits: Promise<void>[] = [];
    for (const job of this.issued.values()) {
      if (job.state === "queued") job.state = "killed";
      else if (job.state === "running") waits.push(this.killRunning(job));
    }
    this.issued.clear();
    waits.push(this.warmHosts.close());
    await Promise.all(waits);
    // Anything that escaped its job (new session, cleared process group) but kept the marker.
    await killProcessTree({ roots: [], envMarker: `${JOB_MARKER_ENV}=${this.token}.` }, 0);
    for (const w of this.updateWaiters.splice(0)) w(null);
    this.escaped.stop();
    await SingleMachineBatchSystem.workerCleanup(this.workerCleanupInfo());
  }

  // ---------------------------------------------------------------- resources

  /**
   * As in Toil, the cores are scaled by `--scale` (and rounded up to tenths) before they are checked
   * against the limit; a refusal says where the limit comes from on this machine and what will work.
   */
  override checkResourceRequest(jobDesc: Pick<BatchJobDescription, "jobName" | "requirements">, detail?: string): void {
    const cores = (jobDesc.requirements as { cores?: unknown } | undefined)?.cores;
    if (typeof cores !== "number" || !Number.isFinite(cores) || cores < 0) {
      super.checkResourceRequest(jobDesc, detail); // says what is malformed
      return;
    }
    const scaled = { ...jobDesc, requirements: { ...jobDesc.requirements, cores: this.tenthsOf(cores) / 10 } };
    try {
      super.checkResourceRequest(scaled, detail);
    } catch (err) {
      if (err instanceof InsufficientSystemResources) throw explainLimit(err, this.limits, cores, this.scale, SingleMachineBatchSystem.batchSystemName);
      throw err;
    }
  }

  protected override checkAcceleratorRequest(requirement: AcceleratorRequirement, jobName: string): void {
    const okKind = requirement.kind === "gpu";
    const okApi = requirement.api === undefined || requirement.api === "cuda" || requirement.api === "rocm";
    if (!okKind || !okApi || requirement.count > this.acceleratorIndices.length) {
      throw new InsufficientSystemResources({
        resource: "accelerators",
        requested: describeAccelerator(requirement),
        available: this.acceleratorIndices.length ? `${this.acceleratorIndices.length} gpu` : null,
        jobName,
        batchSystem: SingleMachineBatchSystem.batchSystemName,
        source: "GPUs detected on this machine",
      });
    }
  }

  private tenthsOf(cores: number): number {
    const scaled = cores * this.scale;
    return Math.max(1, Math.ceil(Math.round(scaled * 10 * 1e6) / 1e6));
  }

  // ---------------------------------------------------------------- scheduling

  private schedule(): void {
    if (this.isShutdown) return;
    if (this.scheduling) {
      this.scheduleAgain = true;
      return;
    }
    this.scheduling = true;
    try {
      do {
        this.scheduleAgain = false;
        this.schedulePass();
      } while (this.scheduleAgain);
    } finally {
      this.scheduling = false;
    }
  }

  private schedulePass(): void {
    if (this.waitingShapes.size === 0) {
      this.statusMessage = null;
      return;
    }
    let blocked: string | null = null;
    const order = this.waitingShapes.size === 1 ? [...this.waitingShapes] : this.shapesOldestFirst();
    for (const shape of order) {
      for (;;) {
        const job = shape.jobs.peek();
        if (!job) break;
        if (job.state !== "queued") {
          shape.jobs.shift();
          continue;
        }
        if (job.warmScript && this.warmHosts.mustWaitForStart) {
          blocked ??= `Waiting for warm workers to start before running job ${job.id} ("${job.jobName}")`;
          break;
        }
        const missing = this.resources.acquire(job);
        if (missing) {
          blocked ??= `Not enough ${missing} to run job ${job.id} ("${job.jobName}")`;
          break;
        }
        shape.jobs.shift();
        this.start(job);
      }
      if (shape.jobs.length === 0) this.waitingShapes.delete(shape);
    }
    this.statusMessage = blocked;
  }

  private shapesOldestFirst(): Shape[] {
    const withHead: [number, Shape][] = [];
    for (const shape of this.waitingShapes) {
      while (shape.jobs.peek() && shape.jobs.peek()?.state !== "queued") shape.jobs.shift();
      const head = shape.jobs.peek();
      if (head) withHead.push([head.seq, shape]);
      else this.waitingShapes.delete(shape);
    }
    withHead.sort((a, b) => a[0] - b[0]);
    return withHead.map((x) => x[1]);
  }

  private start(job: LocalJob): void {
    job.state = "running";
    job.startTime = performance.now();
    this.running.set(job.id, job);
    job.exited = new Promise<void>((resolve) => (job.markExited = resolve));
    const env: Environment = job.jobEnv ? { ...job.baseEnv, ...job.jobEnv } : { ...job.baseEnv };
    if (env.OMP_NUM_THREADS === undefined) env.OMP_NUM_THREADS = String(Math.max(1, Math.floor(job.cores)));
    env[JOB_MARKER_ENV] = this.markerOf(job);
    if (job.gpus) {
      const list = [...job.gpus].sort((a, b) => a - b).join(",");
      env.CUDA_VISIBLE_DEVICES = list;
      env.SINGULARITYENV_CUDA_VISIBLE_DEVICES = list;
    }
    job.env = env;
    if (job.warmScript && this.warmHosts.run(job)) return;
    job.warmScript = null;
    this.startCold(job);
  }

  private stdioFor(job: LocalJob): { stdio: StdioOptions; close: () => void; out?: string; err?: string } {
    if (this.stdio === "inherit") return { stdio: ["ignore", this.output ? "pipe" : "inherit", this.output ? "pipe" : "inherit"], close: () => {} };
    if (this.stdio === "ignore") return { stdio: "ignore", close: () => {} };
    const out = this.formatStdOutErrPath(job.id, "local", "out");
    const err = this.formatStdOutErrPath(job.id, "local", "err");
    mkdirSync(dirname(out), { recursive: true });
    const o = openSync(out, "a");
    const e = openSync(err, "a");
    return { stdio: ["ignore", o, e], close: () => (closeSync(o), closeSync(e)), out, err };
  }

  private startCold(job: LocalJob): void {
    const [file, ...args] = job.argv ?? ["/bin/sh", "-c", job.command];
    let io: ReturnType<SingleMachineBatchSystem["stdioFor"]> | undefined;
    let child: ChildProcess;
    try {
      io = this.stdioFor(job);
      child = spawn(file as string, args, { env: job.env ?? undefined, detached: true, stdio: io.stdio });
    } catch (err) {
      io?.close();
      this.spawnFailed(job, err as NodeJS.ErrnoException);
      return;
    }
    io.close();
    forwardOutput(child, this.output);
    job.pid = child.pid;
    let settled = false;
    child.once("error", (err: NodeJS.ErrnoException) => {
      if (settled || child.pid !== undefined) return;
      settled = true;
      this.spawnFailed(job, err);
    });
    child.once("exit", (code, signal) => {
      if (settled) return;
      settled = true;
      if (job.pid !== undefined) signalGroup(job.pid, "SIGKILL");
      const { status, reason } = exitOf(code, signal);
      this.finish(job, status, reason);
    });
    if (job.pid !== undefined) this.announce(job, String(job.pid));
  }

  private spawnFailed(job: LocalJob, err: NodeJS.ErrnoException): void {
    const status = err.code === "ENOENT" ? 127 : err.code === "EACCES" ? 126 : EXIT_STATUS_UNAVAILABLE_VALUE;
    this.log("warn", `Could not start job ${job.id} ("${job.jobName}"): ${err.message}. Command: ${job.command}`);
    this.finish(job, status, BatchJobExitReason.ERROR);
  }

  private announce(job: LocalJob, externalId: string): void {
    if (!this.messageBus) return;
    this.messageBus.publish(
      externalBatchId({ batchId: job.id, externalBatchId: externalId, batchSystem: SingleMachineBatchSystem.batchSystemName }),
    );
  }

  /** The value of the marker variable that tags every process of `job` (for killing its tree). */
  private markerOf(job: LocalJob): string {
    return `${this.token}.${job.id}`;
  }

  private finish(job: LocalJob, status: number, reason: BatchJobExitReason): void {
    if (job.state !== "running") return;
    job.state = "done";
    this.running.delete(job.id);
    if (!job.released) this.resources.release(job);
    const wallTime = Math.max((performance.now() - job.startTime) / 1000, 1e-6);
    job.markExited?.();
    this.sweepAfter(job);
    if (!job.killIntended && this.issued.get(job.id) === job) {
      this.issued.delete(job.id);
      const info: UpdatedBatchJobInfo = {
        jobId: job.id,
        exitStatus: status,
        exitReason: reason,
        wallTime,
        backingId: job.pid !== undefined ? String(job.pid) : null,
      };
      const waiter = this.updateWaiters.shift();
      if (waiter) waiter(info);
      else this.updates.push(info);
    }
    this.schedule();
  }

  /** A job's processes end with it: what it left behind goes with the next sweep. */
  private sweepAfter(job: LocalJob): void {
    if (this.isShutdown) return;
    this.escaped.jobEnded(job.id);
  }

  private async killRunning(job: LocalJob): Promise<void> {
    job.killIntended = true;
    // A released job only waits for its sync (its host may run another job): let it finish.
    if (job.released) return void (await job.exited);
    const marker = `${JOB_MARKER_ENV}=${this.markerOf(job)}\0`;
    const roots = job.host ? [job.host.pid] : job.pid !== undefined ? [job.pid] : [];
    await killProcessTree({ roots, envMarker: marker }, this.killGrace);
    await job.exited;
  }

  /** A warm host would not run the job (its script has no `runWarmCommand`): it runs as a fresh process. */
  private runColdInstead(job: LocalJob): void {
    if (job.killIntended) {
      job.state = "done";
      this.running.delete(job.id);
      this.resources.release(job);
      job.markExited?.();
      this.schedule();
      return;
    }
    job.startTime = performance.now();
    this.startCold(job);
  }

  private computeBaseEnv(): Environment {
    const env: Environment = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
    return Object.assign(env, this.environment);
  }

  /** Number of warm hosts alive (busy or idle). */
  get warmHostCount(): number {
    return this.warmHosts.size;
  }

  /** Whether any process of this batch system's jobs is still alive (for diagnostics and tests). */
  leftoverProcesses(): number[] {
    return findTreeProcesses({ roots: [], envMarker: `${JOB_MARKER_ENV}=${this.token}.` });
  }
}
