/**
 * Toil jobs that go to Slurm as Slurm jobs of their own: one `sbatch` per job, one task of a job
 * array per job, or one place in a job pack. Submission, polling, kill and shutdown of those.
 */
import { mkdirSync } from "node:fs";
import {
  BatchJobExitReason,
  type Environment,
  EXIT_STATUS_UNAVAILABLE_VALUE,
  updatedBatchJobInfo,
} from "@toil/batch-core";
import { missingGraceSeconds, type SlurmContext } from "./context.js";
import { JobPacks } from "./job-packs.js";
import { runtimeScript } from "./runtime-scripts.js";
import { jobOutcome, type SlurmJobRecord } from "./state.js";
import { arrayScript, arraySbatchArgs, arraySlurmLog, packArray, singleSbatchArgs } from "./submission.js";
import type { Pack, TrackedJob } from "./tracked-job.js";

/** The script that runs a job pack inside one array task. */
const PACK_RUNNER = runtimeScript("pack-runner.mjs");

/** Longest time newly issued jobs are gathered into one submission while more keep arriving. */
const MAX_GATHER_MS = 1000;
/** sbatch calls made at the same time when jobs are submitted one by one. */
const SBATCH_CONCURRENCY = 4;

/** Jobs run as Slurm jobs of their own (single, array task or pack), from submission to report. */
export class PlainJobs {
  private readonly jobs = new Map<number, TrackedJob>();
  private readonly byKey = new Map<string, TrackedJob>();
  private readonly byRaw = new Map<string, TrackedJob>();
  private readonly packs: JobPacks;
  private waiting: TrackedJob[] = [];
  private firstWaitingAt = 0;
  private lastIssuedAt = 0;
  private nextPollAt = 0;
  private lastCounts = { pending: 0, running: 0 };

  constructor(
    private readonly ctx: SlurmContext,
    /** Worker hosts in Slurm: they count against `--maxJobs` too. */
    private readonly hostsInSlurm: () => number = () => 0,
  ) {
    this.packs = new JobPacks({
      isLive: (job) => this.jobs.has(job.id),
      finish: (job, status, reason, wall) => this.finish(job, status, reason, wall),
      requeue: (job) => this.requeue(job),
      announce: (job, key) => this.announce(job, key),
      missingGraceSeconds: () => missingGraceSeconds(this.ctx.settings),
      warn: (message) => this.ctx.warn(message),
    });
  }

  /** Queues a job for submission. */
  add(job: TrackedJob): void {
    this.jobs.set(job.id, job);
    this.lastIssuedAt = Date.now();
    if (this.waiting.length === 0) this.firstWaitingAt = this.lastIssuedAt;
    this.waiting.push(job);
  }

  /** Jobs issued and not yet reported. */
  get size(): number {
    return this.jobs.size;
  }

  /** Ids of jobs issued and not yet reported. */
  issuedIds(): IterableIterator<number> {
    return this.jobs.keys();
  }

  /** Running jobs with their seconds running. */
  running(out: Map<number, number>): void {
    for (const job of this.jobs.values()) if (job.running) out.set(job.id, job.elapsed);
  }

  /** The job with this batch id, if it is one of these. */
  get(id: number): TrackedJob | undefined {
    return this.jobs.get(id);
  }

  /** Counts from the last poll. */
  lastPollCounts(): { pending: number; running: number } {
    return { ...this.lastCounts };
  }

  /** Submits what is due and polls when it is time; returns when it wants to run again (ms). */
  async step(): Promise<number> {
    const now = Date.now();
    let nextAt = now + 1000;
    if (this.waiting.length > 0) {
      const due = this.submitDue();
      if (now >= due) await this.ctx.exclusive(() => this.submitWaiting());
      else nextAt = Math.min(nextAt, due);
    }
    if (this.submittedCount() > 0) {
      if (Date.now() >= this.nextPollAt) {
        await this.ctx.exclusive(() => this.poll());
        this.nextPollAt = Date.now() + this.ctx.settings.statePollingWait * 1000;
      }
      nextAt = Math.min(nextAt, this.nextPollAt);
    }
    if (this.waiting.length > 0 && this.submittedCount() + this.hostsInSlurm() < this.ctx.settings.maxJobs) {
      nextAt = Math.min(nextAt, this.submitDue());
    }
    return nextAt;
  }

  /**
   * When the waiting jobs are submitted: with arrays, once no new job has arrived for
   * `--slurmArrayWindow` (a leader issues a fan-out one job at a time, slower on a busy machine),
   * but at most {@link MAX_GATHER_MS} after the first one waited.
   */
  private submitDue(): number {
    if (!this.ctx.settings.arrays) return this.firstWaitingAt;
    const window = this.ctx.settings.arrayWindow * 1000;
    return Math.min(this.lastIssuedAt + window, this.firstWaitingAt + Math.max(window, MAX_GATHER_MS));
  }

