/**
 * Warm worker hosts: Slurm jobs (job array tasks) that each run Toil jobs of one shape, one at a
 * time, handed out by the leader through files on the shared file system, until they have been
 * idle for `--slurmWorkerIdleTime`. How many hosts of each shape to keep is decided here, from
 * the jobs waiting for them.
 * (Over 600 lines: one state machine over the hosts and their jobs; its pure parts are in host-scaling, host-files, host-slurm.)
 */
import { appendFileSync } from "node:fs";
import { BatchJobExitReason, FifoQueue, updatedBatchJobInfo } from "@toil/batch-core";
import { missingGraceSeconds, type SlurmContext } from "../context.js";
import type { SbatchResult } from "../slurm-commands.js";
import { jobOutcome, type JobOutcome, normalizeState, type SlurmJobRecord } from "../state.js";
import { HEARTBEAT_SECONDS, HostFiles, type HostMessage, hostsBaseDir } from "./host-files.js";
import { coming, fits, hostsToSubmit, hostsWanted, hostToMakeRoom, idleHostsToRelease, readyCount, surplusPending } from "./host-scaling.js";
import { pollHostStates, slurmLogLines, submitHostArray } from "./host-slurm.js";
import type { Host, HostedJob, ShapeState } from "./types.js";

/** How often a job whose host died under it is run again before the host's end is reported as its own. */
export const MAX_FREE_REISSUES = 3;
/** A host's heartbeat check: seconds without a change of the leader's heartbeat before it exits. */
export const LEADER_TIMEOUT_SECONDS = 30;
/** Seconds a host may run in Slurm without saying it is ready before it counts as failed to start. */
const START_TIMEOUT_SECONDS = 120;
/** Hosts that failed to start in a row (none ever ready) before worker hosts are turned off. */
const MAX_START_FAILURES = 3;

/** What the hosts need from the batch system besides the shared context. */
export interface WorkerHostOwner {
  /** Runs a job as a Slurm job of its own (worker hosts could not start). */
  runPlain(job: HostedJob): void;
  /** Wakes the background loop (new work for `step`). */
  wake(): void;
  /** Slurm jobs of the batch system other than worker hosts, submitted and not ended. */
  plainInSlurm(): number;
  /** Of those, the ones Slurm keeps pending (at the last poll). */
  plainPending(): number;
  /** Where the hosts' directory may go (the job store's locator, if any). */
  jobStore: string | undefined;
  /** The workflow id. */
  workflowId: string;
  /** The batch logs directory. */
  batchLogsDir: string;
}

/** The worker hosts of one Slurm batch system and the jobs waiting for them. */
export class WorkerHosts {
  private files: HostFiles | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly jobs = new Map<number, HostedJob>();
  private readonly shapes = new Map<string, ShapeState>();
  private readonly hosts = new Map<string, Host>();
  private nextPollAt = 0;
  private startFailures = 0;
  private lastStartFailure = "";
  private everReady = false;
  private pumpScheduled = false;
  private dirtyAll = false;
  private readonly dirty = new Set<string>();
  private submittingNow = false;
  private needSince: number | undefined;
  private lastAddAt = 0;
  private batchNumber = 0;
  /** Seconds from submitting a host to its first words (a moving average). */
  private hostStartSeconds = 2;
  /** Why sbatch last refused hosts (until hosts are submitted again). */
  private refusal: string | undefined;
  /** Why worker hosts were turned off (jobs then go out as Slurm jobs of their own). */
  disabled: string | undefined;

  constructor(
    private readonly ctx: SlurmContext,
    private readonly owner: WorkerHostOwner,
    private readonly hostScript: string,
  ) {}

  /** Jobs issued to hosts and not yet reported. */
  get size(): number {
    return this.jobs.size;
  }

  /** Hosts alive in Slurm (submitted and not ended), and those being submitted. */
  get alive(): number {
    let n = this.hosts.size;
    for (const s of this.shapes.values()) n += s.submitting;
    return n;
  }

  /** Ids of the jobs issued to hosts. */
  issuedIds(): IterableIterator<number> {
    return this.jobs.keys();
  }

  /** Jobs running on hosts, with their seconds running. */
  running(out: Map<number, number>): void {
    const now = Date.now();
    for (const job of this.jobs.values()) if (job.startedAt !== undefined) out.set(job.id, (now - job.startedAt) / 1000);
  }

