import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type AcceleratorRequirement,
  type BatchJobDescription,
  BatchJobExitReason,
  type BatchMessageBus,
  type BatchSystem,
  type BatchSystemClass,
  type BatchSystemConfig,
  BatchSystemShutdownError,
  BatchSystemSupport,
  checkArgv,
  checkEnvironment,
  type Environment,
  EXIT_STATUS_UNAVAILABLE_VALUE,
  getBatchSystem,
  hasBatchSystem,
  plainCommandWords,
  singleQuote,
  InsufficientSystemResources,
  shellCommand,
  type UpdatedBatchJobInfo,
  updatedBatchJobInfo,
} from "@toil/batch-core";
import { SlurmCommandError, SlurmError, SlurmOptionError } from "./errors.js";
import { resolveSlurmSettings, SLURM_OPTIONS, type SlurmConfigExtras, type SlurmSettings } from "./options.js";
import { PartitionSet, parseSinfo, SINFO_ARGS } from "./partitions.js";
import { type CommandResult, type CommandRunner, spawnCommand } from "./runner.js";
import { escapeSlurmPattern, type ParsedSlurmArgs, parseSlurmArgs, resourceArgs, slurmJobName } from "./sbatch.js";
import {
  jobOutcome,
  parseSacct,
  parseSqueue,
  SACCT_FORMAT,
  SQUEUE_FORMAT,
  type SlurmJobRecord,
} from "./state.js";

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
}

interface TrackedJob {
  id: number;
  /** The shell line written into batch scripts: `shellCommand(argv)` when the job has an argv. */
  command: string;
  /** The exact argv (from `jobDesc.argv`); `undefined` when the caller issued a shell command line. */
  argv?: string[];
  desc: BatchJobDescription;
  env: Environment;
  /** sbatch arguments decided by the requirements (shared by all jobs of an array). */
  args: string[];
  /** Jobs with the same group key may share one job array. */
  groupKey: string;
  /** Set once submitted: `123` (a job) or `123_4` (an array task). */
  key?: string;
  /** The id sbatch printed (the array id for a task): what squeue's `-j` gets. */
  submitId?: string;
  /** Slurm's own id of the job/task once known (sacct -c needs it for array tasks). */
  rawId?: string;
  running: boolean;
  elapsed: number;
  missingSince?: number;
  /** Set when the job runs in a job pack (`--slurmPackJobs`): one array task for several jobs. */
  pack?: Pack;
}

/** Several jobs run one after another by the pack runner in one array task. */
interface Pack {
  /** `<array id>_<task>`. */
  key: string;
  submitId: string;
  /** Where the runner writes `<id>.started` / `<id>.status` and reads `<id>.cancel`. */
  dir: string;
  jobs: TrackedJob[];
  missingSince?: number;
}

/** The script that runs a job pack inside one array task. */
const PACK_RUNNER = fileURLToPath(new URL("../runtime/pack-runner.mjs", import.meta.url));

const SQUEUE_UNKNOWN_ID = /Invalid job id specified/i;
const SACCT_DISABLED = /accounting storage is disabled/i;
/** sbatch refusals that no retry can fix. */
const SBATCH_PERMANENT =
  /Invalid (partition|qos|account|generic resource|feature|job array)|More processors requested|Requested node configuration is not available|Memory specification can not be satisfied|Requested time limit is invalid|QOSMax|AssocMax|not allowed|Access\/permission denied|invalid option|unrecognized option|unknown option|Invalid argument/i;
/** Longest time newly issued jobs are gathered into one submission while more keep arriving. */
const MAX_GATHER_MS = 1000;
/** sbatch calls made at the same time when jobs are submitted one by one. */
const SBATCH_CONCURRENCY = 4;
/** Longest `-j` list passed in one call (Linux limits one argument to 128 KiB). */
const MAX_ID_LIST_CHARS = 60_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());

function chunkIds(ids: readonly string[], maxChars = MAX_ID_LIST_CHARS): string[][] {
  const out: string[][] = [];
  let cur: string[] = [];
  let len = 0;
  for (const id of ids) {
    if (cur.length > 0 && len + id.length + 1 > maxChars) {
      out.push(cur);
      cur = [];
      len = 0;
    }
    cur.push(id);
    len += id.length + 1;
  }
  if (cur.length) out.push(cur);
  return out;
}

function slurmDate(ms: number): string {
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/**
 * The environment sbatch runs with: the leader's, without desktop-session variables, plus the
 * job's. Unless the user set `SLURM_UMASK`, jobs get umask 0077, so the log files slurmd creates
 * for them (and anything else they create) are owner-only whatever the leader's umask.
 */
function sbatchEnvironment(jobEnv: Environment): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith("XDG_") || k.startsWith("DBUS_")) continue;
    env[k] = v;
  }
  return { SLURM_UMASK: "0077", ...env, ...jobEnv };
}

