import { type ChildProcess, fork, spawn, type StdioOptions } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync } from "node:fs";
import { availableParallelism, constants as osConstants } from "node:os";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
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
  ResourcePool,
  ResourceSet,
  type UpdatedBatchJobInfo,
} from "@toil/batch-core";
import { externalBatchId } from "@toil/bus";
import { localJobArgv, markNotWarm, warmScriptOf } from "./command.js";
import { SINGLE_MACHINE_OPTIONS } from "./options.js";
import { findWarmHostScript, JOB_MARKER_ENV, takePrestartedHost } from "./prestart.js";
import { detectGpus } from "./gpus.js";
import { capLimits, explainLimit, type Limits } from "./limits.js";
import { EscapedProcessSweeper } from "./escaped-processes.js";
import { environHas, findTreeProcesses, killProcessTree, signalGroup } from "./process-tree.js";

/** Environment variable that marks every process of a job (used to find escaped descendants). */
export { JOB_MARKER_ENV };

/** The workflow part of the marker: the workflow id with anything but [A-Za-z0-9_-] replaced. */
function workflowMarkOf(workflowId: string | undefined): string {
  return (workflowId ?? "").replace(/[^A-Za-z0-9_-]/g, "_") || "none";
}

/** Construction options of {@link SingleMachineBatchSystem} beyond the config. */
export interface SingleMachineOptions {
  /** Run `[node, script.js, ...]` commands whose script exports `runWarmCommand` in warm hosts (default: config `warmWorkers`, else true). */
  warmWorkers?: boolean;
  /** Idle warm hosts kept for reuse (default: the number of cores). */
  maxIdleWarmWorkers?: number;
  /** Replace a warm host after it ran this many jobs (default: never). */
  warmWorkerMaxJobs?: number;
  /**
   * Warm hosts that may be starting (loading their script) at once (default: the number of CPUs).
   * Jobs that need a new host beyond this wait in the queue for a started or an idle one: twenty
   * processes loading their modules together on two CPUs take longer than the same twenty in turn,
   * and short jobs mostly reuse the first hosts instead.
   */
  warmStartsAtOnce?: number;
  /** Where job std-out/err go: inherit the leader's (default), discard, or per-job files from `formatStdOutErrPath`. */
  stdio?: "inherit" | "ignore" | "files";
  /** Accelerator indices to schedule instead of the detected GPUs (a count means 0..count-1). */
  accelerators?: number | readonly number[];
  /** Seconds between SIGTERM and SIGKILL when killing a job (default 2). */
  killGraceSeconds?: number;
  /** Where warnings go (default: stderr). */
  logger?: (level: "warn" | "info", message: string) => void;
  /**
   * With `stdio: "inherit"`: receive the jobs' stdout/stderr bytes through pipes instead of letting
   * the processes write to the leader's own stdout/stderr. The leader then prints them where its
   * display allows (above a live progress bar), and a job never writes into a pipe the user closed
   * (`toil run … | head`), which would kill the job's tools with SIGPIPE.
   */
  output?: (stream: "stdout" | "stderr", chunk: Buffer) => void;
}

type JobState = "queued" | "running" | "done" | "killed";

interface LocalJob {
  id: number;
  seq: number;
  command: string;
  argv: string[] | null;
  warmScript: string | null;
  jobName: string;
  jobStoreId: string | undefined;
  cores: number;
  tenths: number;
  memory: number;
  disk: number;
  gpuCount: number;
  /** The batch system's environment when the job was issued (shared by the jobs issued with it). */
  baseEnv: Environment;
  /** The job's own variables, if any. */
  jobEnv: Environment | undefined;
  /** The whole environment, built when the job starts (not per queued job: 100,000 queued jobs). */
  env: Environment | null;
  shape: Shape;
  state: JobState;
  startTime: number;
  pid: number | undefined;
  gpus: ReadonlySet<number> | null;
  host: WarmHost | null;
  killIntended: boolean;
  /** Its warm host said it only waits for its commit's sync: its resources are free already. */
  released: boolean;
  exited: Promise<void> | null;
  markExited: (() => void) | null;
}

interface Shape {
  key: string;
  jobs: FifoQueue<LocalJob>;
}