  /** Queues a job for a host of its shape, hands it out if a host is free, and asks for hosts if none is. */
  add(job: HostedJob): void {
    this.ensureFiles();
    this.jobs.set(job.id, job);
    let state = this.shapes.get(job.shape.key);
    if (!state) {
      state = { shape: job.shape, queue: new FifoQueue(), hosts: new Set(), idle: new Set(), submitting: 0 };
      this.shapes.set(job.shape.key, state);
    }
    state.queue.push(job);
    this.lastAddAt = Date.now();
    this.dispatch(state);
    if (state.queue.length > 0) this.owner.wake();
  }

  private ensureFiles(): HostFiles {
    if (this.files) return this.files;
    const base = hostsBaseDir(this.owner.jobStore, this.owner.batchLogsDir, this.owner.workflowId);
    const files = new HostFiles(base, this.owner.workflowId, {
      idleSeconds: this.ctx.settings.workerIdleTime,
      leaderTimeoutSeconds: LEADER_TIMEOUT_SECONDS,
    });
    files.watch((key) => {
      if (this.hosts.has(key)) this.schedulePump(key);
    });
    this.heartbeat = setInterval(() => files.heartbeat(), HEARTBEAT_SECONDS * 1000);
    this.heartbeat.unref();
    this.files = files;
    return files;
  }

  // ---------------------------------------------------------------- handing out jobs

  /** Hands waiting jobs of a shape to its idle hosts. */
  private dispatch(state: ShapeState): void {
    if (state.queue.length === 0 || state.idle.size === 0) return;
    for (const host of [...state.idle]) {
      if (state.queue.length === 0) return;
      const job = state.queue.take((j) => fits(host, j));
      if (job) this.assign(host, job);
    }
  }

  /** Keeps the shape's set of idle hosts right after a host's state changed. */
  private refreshIdle(host: Host): void {
    const idle = this.shapes.get(host.shape.key)?.idle;
    if (!idle) return;
    if (host.phase === "ready" && !host.job && !host.draining) idle.add(host);
    else idle.delete(host);
  }

  private assign(host: Host, job: HostedJob): void {
    const files = this.ensureFiles();
    host.seq++;
    host.job = job;
    this.refreshIdle(host);
    job.host = host;
    job.seq = host.seq;
    job.startedAt = undefined;
    files.send(host.key, {
      t: "run",
      seq: host.seq,
      id: job.id,
      argv: job.argv,
      command: job.command,
      env: job.env,
      out: this.ctx.logPath(job.id, host.key, "out"),
      err: this.ctx.logPath(job.id, host.key, "err"),
    });
    this.ctx.bus()?.publish({ type: "ExternalBatchId", time: Date.now(), batchId: job.id, externalBatchId: host.key, batchSystem: "slurm" });
  }

  /** Puts a job back at the front of its shape's queue. */
  private requeue(job: HostedJob): void {
    job.host = undefined;
    job.seq = undefined;
    job.startedAt = undefined;
    const state = this.shapes.get(job.shape.key);
    if (!state || !this.jobs.has(job.id)) return;
    state.queue.unshift(job);
    this.dispatch(state);
    this.owner.wake();
  }

  private report(job: HostedJob, exitStatus: number, exitReason: BatchJobExitReason, wallTime: number | null, backingId: string | null): void {
    if (!this.jobs.delete(job.id)) return;
    this.ctx.updates.push(updatedBatchJobInfo(job.id, { exitStatus, exitReason, wallTime, backingId }));
  }

  // ---------------------------------------------------------------- what hosts say