/**
 * Runs Toil jobs on a Slurm cluster with `sbatch`, watches them with one `squeue` (plus one
 * `sacct` for jobs squeue has forgotten) per poll, and kills them with `scancel`. Ready jobs with
 * identical requirements are submitted together as one job array. Jobs marked `local` run on the
 * leader's machine through the `single_machine` batch system.
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
  static readonly options = SLURM_OPTIONS;

  /** The resolved Slurm settings. */
  readonly settings: SlurmSettings;
  private readonly userArgs: ParsedSlurmArgs;
  private readonly run: CommandRunner;
  private readonly startedAt = Date.now();
  private readonly localFactory: () => Promise<BatchSystemClass>;

  private nextId = 1;
  private readonly jobs = new Map<number, TrackedJob>();
  private readonly byKey = new Map<string, TrackedJob>();
  private readonly byRaw = new Map<string, TrackedJob>();
  private readonly packs = new Map<string, Pack>();
  private waiting: TrackedJob[] = [];
  private firstWaitingAt = 0;
  private lastIssuedAt = 0;
  private readonly updates: UpdatedBatchJobInfo[] = [];
  private updateWaiters: (() => void)[] = [];

  private partitionsPromise: Promise<PartitionSet> | undefined;
  private maxArraySizePromise: Promise<number> | undefined;
  private partitions: PartitionSet | undefined;
  private sacctMode: "dbd" | "completion-log" | "unavailable" = "dbd";
  private sacctWarned = false;

  private local: BatchSystem | undefined;
  private localPromise: Promise<BatchSystem> | undefined;
  private readonly localToMine = new Map<number, number>();
  private readonly mineToLocal = new Map<number, number>();
  private localPump: Promise<void> | undefined;
  /** ExternalBatchId messages of local jobs published before their batch id was known. */
  private readonly heldLocalMessages = new Map<number, ExternalBatchIdMessage[]>();
  /**
   * The bus the embedded single-machine batch system publishes to: its batch ids are its own,
   * so they are translated to this batch system's ids before reaching the real bus.
   */
  private readonly localBus: BatchMessageBus = {
    publish: (message) => {
      if (message.type !== "ExternalBatchId") {
        this.messageBus?.publish(message);
        return;
      }
      const mine = this.localToMine.get(message.batchId);
      if (mine !== undefined) {
        this.messageBus?.publish({ ...message, batchId: mine });
      } else {
        const held = this.heldLocalMessages.get(message.batchId) ?? [];
        held.push(message);
        this.heldLocalMessages.set(message.batchId, held);
      }
    },
  };

  private lock: Promise<unknown> = Promise.resolve();
  private loopPromise: Promise<void> | undefined;
  private wakeLoop: (() => void) | undefined;
  private nextPollAt = 0;
  private stopped = false;
  private failure: Error | undefined;
  private statusMessage: string | null = null;
  private lastCounts = { pending: 0, running: 0 };

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
    this.run = options.runner ?? spawnCommand;
    this.localFactory =
      options.localBatchSystem ??
      // The leader registers single_machine; a program using this package alone finds it by package name.
      (() =>
        getBatchSystem(
          hasBatchSystem("single_machine") ? "single_machine" : "@toil/batch-local",
          options.localSearchFrom ? { searchFrom: options.localSearchFrom } : {},
        ));
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
    if (jobDesc.local && (this.config as SlurmConfigExtras).runLocalJobsOnWorkers !== true) return this.issueLocal(command, jobDesc, env);

    const partitions = await this.partitionSet();
    const args = resourceArgs(
      { requirements: jobDesc.requirements, walltime: jobDesc.walltime, environment: env },
      this.settings,
      this.userArgs,
      (time, gpu) => partitions.choose(time, gpu),
    );
    const id = this.nextId++;
    const envKey = Object.entries(env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const argv = jobDesc.argv === undefined ? undefined : [...jobDesc.argv];
    const job: TrackedJob = {
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
    this.jobs.set(id, job);
    this.lastIssuedAt = Date.now();
    if (this.waiting.length === 0) this.firstWaitingAt = this.lastIssuedAt;
    this.waiting.push(job);
    this.ensureLoop();
    this.wakeLoop?.();
    return id;
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

  private partitionSet(): Promise<PartitionSet> {
    this.partitionsPromise ??= (async () => {
      try {
        const res = await this.run("sinfo", [...SINFO_ARGS]);
        if (res.exitCode !== 0) {
          warn(`sinfo failed (${res.stderr.trim() || `exit ${res.exitCode}`}); jobs go to Slurm's default partition unless one is named.`);
          return new PartitionSet([]);
        }
        return new PartitionSet(parseSinfo(res.stdout));
      } catch (err) {
        warn(`cannot run sinfo (${(err as Error).message}); jobs go to Slurm's default partition unless one is named.`);
        return new PartitionSet([]);
      }
    })().then((p) => (this.partitions = p));
    return this.partitionsPromise;
  }

  /** Partitions seen by sinfo (after the first job was issued). */
  getPartitions(): PartitionSet | undefined {
    return this.partitions;
  }

  // ---------------------------------------------------------------- local jobs

  private async issueLocal(command: string, jobDesc: BatchJobDescription, env: Environment): Promise<number> {
    const local = await this.localSystem();
    const localId = await local.issueBatchJob(command, jobDesc, env);
    const id = this.nextId++;
    this.localToMine.set(localId, id);
    this.mineToLocal.set(id, localId);
    const held = this.heldLocalMessages.get(localId);
    if (held) {
      this.heldLocalMessages.delete(localId);
      for (const m of held) this.messageBus?.publish({ ...m, batchId: id });
    }
    this.localPump ??= this.pumpLocal().finally(() => {
      this.localPump = undefined;
    });
    return id;
  }

  private localSystem(): Promise<BatchSystem> {
    this.localPromise ??= (async () => {
      let Local: BatchSystemClass;
      try {
        Local = await this.localFactory();
      } catch (err) {
        throw new SlurmError(
          `Jobs marked local run on the leader's machine through the "single_machine" batch system, but it could not be loaded: ${(err as Error).message} ` +
            "Install @toil/batch-local next to the leader, or pass --runLocalJobsOnWorkers to send local jobs to Slurm.",
          { cause: err },
        );
      }
      const maxLocal = typeof this.config.maxLocalJobs === "number" ? this.config.maxLocalJobs : undefined;
      const local = new Local(
        { ...this.config, ...(maxLocal !== undefined ? { maxJobs: maxLocal } : {}) },
        this.maxCores,
        this.maxMemory,
        this.maxDisk,
      );
      local.setMessageBus(this.localBus);
      this.local = local;
      return local;
    })();
    return this.localPromise;
  }

  private async pumpLocal(): Promise<void> {
    const local = await this.localSystem();
    while (!this.stopped && this.localToMine.size > 0) {
      let info: UpdatedBatchJobInfo | null;
      try {
        info = await local.getUpdatedBatchJob(0.5);
      } catch (err) {
        this.fail(err as Error);
        return;
      }
      if (!info) continue;
      const mine = this.localToMine.get(info.jobId);
      if (mine === undefined) continue;
      this.localToMine.delete(info.jobId);
      this.mineToLocal.delete(mine);
      this.heldLocalMessages.delete(info.jobId);
      this.pushUpdate({ ...info, jobId: mine });
    }
  }

  // ---------------------------------------------------------------- reporting

  async getUpdatedBatchJob(maxWaitSeconds: number): Promise<UpdatedBatchJobInfo | null> {
    if (this.failure) throw this.failure;
    const first = this.updates.shift();
    if (first) return first;
    if (this.stopped) return null;
    await new Promise<void>((resolveWait) => {
      const timer = setTimeout(done, Math.max(0, maxWaitSeconds) * 1000);
      const waiters = this.updateWaiters;
      function done(): void {
        clearTimeout(timer);
        const i = waiters.indexOf(done);
        if (i >= 0) waiters.splice(i, 1);
        resolveWait();
      }
      waiters.push(done);
    });
    if (this.failure) throw this.failure;
    return this.updates.shift() ?? null;
  }

  async getIssuedBatchJobIds(): Promise<number[]> {
    return [...this.jobs.keys(), ...this.mineToLocal.keys()];
  }

  async getRunningBatchJobIds(): Promise<Map<number, number>> {
    const out = new Map<number, number>();
    for (const job of this.jobs.values()) if (job.running) out.set(job.id, job.elapsed);
    if (this.local && this.mineToLocal.size > 0) {
      for (const [localId, secs] of await this.local.getRunningBatchJobIds()) {
        const mine = this.localToMine.get(localId);
        if (mine !== undefined) out.set(mine, secs);
      }
    }
    return out;
  }

  override getSchedulingStatusMessage(): string | null {
    return this.statusMessage;
  }

  override getWorkerContexts(): [] {
    return [];
  }

  private pushUpdate(info: UpdatedBatchJobInfo): void {
    this.updates.push(info);
    this.notify();
  }

  private notify(): void {
    const waiters = this.updateWaiters;
    this.updateWaiters = [];
    for (const w of waiters) w();
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.notify();
  }

  private checkUsable(): void {
    if (this.stopped) throw new BatchSystemShutdownError("The Slurm batch system was shut down; create a new one to issue jobs.");
    if (this.failure) throw this.failure;
  }

  // ---------------------------------------------------------------- background loop

  private ensureLoop(): void {
    this.loopPromise ??= this.loop().catch((err: unknown) => this.fail(err as Error));
  }

  private async loop(): Promise<void> {
    while (!this.stopped && !this.failure) {
      const now = Date.now();
      let nextAt = now + 1000;
      if (this.waiting.length > 0) {
        const due = this.submitDue();
        if (now >= due) await this.exclusive(() => this.submitWaiting());
        else nextAt = Math.min(nextAt, due);
      }
      if (this.submittedCount() > 0) {
        if (Date.now() >= this.nextPollAt) {
          await this.exclusive(() => this.poll());
          this.nextPollAt = Date.now() + this.settings.statePollingWait * 1000;
        }
        nextAt = Math.min(nextAt, this.nextPollAt);
      }
      if (this.waiting.length > 0 && this.submittedCount() < this.settings.maxJobs) {
        nextAt = Math.min(nextAt, this.submitDue());
      }
      if (this.stopped || this.failure) break;
      if (this.jobs.size === 0) {
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

  /**
   * When the waiting jobs are submitted: with arrays, once no new job has arrived for
   * `--slurmArrayWindow` (a leader issues a fan-out one job at a time, slower on a busy machine),
   * but at most {@link MAX_GATHER_MS} after the first one waited.
   */
  private submitDue(): number {
    if (!this.settings.arrays) return this.firstWaitingAt;
    const window = this.settings.arrayWindow * 1000;
    return Math.min(this.lastIssuedAt + window, this.firstWaitingAt + Math.max(window, MAX_GATHER_MS));
  }

  /** Runs `fn` with no other submission, poll or kill in progress. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.lock.then(fn, fn);
    this.lock = next.catch(() => undefined);
    return next;
  }

  private submittedCount(): number {
    return this.jobs.size - this.waiting.length;
  }

  // ---------------------------------------------------------------- submission

  private async submitWaiting(): Promise<void> {
    const free = this.settings.maxJobs - this.submittedCount();
    if (free <= 0 || this.waiting.length === 0) return;
    const take = this.waiting.slice(0, free);
    this.waiting = this.waiting.slice(take.length);
    this.firstWaitingAt = Date.now();
    const groups = new Map<string, TrackedJob[]>();
    for (const job of take) {
      const g = groups.get(job.groupKey);
      if (g) g.push(job);
      else groups.set(job.groupKey, [job]);
    }
    const singles: TrackedJob[] = [];
    const useArrays = this.settings.arrays && [...groups.values()].some((g) => g.length >= this.settings.arrayMinJobs);
    const arraySize = useArrays ? Math.min(this.settings.arrayMaxSize, await this.clusterMaxArraySize()) : 1;
    for (const group of groups.values()) {
      if (useArrays && group.length >= this.settings.arrayMinJobs) {
        for (let i = 0; i < group.length; i += arraySize) {
          const chunk = group.slice(i, i + arraySize);
          if (chunk.length >= this.settings.arrayMinJobs) await this.submitArray(chunk);
          else singles.push(...chunk);
        }
      } else {
        singles.push(...group);
      }
    }
    // A few sbatch calls at once: slurmctld serves them on several threads.
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < singles.length) await this.submitSingle(singles[next++] as TrackedJob);
    };
    await Promise.all(Array.from({ length: Math.min(SBATCH_CONCURRENCY, singles.length) }, worker));
  }

  /** Most tasks one array may have on this cluster: `MaxArraySize` (task indices run from 0 to MaxArraySize - 1). */
  private clusterMaxArraySize(): Promise<number> {
    this.maxArraySizePromise ??= this.run("scontrol", ["show", "config"]).then(
      (res) => {
        const m = /^MaxArraySize\s*=\s*(\d+)/m.exec(res.stdout);
        return m ? Math.max(1, Number(m[1])) : Infinity;
      },
      () => Infinity,
    );
    return this.maxArraySizePromise;
  }

  private logPath(job: TrackedJob, clusterId: string, std: "out" | "err"): string {
    if (this.config.noStdOutErr) return "/dev/null";
    return this.formatStdOutErrPath(job.id, clusterId, std);
  }

  /** sbatch arguments of a single job (without the command). */
  sbatchArgsFor(jobId: number): string[] | undefined {
    const job = this.jobs.get(jobId);
    return job ? this.singleArgs(job) : undefined;
  }

  private singleArgs(job: TrackedJob): string[] {
    const out = escapeSlurmPattern(this.logPath(job, "%j", "out")).replace("%%j", "%j");
    const err = escapeSlurmPattern(this.logPath(job, "%j", "err")).replace("%%j", "%j");
    return [
      "--parsable",
      "-J",
      slurmJobName("toil_job", job.id, job.desc.jobKind),
      "--signal=B:INT@30",
      ...job.args,
      "-o",
      out,
      "-e",
      err,
    ];
  }

  private async submitSingle(job: TrackedJob): Promise<void> {
    const args = [...this.singleArgs(job), `--wrap=exec ${job.command}`];
    const id = await this.sbatch(args, job.env, undefined, [job]);
    if (id === null) return;
    this.markSubmitted(job, id, id);
  }

  /** Jobs per array task for this group: `--slurmPackJobs`, but 1 for jobs with a time limit (it is per job). */
  private packSize(job: TrackedJob): number {
    if (this.settings.packJobs <= 1) return 1;
    const timed = (a: string): boolean => /^(--time(=|$)|-t)/.test(a);
    if (job.args.some(timed) || this.settings.args.some(timed)) return 1;
    return this.settings.packJobs;
  }

  private async submitArray(jobs: TrackedJob[]): Promise<void> {
    const first = jobs[0] as TrackedJob;
    const per = this.packSize(first);
    if (per > 1) {
      await this.submitPacks(jobs, per);
      return;
    }
    const lines = ["#!/bin/sh", "# Toil job array: task i runs the i-th Toil job.", 'case "$SLURM_ARRAY_TASK_ID" in'];
    jobs.forEach((job, i) => {
      lines.push(`${i})`);
      if (!this.config.noStdOutErr) {
        // The Toil-named log files, with the array task's cluster id (<array id>_<task>) filled in by the shell.
        const path = (std: string): string => {
          const [before, after] = this.formatStdOutErrPath(job.id, "\0", std).split("\0") as [string, string];
          return `${singleQuote(before)}"\${SLURM_ARRAY_JOB_ID}_${i}"${singleQuote(after)}`;
        };
        lines.push(`  exec >${path("out")} 2>${path("err")}`);
      }
      lines.push(`  exec ${job.command}`, "  ;;");
    });
    lines.push('*) echo "Toil job array: no job for task $SLURM_ARRAY_TASK_ID" >&2; exit 1 ;;', "esac", "");
    const slurmLog = this.config.noStdOutErr
      ? "/dev/null"
      : `${escapeSlurmPattern(this.getBatchLogsDir())}/toil_${escapeSlurmPattern(this.workflowId)}.array_%A_%a.slurm.log`;
    const args = [
      "--parsable",
      "-J",
      slurmJobName("toil_array", first.id, first.desc.jobKind),
      `--array=0-${jobs.length - 1}`,
      "--signal=B:INT@30",
      ...first.args,
      "-o",
      slurmLog,
    ];
    const id = await this.sbatch(args, first.env, lines.join("\n"), jobs);
    if (id === null) return;
    jobs.forEach((job, i) => this.markSubmitted(job, `${id}_${i}`, id));
  }

  /** One array whose task i runs the i-th group of `per` jobs through the pack runner. */
  private async submitPacks(jobs: TrackedJob[], per: number): Promise<void> {
    const first = jobs[0] as TrackedJob;
    const logs = this.getBatchLogsDir();
    mkdirSync(logs, { recursive: true, mode: 0o700 });
    const dir = mkdtempSync(join(logs, `toil_${this.workflowId}.pack-`));
    const groups: TrackedJob[][] = [];
    for (let i = 0; i < jobs.length; i += per) groups.push(jobs.slice(i, i + per));
    const lines = ["#!/bin/sh", "# Toil job pack array: task i runs the i-th group of Toil jobs.", 'case "$SLURM_ARRAY_TASK_ID" in'];
    groups.forEach((group, i) => {
      const manifest = join(dir, `task-${i}.json`);
      const entries = group.map((job) => ({
        id: job.id,
        command: job.command,
        // The runner executes argv without a shell (warm when it can). A job issued as a shell line
        // without argv runs through sh -c, unless the line is plain words a shell would not expand.
        argv: job.argv ?? plainCommandWords(job.command),
        out: this.logPath(job, "%T", "out"),
        err: this.logPath(job, "%T", "err"),
      }));
      writeFileSync(manifest, JSON.stringify({ dir, jobs: entries }), { mode: 0o600 });
      lines.push(`${i})`, `  exec ${singleQuote(process.execPath)} ${singleQuote(PACK_RUNNER)} ${singleQuote(manifest)}`, "  ;;");
    });
    lines.push('*) echo "Toil job pack array: no jobs for task $SLURM_ARRAY_TASK_ID" >&2; exit 1 ;;', "esac", "");
    const slurmLog = this.config.noStdOutErr
      ? "/dev/null"
      : `${escapeSlurmPattern(logs)}/toil_${escapeSlurmPattern(this.workflowId)}.array_%A_%a.slurm.log`;
    const args = [
      "--parsable",
      "-J",
      slurmJobName("toil_pack", first.id, first.desc.jobKind),
      `--array=0-${groups.length - 1}`,
      "--signal=B:INT@30",
      ...first.args,
      "-o",
      slurmLog,
    ];
    const id = await this.sbatch(args, first.env, lines.join("\n"), jobs);
    if (id === null) return;
    groups.forEach((group, i) => {
      const pack: Pack = { key: `${id}_${i}`, submitId: id, dir, jobs: group };
      this.packs.set(pack.key, pack);
      for (const job of group) {
        if (!this.jobs.has(job.id)) {
          // Killed while sbatch ran: the runner skips it.
          writeFileSync(join(dir, `${job.id}.cancel`), "");
          continue;
        }
        job.pack = pack;
        job.key = pack.key;
        job.submitId = id;
        this.messageBus?.publish({ type: "ExternalBatchId", time: Date.now(), batchId: job.id, externalBatchId: pack.key, batchSystem: "slurm" });
      }
    });
  }

  /** A pack job's exit status from the runner, if it has ended. */
  private packStatus(pack: Pack, job: TrackedJob): number | undefined {
    try {
      const text = readFileSync(join(pack.dir, `${job.id}.status`), "utf8").trim();
      return /^\d+$/.test(text) ? Number(text) : undefined;
    } catch {
      return undefined;
    }
  }

  /** When the runner started a pack job (ms), if it has. */
  private packStarted(pack: Pack, job: TrackedJob): number | undefined {
    try {
      return statSync(join(pack.dir, `${job.id}.started`)).mtimeMs;
    } catch {
      return undefined;
    }
  }

  /** Puts a job that never ran back in the queue, to be submitted again. */
  private requeue(job: TrackedJob): void {
    job.key = undefined;
    job.submitId = undefined;
    job.pack = undefined;
    job.running = false;
    job.elapsed = 0;
    job.missingSince = undefined;
    if (this.waiting.length === 0) this.firstWaitingAt = Date.now();
    this.waiting.push(job);
  }

  /**
   * Reports the jobs of a pack that ended (from the runner's status files), and once the array
   * task has ended, settles the rest: a job that had started gets the task's outcome (e.g.
   * MEMLIMIT), a job that had not is submitted again.
   */
  private updatePack(pack: Pack, rec: SlurmJobRecord | undefined): { pending: number; running: number } {
    let pending = 0;
    let running = 0;
    let taskEnded: { exitStatus: number; exitReason: BatchJobExitReason } | undefined;
    if (rec) {
      pack.missingSince = undefined;
      const outcome = jobOutcome(rec.state, rec.exitStatus, rec.key);
      if (outcome.ended) taskEnded = { exitStatus: outcome.exitStatus, exitReason: outcome.exitReason };
    } else {
      const now = Date.now();
      pack.missingSince ??= now;
      if (now - pack.missingSince > Math.max(60, 10 * this.settings.statePollingWait) * 1000) {
        warn(`Slurm no longer knows job pack ${pack.key}; its unfinished jobs are reported as lost or submitted again.`);
        taskEnded = { exitStatus: EXIT_STATUS_UNAVAILABLE_VALUE, exitReason: BatchJobExitReason.LOST };
      }
    }
    for (const job of pack.jobs) {
      if (!this.jobs.has(job.id) || job.pack !== pack) continue;
      const started = this.packStarted(pack, job);
      const status = this.packStatus(pack, job);
      const wall = started !== undefined ? Math.max(0, (Date.now() - started) / 1000) : null;
      if (status !== undefined) {
        this.finish(job, status, status === 0 ? BatchJobExitReason.FINISHED : BatchJobExitReason.FAILED, wall);
      } else if (taskEnded) {
        if (started !== undefined) {
          const exitStatus = taskEnded.exitStatus === 0 ? EXIT_STATUS_UNAVAILABLE_VALUE : taskEnded.exitStatus;
          const reason = taskEnded.exitReason === BatchJobExitReason.FINISHED ? BatchJobExitReason.FAILED : taskEnded.exitReason;
          this.finish(job, exitStatus, reason, wall);
        } else {
          this.requeue(job);
        }
      } else if (started !== undefined) {
        job.running = true;
        job.elapsed = wall ?? 0;
        running++;
      } else {
        pending++;
      }
    }
    if (taskEnded) this.dropPack(pack);
    return { pending, running };
  }

  /** Forgets a settled pack; the runner's directory goes once no task of its array is left. */
  private dropPack(pack: Pack): void {
    this.packs.delete(pack.key);
    for (const other of this.packs.values()) if (other.dir === pack.dir) return;
    rmSync(pack.dir, { recursive: true, force: true });
  }

  private markSubmitted(job: TrackedJob, key: string, submitId: string): void {
    if (!this.jobs.has(job.id)) {
      // Killed while sbatch ran: make sure it does not run.
      void this.run("scancel", [key]).catch(() => undefined);
      return;
    }
    job.key = key;
    job.submitId = submitId;
    if (key === submitId) {
      job.rawId = key;
      this.byRaw.set(key, job);
    }
    this.byKey.set(key, job);
    this.messageBus?.publish({
      type: "ExternalBatchId",
      time: Date.now(),
      batchId: job.id,
      externalBatchId: key,
      batchSystem: "slurm",
    });
  }

  /**
   * Runs sbatch (with retries for transient failures) and returns the id it printed, or `null`
   * after reporting the jobs as failed when Slurm refused them for good.
   */
  private async sbatch(args: string[], env: Environment, script: string | undefined, jobs: TrackedJob[]): Promise<string | null> {
    let res: CommandResult;
    try {
      res = await this.withRetries("sbatch", args, {
        env: sbatchEnvironment(env),
        input: script,
        permanent: (r) => SBATCH_PERMANENT.test(r.stderr),
      });
    } catch (err) {
      if (err instanceof SlurmCommandError && err.exitCode !== null) {
        const why = err.stderr.trim() || `exit status ${err.exitCode}`;
        warn(`sbatch refused ${jobs.length === 1 ? `job ${jobs[0]?.id}` : `${jobs.length} jobs`}: ${why}`);
        this.statusMessage = `sbatch refused a job: ${why}`;
        for (const job of jobs) this.finish(job, EXIT_STATUS_UNAVAILABLE_VALUE, BatchJobExitReason.ERROR, null);
        return null;
      }
      throw err;
    }
    const text = res.stdout.trim();
    const id = text.split(";")[0]?.trim().split(/\s+/).pop() ?? "";
    if (!/^\d+$/.test(id)) {
      throw new SlurmCommandError(`sbatch printed no job id (output: "${text}").`, "sbatch", args, res.exitCode, res.stderr);
    }
    return id;
  }

  // ---------------------------------------------------------------- polling

  private submittedJobs(): TrackedJob[] {
    const out: TrackedJob[] = [];
    for (const job of this.jobs.values()) if (job.key !== undefined && !job.pack) out.push(job);
    return out;
  }

  private async poll(): Promise<void> {
    const jobs = this.submittedJobs();
    const packs = [...this.packs.values()];
    if (jobs.length === 0 && packs.length === 0) return;
    const seen = new Set<TrackedJob>();
    const submitIds = [...new Set([...jobs.map((j) => j.submitId as string), ...packs.map((p) => p.submitId)])];
    const packRecords = new Map<Pack, SlurmJobRecord>();
    let pending = 0;
    let running = 0;
    const arrayRecords = new Map<string, SlurmJobRecord>();
    for (const rec of await this.squeue(submitIds)) {
      const pack = this.packs.get(rec.key);
      if (pack) {
        packRecords.set(pack, rec);
        continue;
      }
      const job = this.byKey.get(rec.key);
      if (!job) {
        // Unstarted tasks of an array that were cancelled together show as one record of the array itself.
        arrayRecords.set(rec.key, rec);
        continue;
      }
      seen.add(job);
      const state = rec.state.toUpperCase();
      if (state !== "PENDING" && rec.rawId !== job.rawId) {
        job.rawId = rec.rawId;
        this.byRaw.set(rec.rawId, job);
      }
      if (this.apply(job, rec)) continue;
      if (job.running) running++;
      else pending++;
    }
    for (const job of jobs) {
      if (seen.has(job) || job.key === job.submitId) continue;
      const rec = arrayRecords.get(job.submitId as string);
      if (rec && jobOutcome(rec.state, rec.exitStatus, rec.key).ended) {
        seen.add(job);
        this.apply(job, { ...rec, key: job.key as string, elapsed: null });
      }
    }
    for (const pack of packs) {
      let rec = packRecords.get(pack);
      const whole = arrayRecords.get(pack.submitId);
      if (!rec && whole && jobOutcome(whole.state, whole.exitStatus, whole.key).ended) rec = { ...whole, key: pack.key, elapsed: null };
      const counts = this.updatePack(pack, rec);
      pending += counts.pending;
      running += counts.running;
    }
    const missing = jobs.filter((j) => !seen.has(j));
    if (missing.length > 0) {
      for (const rec of await this.sacct(missing)) {
        const job = this.byKey.get(rec.key) ?? this.byRaw.get(rec.key) ?? this.byRaw.get(rec.rawId);
        if (!job || seen.has(job) || !this.jobs.has(job.id)) continue;
        seen.add(job);
        this.apply(job, rec);
      }
      const grace = Math.max(60, 10 * this.settings.statePollingWait) * 1000;
      const now = Date.now();
      for (const job of missing) {
        if (seen.has(job)) continue;
        job.missingSince ??= now;
        if (now - job.missingSince > grace) {
          warn(`Slurm no longer knows job ${job.key} (Toil batch job ${job.id}); reporting it as lost.`);
          this.finish(job, EXIT_STATUS_UNAVAILABLE_VALUE, BatchJobExitReason.MISSING, null);
        }
      }
    }
    this.lastCounts = { pending, running };
    const queued = this.waiting.length;
    this.statusMessage =
      pending + queued > 0
        ? `Slurm: ${running} running, ${pending} pending in Slurm${queued ? `, ${queued} waiting to be submitted (--maxJobs ${this.settings.maxJobs})` : ""}`
        : null;
  }

  /** Applies one record to a job; returns true when the job ended (and was reported). */
  private apply(job: TrackedJob, rec: SlurmJobRecord): boolean {
    job.missingSince = undefined;
    const outcome = jobOutcome(rec.state, rec.exitStatus, rec.key);
    if (!outcome.ended) {
      job.running = outcome.running;
      job.elapsed = rec.elapsed ?? 0;
      return false;
    }
    this.finish(job, outcome.exitStatus, outcome.exitReason, rec.elapsed && rec.elapsed > 0 ? rec.elapsed : null);
    return true;
  }

  private finish(job: TrackedJob, exitStatus: number, exitReason: BatchJobExitReason, wallTime: number | null): void {
    if (!this.jobs.delete(job.id)) return;
    if (job.key) this.byKey.delete(job.key);
    if (job.rawId) this.byRaw.delete(job.rawId);
    this.pushUpdate(updatedBatchJobInfo(job.id, { exitStatus, exitReason, wallTime, backingId: job.key ?? null }));
  }

  /** One squeue call (split only if the id list is too long) for the given submit ids. */
  private async squeue(submitIds: readonly string[]): Promise<SlurmJobRecord[]> {
    const out: SlurmJobRecord[] = [];
    await this.forChunks(submitIds, async (ids) => {
      const res = await this.withRetries("squeue", ["-h", "-t", "all", "-r", "-j", ids.join(","), "-O", SQUEUE_FORMAT], {
        accept: (r) => ids.length === 1 && SQUEUE_UNKNOWN_ID.test(r.stderr),
      });
      out.push(...(res.exitCode === 0 ? parseSqueue(res.stdout) : []));
    });
    return out;
  }

  /** One sacct call for jobs squeue no longer lists (falls back to the job completion log, `sacct -c`). */
  private async sacct(jobs: readonly TrackedJob[]): Promise<SlurmJobRecord[]> {
    if (this.sacctMode === "unavailable") return [];
    const ids = [...new Set(jobs.map((j) => j.rawId ?? j.key ?? ""))].filter(Boolean);
    const out: SlurmJobRecord[] = [];
    const start = slurmDate(this.startedAt - 86_400_000);
    await this.forChunks(ids, async (chunk) => {
      for (;;) {
        const mode = this.sacctMode;
        if (mode === "unavailable") return;
        const args = ["-n", "-P", "-o", SACCT_FORMAT, "-S", start, "-E", "now", "-j", chunk.join(",")];
        if (mode === "completion-log") args.unshift("-c");
        // sacct is only the second source: its failures are warnings, never fatal.
        const res = await this.withRetries("sacct", args, { accept: () => true });
        if (res.exitCode === 0) {
          out.push(...parseSacct(res.stdout));
          return;
        }
        const why = res.stderr.trim() || `exit status ${res.exitCode}`;
        if (mode === "dbd" && SACCT_DISABLED.test(res.stderr)) {
          this.sacctMode = "completion-log";
          continue;
        }
        if (mode === "completion-log") {
          warn(`sacct -c cannot report finished jobs here (${why}); jobs squeue forgets will be reported as lost.`);
          this.sacctMode = "unavailable";
        } else if (!this.sacctWarned) {
          this.sacctWarned = true;
          warn(`sacct failed (${why}); relying on squeue for job states.`);
        }
        return;
      }
    });
    return out;
  }

  /** Calls `fn` on id lists short enough for one argument; halves a list the OS still finds too long. */
  private async forChunks(ids: readonly string[], fn: (chunk: string[]) => Promise<void>): Promise<void> {
    const attempt = async (chunk: string[]): Promise<void> => {
      try {
        await fn(chunk);
      } catch (err) {
        if (err instanceof SlurmCommandError && err.spawnCode === "E2BIG" && chunk.length > 1) {
          const half = Math.ceil(chunk.length / 2);
          await attempt(chunk.slice(0, half));
          await attempt(chunk.slice(half));
          return;
        }
        throw err;
      }
    };
    for (const chunk of chunkIds(ids)) await attempt(chunk);
  }

  /**
   * Runs a command; a failing exit status is retried with growing delays (from
   * `--statePollingWait`) until `--statePollingTimeout` has passed, unless `accept` says the
   * result is fine or `permanent` says retrying cannot help. Throws {@link SlurmCommandError}.
   */
  private async withRetries(
    command: string,
    args: string[],
    opts: {
      env?: NodeJS.ProcessEnv;
      input?: string;
      accept?: (r: CommandResult) => boolean;
      permanent?: (r: CommandResult) => boolean;
    } = {},
  ): Promise<CommandResult> {
    const began = Date.now();
    let delay = Math.max(0.05, this.settings.statePollingWait) * 1000;
    let attempts = 0;
    for (;;) {
      attempts++;
      // A command that cannot start at all (not installed, argument list too long) throws: not transient.
      const res = await this.run(command, args, { env: opts.env, input: opts.input });
      if (res.exitCode === 0 || opts.accept?.(res)) return res;
      const why = res.stderr.trim() || res.stdout.trim() || `exit status ${res.exitCode}`;
      const elapsed = (Date.now() - began) / 1000;
      if (opts.permanent?.(res) || elapsed + delay / 1000 > this.settings.statePollingTimeout || this.stopped) {
        throw new SlurmCommandError(
          `${command} failed${attempts > 1 ? ` ${attempts} times over ${Math.round(elapsed)}s` : ""}: ${why}` +
            (opts.permanent?.(res) ? "" : ". Check that the Slurm controller is reachable (sinfo), or raise --statePollingTimeout."),
          command,
          args,
          res.exitCode,
          res.stderr,
        );
      }
      warn(`${command} failed (${why}); retrying in ${(delay / 1000).toFixed(1)}s.`);
      await sleep(delay);
      delay = Math.min(delay * 2, 60_000);
    }
  }

  // ---------------------------------------------------------------- killing and shutdown

  async killBatchJobs(jobIds: readonly number[]): Promise<void> {
    const localIds: number[] = [];
    for (const id of jobIds) {
      const l = this.mineToLocal.get(id);
      if (l !== undefined) {
        localIds.push(l);
        this.mineToLocal.delete(id);
        this.localToMine.delete(l);
      }
    }
    if (localIds.length > 0 && this.local) await this.local.killBatchJobs(localIds);
    const wanted = new Set(jobIds);
    await this.exclusive(async () => {
      const keys: TrackedJob[] = [];
      const stopPacks = new Set<Pack>();
      for (const id of jobIds) {
        const job = this.jobs.get(id);
        if (!job) continue;
        this.jobs.delete(id);
        const pack = job.pack;
        if (pack) {
          // The runner skips a cancelled job it has not started; one it is running stops only with its task.
          writeFileSync(join(pack.dir, `${job.id}.cancel`), "");
          if (this.packStarted(pack, job) !== undefined && this.packStatus(pack, job) === undefined && !stopPacks.has(pack)) {
            stopPacks.add(pack);
            keys.push(job);
          }
          continue;
        }
        if (job.key) {
          this.byKey.delete(job.key);
          keys.push(job);
        }
        if (job.rawId) this.byRaw.delete(job.rawId);
      }
      this.waiting = this.waiting.filter((j) => this.jobs.has(j.id));
      await this.cancel(keys);
      // The other jobs of a stopped pack: reported if they had ended, else submitted again.
      for (const pack of stopPacks) {
        for (const job of pack.jobs) {
          if (!this.jobs.has(job.id) || job.pack !== pack) continue;
          const status = this.packStatus(pack, job);
          if (status !== undefined) this.finish(job, status, status === 0 ? BatchJobExitReason.FINISHED : BatchJobExitReason.FAILED, null);
          else this.requeue(job);
        }
        this.dropPack(pack);
      }
      if (this.waiting.length > 0) this.wakeLoop?.();
    });
    // Nothing killed is ever reported, even if it ended just before.
    for (let i = this.updates.length - 1; i >= 0; i--) {
      if (wanted.has((this.updates[i] as UpdatedBatchJobInfo).jobId)) this.updates.splice(i, 1);
    }
  }

  /** scancel the jobs, then wait (up to --statePollingTimeout) until Slurm says none of them runs. */
  private async cancel(jobs: readonly TrackedJob[]): Promise<void> {
    if (jobs.length === 0) return;
    const keys = [...new Set(jobs.map((j) => j.key as string))];
    await this.forChunks(keys, async (chunk) => {
      await this.withRetries("scancel", chunk, { accept: (r) => /Invalid job id|already completing or completed/i.test(r.stderr) });
    });
    const deadline = Date.now() + this.settings.statePollingTimeout * 1000;
    const submitIds = [...new Set(jobs.map((j) => j.submitId as string))];
    const wanted = new Set(keys);
    let delay = 100;
    while (Date.now() < deadline) {
      const live = (await this.squeue(submitIds)).filter((r) => {
        if (!wanted.has(r.key)) return false;
        return !jobOutcome(r.state, r.exitStatus, r.key).ended;
      });
      if (live.length === 0) return;
      await sleep(delay);
      delay = Math.min(delay * 2, 2000);
    }
    warn(`Slurm jobs ${keys.join(", ")} were cancelled but still show as running after --statePollingTimeout.`);
  }

  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.wakeLoop?.();
    await this.loopPromise;
    await this.exclusive(async () => {
      // cancel() needs only the Slurm ids: one stand-in per pack task.
      const packTasks = [...this.packs.values()].map((p) => ({ key: p.key, submitId: p.submitId }) as TrackedJob);
      const live = [...this.submittedJobs(), ...packTasks];
      this.packs.clear();
      this.jobs.clear();
      this.byKey.clear();
      this.byRaw.clear();
      this.waiting = [];
      try {
        await this.cancel(live);
      } catch (err) {
        warn(`could not cancel every Slurm job at shutdown: ${(err as Error).message}`);
      }
    });
    if (this.localPump) await this.localPump.catch(() => undefined);
    if (this.local) await this.local.shutdown();
    this.mineToLocal.clear();
    this.localToMine.clear();
    this.notify();
  }

  /** Counts from the last poll (jobs Slurm listed as pending and running). */
  getLastPollCounts(): {
    /** Jobs Slurm listed as pending. */
    pending: number;
    /** Jobs Slurm listed as running. */
    running: number;
  } {
    return { ...this.lastCounts };
  }
}

type ExternalBatchIdMessage = Extract<Parameters<BatchMessageBus["publish"]>[0], { type: "ExternalBatchId" }>;

function warn(message: string): void {
  process.emitWarning(message, { type: "ToilSlurmWarning" });
}