interface WarmHost {
  id: number;
  child: ChildProcess;
  /** Its `JOB_MARKER_ENV` value. */
  marker: string;
  pid: number;
  job: LocalJob | null;
  /** Jobs it released (see `LocalJob.released`) and has not reported done yet. */
  syncing: Set<LocalJob>;
  jobsRun: number;
  dead: boolean;
  /** The environment of the last job sent to this host: the next one is sent as a difference. */
  lastEnv: Environment | null;
  /** Still loading its script: counts against `warmStartsAtOnce` until loaded, or a few seconds. */
  starting: boolean;
  startTimer: NodeJS.Timeout | undefined;
  /** Its script said the process is unfit for more jobs: it is stopped once its job is done. */
  retiring: boolean;
  /** Why, as the host said. */
  retireReason?: string | undefined;
}

/** What a warm host says (see runtime/warm-host.mjs). */
interface HostMessage {
  t: string;
  id?: number;
  code?: number;
  /** "done": every job that ended (older hosts send one `id` and `code`). */
  jobs?: { id: number; code: number }[];
  /** The script found the process unfit for more jobs ("retire", or with "free" / "done"). */
  retire?: boolean;
  reason?: string;
}

/** How long a host's start may hold a start slot when it never says it loaded (a hung import). */
const HOST_START_SLOT_MS = 10_000;

/** What changes `from` into `to`: keys to set and keys to remove. */
function envPatch(from: Environment, to: Environment): { set: Environment; unset: string[] } {
  const set: Environment = {};
  const unset: string[] = [];
  for (const key of Object.keys(to)) if (from[key] !== to[key]) set[key] = to[key]!;
  for (const key of Object.keys(from)) if (!(key in to)) unset.push(key);
  return { set, unset };
}

function warmHostScriptPath(): string {
  const script = findWarmHostScript();
  if (!script) throw new BatchSystemError("Cannot find runtime/warm-host.mjs of @toil/batch-local (broken installation).");
  return script;
}

function signalNumber(signal: NodeJS.Signals): number {
  return (osConstants.signals as Record<string, number>)[signal] ?? 0;
}