  /** Reads a host's outbox soon (all hosts' without a key). */
  private schedulePump(key?: string): void {
    if (key === undefined) this.dirtyAll = true;
    else this.dirty.add(key);
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      const all = this.dirtyAll;
      const keys = [...this.dirty];
      this.dirtyAll = false;
      this.dirty.clear();
      if (this.ctx.stopped()) return;
      this.readHosts(all ? undefined : keys);
    });
  }

  /** Reads the new messages of these hosts (default: every live host) and acts on them. */
  private readHosts(keys?: readonly string[]): void {
    if (!this.files) return;
    const touched = new Set<ShapeState>();
    const hosts = keys === undefined ? [...this.hosts.values()] : keys.map((k) => this.hosts.get(k)).filter((h): h is Host => h !== undefined);
    for (const host of hosts) {
      const messages = this.files.receive(host.key);
      if (messages.length === 0) continue;
      for (const m of messages) this.onMessage(host, m);
      const state = this.shapes.get(host.shape.key);
      if (state) touched.add(state);
    }
    for (const state of touched) this.dispatch(state);
    if (this.needsHosts()) this.owner.wake();
  }

  private onMessage(host: Host, m: HostMessage): void {
    const now = Date.now();
    switch (m.t) {
      case "ready":
        if (host.phase !== "submitted") return;
        host.phase = "ready";
        this.refreshIdle(host);
        host.ever.ready = true;
        this.everReady = true;
        this.startFailures = 0;
        host.node = m.node;
        host.idleSince = now;
        this.hostStartSeconds = 0.7 * this.hostStartSeconds + 0.3 * ((now - host.submittedAt) / 1000);
        // The host's own uptime, plus a little for Slurm's start and the time the line took to be seen.
        host.startedAt = now - (Number(m.uptime) || 0) * 1000 - 2000;
        this.ctx.bus()?.publish({
          type: "WorkerHostStarted",
          time: now,
          hostId: host.key,
          batchSystem: "slurm",
          shape: host.shape.label,
          node: String(m.node),
        });
        return;
      case "start":
        if (host.job && host.job.seq === m.seq) host.job.startedAt = now;
        return;
      case "done": {
        const job = host.job;
        if (!job || job.seq !== m.seq) return;
        host.job = undefined;
        this.refreshIdle(host);
        host.idleSince = now;
        const code = Number(m.code);
        const wall = Number(m.wall) > 0 ? Number(m.wall) : null;
        const state = this.shapes.get(host.shape.key);
        if (state) state.jobSeconds = state.jobSeconds === undefined ? (wall ?? 0) : 0.7 * state.jobSeconds + 0.3 * (wall ?? 0);
        if (m.oom === true) this.report(job, 253, BatchJobExitReason.MEMLIMIT, wall, host.key);
        else this.report(job, code, code === 0 ? BatchJobExitReason.FINISHED : BatchJobExitReason.FAILED, wall, host.key);
        return;
      }
      case "draining":
        host.draining = true;
        this.refreshIdle(host);
        return;
      case "exit": {
        host.exitWhy = m.why;
        // A job's code left an error unhandled: the worker failed that job, and the host runs no more.
        if (m.why === "retire") this.ctx.warn(`Replacing Slurm worker host ${host.key}: ${m.reason ?? "its script asked for it"}`);
        if (host.phase !== "gone") host.phase = "gone";
        this.refreshIdle(host);
        const job = host.job;
        if (!job) return;
        host.job = undefined;
        // A job with no "start" line never ran: it goes to another host as it is.
        if (job.startedAt === undefined) this.requeue(job);
        else this.hostDied(job, host, `${host.exitWhy === "leader" ? "lost contact with the leader" : `exited (${host.exitWhy})`}`, undefined);
        return;
      }
    }
  }

  /**
   * A job's host ended under it for a reason of the host's own (cancelled, time limit, node
   * failure, preemption): the job runs again on another host without using up a retry, up to
   * {@link MAX_FREE_REISSUES} times; then the host's end is reported as the job's.
   */
  private hostDied(job: HostedJob, host: Host, why: string, outcome: Extract<JobOutcome, { ended: true }> | undefined): void {
    if (job.freeReissues < MAX_FREE_REISSUES) {
      job.freeReissues++;
      this.ctx.warn(`Worker host ${host.key} ${why} while running batch job ${job.id}; it runs again on another host (not counted as a retry).`);
      this.requeue(job);
      return;
    }
    const status = outcome && outcome.exitStatus !== 0 ? outcome.exitStatus : 255;
    this.report(job, status, outcome?.exitReason === BatchJobExitReason.KILLED ? BatchJobExitReason.KILLED : BatchJobExitReason.LOST, null, host.key);
  }

  // ---------------------------------------------------------------- the background step

  /** Reads the hosts, polls Slurm when due, and submits hosts where jobs wait; returns when to run again (ms). */
  async step(): Promise<number> {
    if (!this.files) return Date.now() + 1000;
    this.readHosts();
    if (this.hosts.size > 0 && Date.now() >= this.nextPollAt) {
      await this.ctx.exclusive(() => this.poll());
      this.nextPollAt = Date.now() + this.ctx.settings.statePollingWait * 1000;
    }
    let submitAt = Infinity;
    if (!this.needsHosts()) {
      this.needSince = undefined;
    } else if (!this.submittingNow) {
      // Gather a burst of jobs into one sbatch, as job arrays do: once none has come for the
      // window, but at most a second after the first waited.
      const now = Date.now();
      this.needSince ??= now;
      const window = this.ctx.settings.arrayWindow * 1000;
      submitAt = Math.min(this.lastAddAt + window, this.needSince + Math.max(window, 1000));
    }
    if (Date.now() >= submitAt) {
      this.needSince = undefined;
      submitAt = Infinity;
      this.submittingNow = true;
      try {
        await this.ctx.exclusive(() => this.submitHosts());
      } finally {
        this.submittingNow = false;
      }
    }
    this.updateStatus();
    const now = Date.now();
    let busy = 0;
    for (const host of this.hosts.values()) if (host.job || host.phase === "submitted") busy++;
    // Outboxes are read when the file system says they changed; this is the fallback (NFS).
    const readEvery = busy > 0 ? Math.min(200, Math.max(10, busy)) : 1000;
    return Math.min(now + readEvery, this.hosts.size > 0 ? this.nextPollAt : now + 1000, submitAt);
  }

  /** Whether anything is left to watch (jobs, or hosts alive in Slurm). */
  get active(): boolean {
    return this.jobs.size > 0 || this.hosts.size > 0;
  }

  // ---------------------------------------------------------------- how many hosts

  private cap(): number {
    return Math.min(this.ctx.settings.maxWorkers, this.ctx.settings.maxJobs - this.owner.plainInSlurm());
  }

  private needsHosts(): boolean {
    if (this.disabled) return false;
    for (const state of this.shapes.values()) if (hostsWanted(state, this.hostStartSeconds) > 0) return true;
    return false;
  }

  /**
   * Submits hosts for shapes whose waiting jobs need more (see {@link hostsWanted}), within
   * `--slurmMaxWorkers`/`--maxJobs`. When the limit is reached and a shape has no host at all, an
   * idle host of a shape nobody waits for is told to stop, to make room.
   */
  private async submitHosts(): Promise<void> {
    for (const state of [...this.shapes.values()]) {
      if (this.disabled || this.ctx.stopped()) return;
      const wanted = hostsWanted(state, this.hostStartSeconds);
      if (wanted <= 0) continue;
      const room = this.cap() - this.alive;
      if (room <= 0) {
        const other = coming(state) + readyCount(state) === 0 ? hostToMakeRoom(this.shapes.values(), state) : undefined;
        if (other) this.stopHost(other);
        continue;
      }
      const n = hostsToSubmit(state, wanted, room);
      if (n > 0) await this.submit(state, n);
    }
  }

  /** Tells an idle host to exit (it takes nothing more). */
  private stopHost(host: Host): void {
    host.phase = "gone";
    this.refreshIdle(host);
    this.files?.send(host.key, { t: "stop" });
  }

  private async submit(state: ShapeState, n: number): Promise<void> {
    const files = this.ensureFiles();
    state.submitting += n;
    let res: SbatchResult;
    try {
      res = await submitHostArray(this.ctx, files.dir, state.shape, n, this.hostScript, ++this.batchNumber);
    } finally {
      state.submitting -= n;
    }
    if ("refused" in res) {
      this.ctx.warn(`sbatch refused worker hosts (${state.shape.label}): ${res.refused}`);
      this.refusal = `sbatch refused worker hosts: ${res.refused}`;
      for (const job of state.queue.drain()) this.report(job, 255, BatchJobExitReason.ERROR, null, null);
      return;
    }
    this.refusal = undefined;
    files.addArray(res.id);
    for (let i = 0; i < n; i++) {
      const host: Host = {
        key: `${res.id}_${i}`,
        submitId: res.id,
        shape: state.shape,
        phase: "submitted",
        ever: { ready: false },
        slurmPending: true,
        submittedAt: Date.now(),
        idleSince: Date.now(),
        seq: 0,
        draining: false,
        cancelled: false,
      };
      this.hosts.set(host.key, host);
      state.hosts.add(host);
    }
    // A host may have started while sbatch was answering.
    this.schedulePump();
  }

  // ---------------------------------------------------------------- polling Slurm

  private async poll(): Promise<void> {
    const live = [...this.hosts.values()];
    if (live.length === 0) return;
    const now = Date.now();
    for (const [host, rec] of await pollHostStates(this.ctx.slurm, live, (h) => h.cancelled)) {
      if (rec) {
        this.applyRecord(host, rec);
        continue;
      }
      host.missingSince ??= now;
      // A pending array task that was cancelled leaves squeue at once.
      if (host.cancelled) {
        this.ended(host, { ended: true, exitStatus: 255, exitReason: BatchJobExitReason.KILLED }, "CANCELLED");
      } else if (now - host.missingSince > missingGraceSeconds(this.ctx.settings) * 1000) {
        this.ended(host, { ended: true, exitStatus: 255, exitReason: BatchJobExitReason.LOST }, "unknown to Slurm");
      }
    }
    const surplus = [...this.shapes.values()].flatMap(surplusPending);
    for (const host of surplus) {
      host.cancelled = true;
      host.phase = "gone";
      this.refreshIdle(host);
    }
    if (surplus.length > 0) this.ctx.slurm.cancelNow(surplus.map((h) => h.key));
    for (const host of idleHostsToRelease(this.shapes.values(), this.owner.plainPending())) this.stopHost(host);
  }

  private applyRecord(host: Host, rec: SlurmJobRecord): void {
    host.missingSince = undefined;
    // A pending task is listed under its array's id; once started, under its own (sacct -c needs it).
    if (normalizeState(rec.state) !== "PENDING") host.rawId = rec.rawId;
    const outcome = jobOutcome(rec.state, rec.exitStatus, rec.key);
    if (!outcome.ended) {
      host.slurmPending = !outcome.running;
      if (outcome.running) host.slurmRunningSince ??= Date.now();
      if (host.phase === "submitted" && !host.cancelled && host.slurmRunningSince !== undefined && Date.now() - host.slurmRunningSince > START_TIMEOUT_SECONDS * 1000) {
        host.cancelled = true;
        host.phase = "gone";
        this.refreshIdle(host);
        this.startFailed(host, `it ran for ${START_TIMEOUT_SECONDS} s without reading its directory ${this.files?.dir}`);
        this.ctx.slurm.cancelNow([host.key]);
      }
      return;
    }
    this.ended(host, outcome, rec.state);
  }

  /** Settles a host Slurm says has ended, and the job it ran. */
  private ended(host: Host, outcome: Extract<JobOutcome, { ended: true }>, state: string): void {
    // Its last words first: a job may have finished just before.
    for (const m of this.files?.receive(host.key) ?? []) this.onMessage(host, m);
    this.hosts.delete(host.key);
    this.shapes.get(host.shape.key)?.hosts.delete(host);
    this.shapes.get(host.shape.key)?.idle.delete(host);
    const job = host.job;
    host.job = undefined;
    const word = state.trim().split(/\s+/)[0] ?? state;
    if (job) {
      if (job.startedAt === undefined) {
        this.requeue(job);
      } else if (host.exitWhy !== undefined || outcome.exitReason === BatchJobExitReason.KILLED || outcome.exitReason === BatchJobExitReason.LOST) {
        this.hostDied(job, host, `ended (${word})`, outcome);
      } else if (outcome.exitReason === BatchJobExitReason.MEMLIMIT) {
        this.copySlurmNotes(job, host);
        this.report(job, outcome.exitStatus, BatchJobExitReason.MEMLIMIT, (Date.now() - job.startedAt) / 1000, host.key);
      } else {
        // The job ended its host's process (process.exit, a crash, a signal): its status is the job's.
        this.report(job, outcome.exitStatus, outcome.exitStatus === 0 ? BatchJobExitReason.FINISHED : BatchJobExitReason.FAILED, (Date.now() - job.startedAt) / 1000, host.key);
      }
    }
    if (!host.ever.ready && !host.cancelled) this.startFailed(host, `Slurm says ${word}`);
    if (host.ever.ready) {
      // Slurm's word for an end that was not the host's own choice (CANCELLED, TIMEOUT, NODE_FAIL, ...).
      const reason = host.cancelled ? "cancelled" : outcome.exitReason === BatchJobExitReason.FINISHED ? (host.exitWhy ?? word) : word;
      this.ctx.bus()?.publish({ type: "WorkerHostStopped", time: Date.now(), hostId: host.key, batchSystem: "slurm", reason });
    }
    this.files?.forget(host.key);
  }

  /** Slurm's own notes about the host (the cgroup's out-of-memory kill) go into the job's stderr log. */
  private copySlurmNotes(job: HostedJob, host: Host): void {
    const logs = this.ctx.logNaming();
    if (logs.discard) return;
    const notes = slurmLogLines(logs, host.key).filter((l) => /slurmstepd|oom-kill|memory limit/i.test(l));
    const text = `toil: worker host ${host.key} was stopped by Slurm for using more memory than this job's request (${host.shape.label}).\n${notes.join("\n")}\n`;
    try {
      appendFileSync(this.ctx.logPath(job.id, host.key, "err"), text, { mode: 0o600 });
    } catch {
      // the log directory is gone
    }
  }

  private startFailed(host: Host, why: string): void {
    const tail = slurmLogLines(this.ctx.logNaming(), host.key).slice(-5).join(" | ");
    this.lastStartFailure = `worker host ${host.key} did not start: ${why}${tail ? ` (its Slurm log ends: ${tail})` : ""}`;
    this.startFailures++;
    if (this.disabled) return;
    this.ctx.warn(this.lastStartFailure);
    if (!this.everReady && this.startFailures >= MAX_START_FAILURES) this.disable(this.lastStartFailure);
  }

  /** Turns worker hosts off: every waiting job goes out as a Slurm job of its own. */
  private disable(why: string): void {
    this.disabled = why;
    this.ctx.warn(
      `Worker hosts are turned off for this workflow after ${this.startFailures} failed to start (${why}). Jobs now go out as Slurm jobs ` +
        "of their own. The hosts need the job store (or the batch logs directory) on a file system the compute nodes share, and node " +
        "and toil-ts at the same paths there; --no-slurmWorkers silences this.",
    );
    for (const state of this.shapes.values()) {
      for (const job of state.queue.drain()) {
        this.jobs.delete(job.id);
        this.owner.runPlain(job);
      }
    }
  }

  private updateStatus(): void {
    let waiting = 0;
    for (const s of this.shapes.values()) waiting += s.queue.length;
    let busy = 0;
    let idle = 0;
    let starting = 0;
    for (const h of this.hosts.values()) {
      if (h.job) busy++;
      else if (h.phase === "ready") idle++;
      else if (h.phase === "submitted") starting++;
    }
    const parts = [
      ...(this.refusal ? [this.refusal] : []),
      ...(waiting > 0 ? [`Slurm worker hosts: ${busy} busy, ${idle} idle, ${starting} starting; ${waiting} ${waiting === 1 ? "job" : "jobs"} waiting for a host`] : []),
    ];
    this.ctx.setStatus("hosts", parts.length > 0 ? parts.join("; ") : null);
  }

  // ---------------------------------------------------------------- kill and shutdown

  /** Kills these jobs (those on hosts): a waiting one is dropped, a running one's host is cancelled. Call inside `exclusive`. */
  async kill(jobIds: readonly number[]): Promise<void> {
    const stop: Host[] = [];
    for (const id of jobIds) {
      const job = this.jobs.get(id);
      if (!job) continue;
      this.jobs.delete(id);
      const host = job.host;
      if (host && host.job === job) {
        host.job = undefined;
        host.cancelled = true;
        host.phase = "gone";
        this.refreshIdle(host);
        stop.push(host);
      } else {
        const state = this.shapes.get(job.shape.key);
        if (state) state.queue.remove(job);
      }
    }
    await this.ctx.slurm.cancel(
      stop.map((h) => h.key),
      stop.map((h) => h.submitId),
    );
  }

  /** Tells every host to stop, cancels them in Slurm and removes their directory. Call inside `exclusive`. */
  async shutdown(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    const files = this.files;
    if (!files) return;
    files.stopAll();
    const live = [...this.hosts.values()];
    this.jobs.clear();
    this.shapes.clear();
    this.hosts.clear();
    try {
      await this.ctx.slurm.cancel(
        live.map((h) => h.key),
        live.map((h) => h.submitId),
      );
    } finally {
      for (const host of live) {
        if (host.ever.ready) this.ctx.bus()?.publish({ type: "WorkerHostStopped", time: Date.now(), hostId: host.key, batchSystem: "slurm", reason: "shutdown" });
      }
      files.remove();
      this.files = undefined;
    }
  }
}