  /** Jobs submitted to Slurm and not yet reported. */
  submittedCount(): number {
    return this.jobs.size - this.waiting.length;
  }

  // ---------------------------------------------------------------- submission

  private async submitWaiting(): Promise<void> {
    const settings = this.ctx.settings;
    const free = settings.maxJobs - this.submittedCount() - this.hostsInSlurm();
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
    const useArrays = settings.arrays && [...groups.values()].some((g) => g.length >= settings.arrayMinJobs);
    const arraySize = useArrays ? Math.min(settings.arrayMaxSize, await this.ctx.slurm.clusterMaxArraySize()) : 1;
    for (const group of groups.values()) {
      if (useArrays && group.length >= settings.arrayMinJobs) {
        for (let i = 0; i < group.length; i += arraySize) {
          const chunk = group.slice(i, i + arraySize);
          if (chunk.length >= settings.arrayMinJobs) await this.submitArray(chunk);
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

  private logPath = (job: TrackedJob, clusterId: string, std: "out" | "err"): string => this.ctx.logPath(job.id, clusterId, std);

  /** sbatch arguments of a single job (without the command). */
  sbatchArgsFor(jobId: number): string[] | undefined {
    const job = this.jobs.get(jobId);
    return job ? singleSbatchArgs(job, this.logPath) : undefined;
  }

  private async submitSingle(job: TrackedJob): Promise<void> {
    const args = [...singleSbatchArgs(job, this.logPath), `--wrap=exec ${job.command}`];
    const id = await this.sbatch(args, job.env, undefined, [job]);
    if (id === null) return;
    this.markSubmitted(job, id, id);
  }

  /** Jobs per array task for this group: `--slurmPackJobs`, but 1 for jobs with a time limit (it is per job). */
  private packSize(job: TrackedJob): number {
    const settings = this.ctx.settings;
    if (settings.packJobs <= 1) return 1;
    const timed = (a: string): boolean => /^(--time(=|$)|-t)/.test(a);
    if (job.args.some(timed) || settings.args.some(timed)) return 1;
    return settings.packJobs;
  }

  private async submitArray(jobs: TrackedJob[]): Promise<void> {
    const first = jobs[0] as TrackedJob;
    const per = this.packSize(first);
    if (per > 1) {
      await this.submitPacks(jobs, per);
      return;
    }
    const logs = this.ctx.logNaming();
    const script = arrayScript(jobs, logs.discard ? null : (job, std) => this.ctx.logPath(job.id, "\0", std));
    const args = arraySbatchArgs({
      namePrefix: "toil_array",
      nameId: first.id,
      nameKind: first.desc.jobKind,
      tasks: jobs.length,
      resourceArgs: first.args,
      slurmLog: arraySlurmLog(logs),
    });
    const id = await this.sbatch(args, first.env, script, jobs);
    if (id === null) return;
    jobs.forEach((job, i) => this.markSubmitted(job, `${id}_${i}`, id));
  }

  /** One array whose task i runs the i-th group of `per` jobs through the pack runner. */
  private async submitPacks(jobs: TrackedJob[], per: number): Promise<void> {
    const first = jobs[0] as TrackedJob;
    const logs = this.ctx.logNaming();
    mkdirSync(logs.dir, { recursive: true, mode: 0o700 });
    const pack = packArray(jobs, per, logs, this.logPath, { node: process.execPath, script: PACK_RUNNER });
    const args = arraySbatchArgs({
      namePrefix: "toil_pack",
      nameId: first.id,
      nameKind: first.desc.jobKind,
      tasks: pack.groups.length,
      resourceArgs: first.args,
      slurmLog: arraySlurmLog(logs),
    });
    const id = await this.sbatch(args, first.env, pack.script, jobs);
    if (id === null) return;
    this.packs.add(id, pack.dir, pack.groups);
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

  private markSubmitted(job: TrackedJob, key: string, submitId: string): void {
    if (!this.jobs.has(job.id)) {
      // Killed while sbatch ran: make sure it does not run.
      this.ctx.slurm.cancelNow([key]);
      return;
    }
    job.key = key;
    job.submitId = submitId;
    if (key === submitId) {
      job.rawId = key;
      this.byRaw.set(key, job);
    }
    this.byKey.set(key, job);
    this.announce(job, key);
  }

  /** Tells the bus which Slurm job runs a batch job. */
  private announce(job: TrackedJob, key: string): void {
    this.ctx.bus()?.publish({ type: "ExternalBatchId", time: Date.now(), batchId: job.id, externalBatchId: key, batchSystem: "slurm" });
  }

  /**
   * Runs sbatch (with retries for transient failures) and returns the id it printed, or `null`
   * after reporting the jobs as failed when Slurm refused them for good.
   */
  private async sbatch(args: string[], env: Environment, script: string | undefined, jobs: TrackedJob[]): Promise<string | null> {
    const res = await this.ctx.slurm.sbatch(args, env, script);
    if ("id" in res) return res.id;
    this.ctx.warn(`sbatch refused ${jobs.length === 1 ? `job ${jobs[0]?.id}` : `${jobs.length} jobs`}: ${res.refused}`);
    this.ctx.setStatus("plain", `sbatch refused a job: ${res.refused}`);
    for (const job of jobs) this.finish(job, EXIT_STATUS_UNAVAILABLE_VALUE, BatchJobExitReason.ERROR, null);
    return null;
  }

  // ---------------------------------------------------------------- polling

  /** Jobs submitted as single jobs or array tasks (not packs). */
  submittedJobs(): TrackedJob[] {
    const out: TrackedJob[] = [];
    for (const job of this.jobs.values()) if (job.key !== undefined && !job.pack) out.push(job);
    return out;
  }

  private async poll(): Promise<void> {
    const jobs = this.submittedJobs();
    const packs = this.packs.all();
    if (jobs.length === 0 && packs.length === 0) return;
    const seen = new Set<TrackedJob>();
    const submitIds = [...new Set([...jobs.map((j) => j.submitId as string), ...packs.map((p) => p.submitId)])];
    const packRecords = new Map<Pack, SlurmJobRecord>();
    let pending = 0;
    let running = 0;
    const arrayRecords = new Map<string, SlurmJobRecord>();
    for (const rec of await this.ctx.slurm.squeue(submitIds)) {
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
      const counts = this.packs.update(pack, rec);
      pending += counts.pending;
      running += counts.running;
    }
    const missing = jobs.filter((j) => !seen.has(j));
    if (missing.length > 0) {
      for (const rec of await this.ctx.slurm.sacct(missing.map((j) => j.rawId ?? j.key ?? ""))) {
        const job = this.byKey.get(rec.key) ?? this.byRaw.get(rec.key) ?? this.byRaw.get(rec.rawId);
        if (!job || seen.has(job) || !this.jobs.has(job.id)) continue;
        seen.add(job);
        this.apply(job, rec);
      }
      const grace = missingGraceSeconds(this.ctx.settings) * 1000;
      const now = Date.now();
      for (const job of missing) {
        if (seen.has(job)) continue;
        job.missingSince ??= now;
        if (now - job.missingSince > grace) {
          this.ctx.warn(`Slurm no longer knows job ${job.key} (Toil batch job ${job.id}); reporting it as lost.`);
          this.finish(job, EXIT_STATUS_UNAVAILABLE_VALUE, BatchJobExitReason.MISSING, null);
        }
      }
    }
    this.lastCounts = { pending, running };
    const queued = this.waiting.length;
    this.ctx.setStatus(
      "plain",
      pending + queued > 0
        ? `Slurm: ${running} running, ${pending} pending in Slurm${queued ? `, ${queued} waiting to be submitted (--maxJobs ${this.ctx.settings.maxJobs})` : ""}`
        : null,
    );
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
    this.ctx.updates.push(updatedBatchJobInfo(job.id, { exitStatus, exitReason, wallTime, backingId: job.key ?? null }));
  }

  // ---------------------------------------------------------------- killing and shutdown

  /** Kills these jobs (the ones that are plain jobs); call inside `exclusive`. */
  async kill(jobIds: readonly number[]): Promise<void> {
    const stop: TrackedJob[] = [];
    const stopPacks = new Set<Pack>();
    for (const id of jobIds) {
      const job = this.jobs.get(id);
      if (!job) continue;
      this.jobs.delete(id);
      const pack = job.pack;
      if (pack) {
        // The runner skips a cancelled job it has not started; one it is running stops only with its task.
        if (this.packs.cancel(pack, job) && !stopPacks.has(pack)) {
          stopPacks.add(pack);
          stop.push(job);
        }
        continue;
      }
      if (job.key) {
        this.byKey.delete(job.key);
        stop.push(job);
      }
      if (job.rawId) this.byRaw.delete(job.rawId);
    }
    this.waiting = this.waiting.filter((j) => this.jobs.has(j.id));
    await this.ctx.slurm.cancel(
      stop.map((j) => j.key as string),
      stop.map((j) => j.submitId as string),
    );
    // The other jobs of a stopped pack: reported if they had ended, else submitted again.
    for (const pack of stopPacks) this.packs.settleStopped(pack);
  }

  /** Whether jobs wait to be submitted. */
  get hasWaiting(): boolean {
    return this.waiting.length > 0;
  }

  /** Forgets every job and cancels those in Slurm; call inside `exclusive`. */
  async shutdown(): Promise<void> {
    // cancel() needs only the Slurm ids: each job's, and each pack task's.
    const live = [...this.submittedJobs().map((j) => ({ key: j.key as string, submitId: j.submitId as string })), ...this.packs.clear()];
    this.jobs.clear();
    this.byKey.clear();
    this.byRaw.clear();
    this.waiting = [];
    await this.ctx.slurm.cancel(
      live.map((t) => t.key),
      live.map((t) => t.submitId),
    );
  }
}