function exitOf(code: number | null, signal: NodeJS.Signals | null): { status: number; reason: BatchJobExitReason } {
  if (code !== null) return { status: code, reason: code === 0 ? BatchJobExitReason.FINISHED : BatchJobExitReason.FAILED };
  if (signal) return { status: 128 + signalNumber(signal), reason: BatchJobExitReason.KILLED };
  return { status: EXIT_STATUS_UNAVAILABLE_VALUE, reason: BatchJobExitReason.LOST };
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

  private readonly slots: ResourcePool;
  private readonly coreTenths: ResourcePool;
  private readonly memoryPool: ResourcePool;
  private readonly diskPool: ResourcePool;
  private readonly gpuSet: ResourceSet;
  private readonly scale: number;
  private readonly limits: Limits;
  private readonly warm: boolean;
  private readonly maxIdleWarm: number;
  private readonly warmMaxJobs: number;
  private readonly warmStartsAtOnce: number;
  private startingHosts = 0;
  private readonly stdio: "inherit" | "ignore" | "files";
  private readonly output: ((stream: "stdout" | "stderr", chunk: Buffer) => void) | undefined;
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

  private readonly idleHosts: WarmHost[] = [];
  private readonly hosts = new Set<WarmHost>();
  private nextHostId = 1;

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
    this.slots = new ResourcePool(this.maxJobs, "job slots");
    this.coreTenths = new ResourcePool(Math.max(1, Math.floor(this.maxCores * 10 + 1e-9)), "cores");
    this.memoryPool = new ResourcePool(Math.floor(this.maxMemory), "memory");
    this.diskPool = new ResourcePool(Math.floor(this.maxDisk), "disk");
    const acc = options.accelerators;
    this.acceleratorIndices =
      acc === undefined ? detectGpus() : typeof acc === "number" ? Array.from({ length: acc }, (_, i) => i) : [...acc];
    this.gpuSet = new ResourceSet(this.acceleratorIndices, "accelerators");

    const cfgWarm = config.batchOptions?.warmWorkers;
    this.warm = options.warmWorkers ?? (typeof cfgWarm === "boolean" ? cfgWarm : true);
    this.maxIdleWarm = options.maxIdleWarmWorkers ?? Math.max(1, Math.ceil(this.maxCores));
    this.warmMaxJobs = options.warmWorkerMaxJobs ?? 0;
    this.warmStartsAtOnce = Math.max(1, options.warmStartsAtOnce ?? availableParallelism());
    this.stdio = options.stdio ?? "inherit";
    this.output = this.stdio === "inherit" ? options.output : undefined;
    const cfgGrace = config.batchOptions?.killGraceSeconds;
    this.killGrace = options.killGraceSeconds ?? (typeof cfgGrace === "number" ? cfgGrace : 2);
    this.workflowMark = workflowMarkOf(config.workflowId);
    this.token = `${this.workflowMark}/${process.pid}-${randomBytes(4).toString("hex")}`;
    this.escaped = new EscapedProcessSweeper(`${JOB_MARKER_ENV}=${this.token}.`, (jobId) => this.running.has(jobId));
    this.baseEnv = this.computeBaseEnv();
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
    if (tenths > this.coreTenths.initialValue) {
      // A --maxCores that is not a whole number of tenths: the pool holds fewer than it says.
      const refusal = new InsufficientSystemResources({
        resource: "cores",
        requested: tenths / 10,
        available: this.coreTenths.initialValue / 10,
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
    for (const host of [...this.hosts]) if (!host.job) waits.push(this.stopHost(host));
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

  /** Take everything the job needs, or nothing; returns the name of the missing resource. */
  private acquire(job: LocalJob): string | null {
    if (!this.slots.acquireNow(1)) return "job slots";
    if (!this.coreTenths.acquireNow(job.tenths)) {
      this.slots.release(1);
      return "cores";
    }
    if (!this.memoryPool.acquireNow(job.memory)) {
      this.coreTenths.release(job.tenths);
      this.slots.release(1);
      return "memory";
    }
    if (!this.diskPool.acquireNow(job.disk)) {
      this.memoryPool.release(job.memory);
      this.coreTenths.release(job.tenths);
      this.slots.release(1);
      return "disk";
    }
    if (job.gpuCount > 0) {
      const gpus = this.gpuSet.acquireAnyNow(job.gpuCount);
      if (!gpus) {
        this.diskPool.release(job.disk);
        this.memoryPool.release(job.memory);
        this.coreTenths.release(job.tenths);
        this.slots.release(1);
        return "accelerators";
      }
      job.gpus = gpus;
    }
    return null;
  }

  private releaseResources(job: LocalJob): void {
    this.slots.release(1);
    this.coreTenths.release(job.tenths);
    this.memoryPool.release(job.memory);
    this.diskPool.release(job.disk);
    if (job.gpus) this.gpuSet.release(job.gpus);
    job.gpus = null;
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
        if (job.warmScript && this.idleHosts.length === 0 && this.startingHosts >= this.warmStartsAtOnce) {
          blocked ??= `Waiting for warm workers to start before running job ${job.id} ("${job.jobName}")`;
          break;
        }
        const missing = this.acquire(job);
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
    if (job.warmScript) this.startWarm(job);
    else this.startCold(job);
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
    this.forwardOutput(child);
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

  /** Hand a child's piped stdout/stderr to the `output` option; the pipes never keep the leader alive. */
  private forwardOutput(child: ChildProcess): void {
    const output = this.output;
    if (!output) return;
    for (const name of ["stdout", "stderr"] as const) {
      const pipe = child[name] as (NodeJS.ReadableStream & { unref?: () => void }) | null;
      if (!pipe) continue;
      pipe.on("data", (chunk: Buffer) => output(name, chunk));
      pipe.on("error", () => undefined);
      pipe.unref?.();
    }
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
    if (!job.released) this.releaseResources(job);
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

  // ---------------------------------------------------------------- warm hosts

  private startWarm(job: LocalJob): void {
    const host = this.takeHost();
    if (!host) {
      job.warmScript = null;
      this.startCold(job);
      return;
    }
    host.job = job;
    job.host = host;
    job.pid = host.pid;
    host.child.ref();
    const io = this.stdio === "files"
      ? { stdoutPath: this.formatStdOutErrPath(job.id, "local", "out"), stderrPath: this.formatStdOutErrPath(job.id, "local", "err") }
      : {};
    // Consecutive jobs differ in a variable or two: send the difference, not ~100 variables per job.
    const jobEnv = job.env ?? {};
    const env = host.lastEnv ? { envPatch: envPatch(host.lastEnv, jobEnv) } : { env: jobEnv };
    host.lastEnv = jobEnv;
    host.child.send({
      t: "run",
      id: job.id,
      script: job.warmScript,
      argv: job.argv,
      ...env,
      cwd: process.cwd(),
      ...io,
    });
    this.announce(job, `${host.pid}/warm`);
  }

  private takeHost(): WarmHost | null {
    for (;;) {
      const idle = this.idleHosts.pop();
      if (!idle) break;
      if (!idle.dead && !idle.retiring) return idle;
    }
    try {
      return this.spawnHost();
    } catch (err) {
      this.log("warn", `Could not start a warm worker host: ${(err as Error).message}; running the job as a fresh process.`);
      return null;
    }
  }

  private spawnHost(): WarmHost {
    const id = this.nextHostId++;
    // A host the leader started while it loaded the workflow, if it was started as this one would be.
    const prestarted = takePrestartedHost(this.baseEnv, this.stdio === "inherit" && this.output !== undefined);
    const marker = prestarted?.marker ?? `${this.token}.h${id}`;
    const child =
      prestarted?.child ??
      fork(warmHostScriptPath(), [], {
        env: { ...this.baseEnv, [JOB_MARKER_ENV]: marker },
        detached: true,
        stdio: this.stdio === "ignore" ? ["ignore", "ignore", "ignore", "ipc"] : this.output ? ["ignore", "pipe", "pipe", "ipc"] : ["ignore", "inherit", "inherit", "ipc"],
        serialization: "json",
      });
    if (child.pid === undefined) throw new BatchSystemError("fork returned no pid");
    this.forwardOutput(child);
    const host: WarmHost = {
      id,
      child,
      marker,
      pid: child.pid,
      job: null,
      syncing: new Set(),
      jobsRun: 0,
      dead: false,
      lastEnv: null,
      starting: true,
      startTimer: undefined,
      retiring: false,
    };
    this.startingHosts++;
    host.startTimer = setTimeout(() => this.hostStarted(host), HOST_START_SLOT_MS);
    host.startTimer.unref();
    this.hosts.add(host);
    child.on("message", (msg: HostMessage) => this.onHostMessage(host, msg));
    child.once("error", () => {
      /* reported through exit */
    });
    child.once("exit", (code, signal) => this.onHostExit(host, code, signal));
    if (prestarted?.loaded) this.hostStarted(host);
    return host;
  }

  /** The host no longer counts as starting; queued jobs that waited for a start slot may go. */
  private hostStarted(host: WarmHost): void {
    if (!host.starting) return;
    host.starting = false;
    clearTimeout(host.startTimer);
    this.startingHosts--;
    this.schedule();
  }

  private onHostMessage(host: WarmHost, msg: HostMessage): void {
    if (msg.t === "loaded" || msg.t === "done" || msg.t === "notWarm" || msg.t === "free") this.hostStarted(host);
    // The host's script found the process unfit for more jobs (a job left an error unhandled).
    if (msg.t === "retire" || msg.retire === true) {
      host.retiring = true;
      host.retireReason ??= msg.reason;
    }
    if (msg.t === "retire") {
      if (!host.job) this.retireWhenSynced(host);
      return;
    }
    if (msg.t === "done") {
      for (const { id, code } of msg.jobs ?? [{ id: msg.id, code: msg.code }]) this.hostJobDone(host, id, code);
      return;
    }
    const job = host.job;
    if (!job || msg.id !== job.id) return;
    if (msg.t === "free") {
      // Only the job's commit is being synced: its resources and the host are free for the next job.
      job.released = true;
      this.releaseResources(job);
      host.job = null;
      host.syncing.add(job);
      host.jobsRun++;
      if (host.retiring) this.retireWhenSynced(host);
      else this.recycleHost(host);
      this.schedule();
    } else if (msg.t === "notWarm") {
      host.job = null;
      job.host = null;
      if (job.warmScript) markNotWarm(job.warmScript);
      job.warmScript = null;
      this.recycleHost(host);
      if (job.killIntended) {
        job.state = "done";
        this.running.delete(job.id);
        this.releaseResources(job);
        job.markExited?.();
        this.schedule();
        return;
      }
      job.startTime = performance.now();
      this.startCold(job);
    }
  }

  /** Stop a host that must run no more jobs (once the jobs it is syncing are done); the next job gets a fresh one. */
  private retireWhenSynced(host: WarmHost): void {
    const i = this.idleHosts.indexOf(host);
    if (i >= 0) this.idleHosts.splice(i, 1);
    if (host.syncing.size > 0 || host.dead) return;
    this.log("info", `Replacing warm worker host ${host.pid}: ${host.retireReason ?? "its script asked for it"}`);
    void this.stopHost(host);
  }

  /** A job of `host` ended (after its commit was synced, when it released the host first). */
  private hostJobDone(host: WarmHost, id: number | undefined, code: number | undefined): void {
    let job: LocalJob | undefined;
    if (host.job && host.job.id === id) {
      job = host.job;
      host.job = null;
      host.jobsRun++;
      job.host = null;
      if (host.retiring) this.retireWhenSynced(host);
      else this.recycleHost(host);
    } else {
      for (const j of host.syncing) if (j.id === id) job = j;
      if (!job) return;
      host.syncing.delete(job);
      job.host = null;
      if (host.retiring && !host.job) this.retireWhenSynced(host);
      else if (host.syncing.size === 0 && !host.job && this.idleHosts.includes(host)) this.unrefIdle(host);
    }
    this.finish(job, code ?? EXIT_STATUS_UNAVAILABLE_VALUE, code === 0 ? BatchJobExitReason.FINISHED : BatchJobExitReason.FAILED);
  }

  private unrefIdle(host: WarmHost): void {
    host.child.unref();
    (host.child.channel as { unref?: () => void } | undefined)?.unref?.();
  }

  private recycleHost(host: WarmHost): void {
    if (host.dead) return;
    const tooOld = this.warmMaxJobs > 0 && host.jobsRun >= this.warmMaxJobs;
    if (this.isShutdown || tooOld || this.idleHosts.length >= this.maxIdleWarm) {
      void this.stopHost(host);
      return;
    }
    // A host still syncing a job keeps the leader's event loop alive until it reports.
    if (host.syncing.size === 0) this.unrefIdle(host);
    this.idleHosts.push(host);
  }

  private onHostExit(host: WarmHost, code: number | null, signal: NodeJS.Signals | null): void {
    host.dead = true;
    this.hostStarted(host);
    this.hosts.delete(host);
    const i = this.idleHosts.indexOf(host);
    if (i >= 0) this.idleHosts.splice(i, 1);
    signalGroup(host.pid, "SIGKILL");
    const jobs = [...host.syncing, ...(host.job ? [host.job] : [])];
    host.job = null;
    host.syncing.clear();
    for (const job of jobs) {
      job.host = null;
      const { status, reason } = exitOf(code, signal);
      this.finish(job, status, code === 0 ? BatchJobExitReason.FAILED : reason);
    }
  }

  private async stopHost(host: WarmHost): Promise<void> {
    if (host.dead) return;
    const exited = new Promise<void>((resolve) => host.child.once("exit", () => resolve()));
    // An idle host is unreferenced; the wait for its exit must keep the event loop alive, or a
    // caller awaiting shutdown() sees its program end with the promise unsettled.
    host.child.ref();
    await killProcessTree({ roots: [host.pid], envMarker: `${JOB_MARKER_ENV}=${host.marker}\0` }, this.killGrace);
    if (!host.dead) await exited;
  }

  private computeBaseEnv(): Environment {
    const env: Environment = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
    return Object.assign(env, this.environment);
  }

  /** Number of warm hosts alive (busy or idle). */
  get warmHostCount(): number {
    return this.hosts.size;
  }

  /** Whether any process of this batch system's jobs is still alive (for diagnostics and tests). */
  leftoverProcesses(): number[] {
    return findTreeProcesses({ roots: [], envMarker: `${JOB_MARKER_ENV}=${this.token}.` });
  }
}
