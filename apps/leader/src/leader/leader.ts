/**
 * The leader loop: ready jobs, issued batch jobs, successor phases, retries and failures.
 * (Over 600 lines: this per-job state machine is one unit; services live in services.ts, dead
 * workers' deferred functions in worker-cleanup.ts.)
 */
import type { BatchJobExitReason, BatchSystem, UpdatedBatchJobInfo } from "@toil/batch-core";
import { FifoQueue, MinHeap, shellCommand } from "@toil/batch-core";
import { jobCompleted, jobFailed, jobIssued, jobMissing, jobUpdated, queueSize, type MessageBus } from "@toil/bus";
import type { Config, JobDescription } from "@toil/job";
import type { Logger } from "pino";
import { FailedJobsError, WorkflowInterruptedError, WorkflowKilledError, type FailedJob } from "./errors.js";
import { describeStall, renewServiceFlags, ServiceManager, stallError } from "./services.js";
import type { LeaderStore, WorkerMessage } from "./store.js";
import { plural, triesLeft } from "../text.js";

/** Everything the leader loop needs. */
export interface LeaderOptions {
  /** The workflow configuration. */
  config: Config;
  /** The job store, as the leader uses it. */
  store: LeaderStore;
  /** The batch system that runs the workers. */
  batchSystem: BatchSystem;
  /** The workflow's message bus (job events are published there). */
  bus: MessageBus;
  /** Where the leader logs. */
  logger: Logger;
  /** Id of the workflow's root job. */
  rootJobId: string;
  /** The argument array that runs one job (a `toil-worker` invocation); issued as `jobDesc.argv`, never through a shell. */
  workerArgv(jobId: string): readonly string[];
  /** Called whenever the counts change (progress display). */
  onProgress?(counts: LeaderCounts): void;
  /** Called with each failed job's log (and, with writeLogsFromAllJobs, successful ones), for --writeLogs. */
  onJobLog?(jobName: string, jobId: string, text: string, failed: boolean): void;
  /** Whether this run resumes an existing workflow (failed jobs get fresh tries). */
  restart?: boolean;
  /**
   * Descriptions already read from the store (a restart reads them all to clean the store): each is
   * used once instead of being read again, then dropped.
   */
  preloaded?: Map<string, JobDescription>;
}

/** Counts the leader reports. */
export interface LeaderCounts {
  /** Job bodies that ran successfully (chained jobs count one each). */
  done: number;
  /** Jobs known to be waiting, issued or done (grows as the workflow unfolds). */
  total: number;
  /** Jobs that failed for good. */
  failed: number;
  /** Jobs currently issued to the batch system. */
  issued: number;
  /** Failed attempts that were (or will be) tried again. */
  retried: number;
}

interface Issued {
  jobId: string;
  jobName: string;
  issuedAt: number;
  service: boolean;
  version: number;
  chainLength: number;
  /** Rescue checks in a row the batch system did not list this job. */
  missingChecks: number;
}

const KILL_FLAG_INTERVAL_MS = 5_000;
const MESSAGE_POLL_MS = 1_000;
/** How often the leader looks for started services while a client waits for them. */
const SERVICE_POLL_MS = 50;
/**
 * Most jobs (service hosts aside) the leader keeps issued to the batch system at once; the rest wait
 * in its ready queue. Past this many, a 100,000-job fan-out would otherwise hold 100,000 queued
 * batch jobs at once in the batch system and in the leader.
 */
const ISSUE_WINDOW = 4_096;
/**
 * Past this many descriptions held in memory, ready jobs of a large phase are kept as ids and their
 * descriptions read again from the store when they are issued (memory per pending job stays small).
 */
const LIVE_WINDOW = 8_192;
/** While a large phase's successors are read, the ready ones are issued every this many. */
const ISSUE_WHILE_LOADING_EVERY = 512;

function kindOf(desc: JobDescription): string {
  return desc.unitName || desc.jobName || desc.displayName || "Unknown Job";
}

/**
 * The leader loop. Event driven: each batch-system update, each ready job and each backoff expiry
 * costs O(1) leader work (plus one job-store read per job), and the loop never sleeps while work is
 * ready. Per-job state lives only while a job is pending, issued or waiting for its successors.
 */
export class Leader {
  private readonly config: Config;
  private readonly store: LeaderStore;
  private readonly bs: BatchSystem;
  private readonly log: Logger;

  private readonly live = new Map<string, JobDescription>();
  /** Ready jobs whose descriptions are not held (see LIVE_WINDOW): read again when processed. */
  private readonly unloaded = new Set<string>();
  /**
   * Ready jobs and the exit status each was reported with, in two queues rather than one of pairs:
   * a large phase puts every one of its jobs here at once, and a pair is an object per job.
   */
  private readonly ready = new FifoQueue<string>();
  private readonly readyStatus = new FifoQueue<number>();
  private readonly issuedByBatch = new Map<number, Issued>();
  private readonly batchOfJob = new Map<string, number>();
  private readonly backoff = new MinHeap<string>();
  private readonly waitingMulti = new Map<string, JobDescription>();
  /**
   * Predecessors that have reached the phase containing a job and wait for it: the one id when there
   * is one (the usual case, and an array per job of a large phase would be an object per job).
   */
  private readonly predecessorsOf = new Map<string, string | string[]>();
  /** The phase a predecessor currently waits on, and how many of its jobs are still pending. */
  private readonly pendingPhase = new Map<string, { all: Set<string>; remaining: number }>();
  private readonly failedJobs = new Map<string, FailedJob>();
  private readonly hasFailedSuccessors = new Set<string>();
  private readonly failedSuccessors = new Set<string>();
  private readonly lastFailure = new Map<string, { status: number | null; reason: string | null; log: string }>();
  /** Jobs whose try counts were already reset in this (restarted) run. */
  private readonly refreshed = new Set<string>();

  private readonly services: ServiceManager;

  private done = 0;
  private retried = 0;
  private seen = 0;
  private rootDone = false;
  private rootFailed = false;
  private lastKillCheck = 0;
  private lastMessagePoll = 0;
  private lastRescue = Date.now();
  private lastDeadlockCheck = 0;
  private lastStatus = Date.now();
  private stopReason: string | undefined;
  private stopSignal: NodeJS.Signals | undefined;

  constructor(private readonly options: LeaderOptions) {
    this.config = options.config;
    this.store = options.store;
    this.bs = options.batchSystem;
    this.log = options.logger;
    this.services = new ServiceManager({
      config: this.config,
      store: this.store,
      log: this.log,
      load: async (id) => {
        const host = await this.loadForRun(id);
        this.track(host);
        return host;
      },
      live: (id) => this.live.get(id),
      issue: (host) => this.issueJob(host, true),
      isIssued: (id) => this.batchOfJob.has(id),
      ready: (id, status) => this.pushReady(id, status),
      fail: (id, why) => this.totallyFail(id, why),
    });
  }

  /**
   * Ask the loop to stop: it throws WorkflowInterruptedError (when `signal` is given, e.g. on SIGTERM)
   * or WorkflowKilledError at its next turn; the caller then kills the issued jobs.
   */
  requestStop(reason: string, signal?: NodeJS.Signals): void {
    this.stopReason = reason;
    this.stopSignal = signal;
  }

  /** Jobs by state right now (what the progress display shows). */
  counts(): LeaderCounts {
    return {
      done: this.done,
      total: Math.max(this.seen, this.done + this.failedJobs.size),
      failed: this.failedJobs.size,
      issued: this.issuedByBatch.size,
      retried: this.retried,
    };
  }

  /** Run the workflow to the end. Throws FailedJobsError, DeadlockError or WorkflowKilledError. */
  async run(): Promise<void> {
    const root = await this.loadForRun(this.options.rootJobId);
    this.track(root);
    this.pushReady(root.id, 0);
    try {
      await this.loop();
    } finally {
      await this.pollMessages(true);
    }
    const stillFailed: FailedJob[] = [];
    for (const job of this.failedJobs.values()) {
      if (await this.store.jobExists(job.jobId)) stillFailed.push(job);
    }
    if (stillFailed.length > 0 || this.rootFailed) {
      throw new FailedJobsError(this.store.locator, stillFailed);
    }
    if (!this.rootDone) {
      throw new FailedJobsError(this.store.locator, [], this.describeStuck());
    }
  }

  private track(desc: JobDescription): void {
    desc.assignConfig(this.config);
    if (!this.live.has(desc.id) && !this.waitingMulti.has(desc.id)) this.seen++;
    this.live.set(desc.id, desc);
  }

  /** Whether a job is still in the store (a preloaded description counts). */
  private async jobStillExists(id: string): Promise<boolean> {
    return this.options.preloaded?.has(id) || (await this.store.jobExists(id));
  }

  private async loadForRun(id: string): Promise<JobDescription> {
    const preloaded = this.options.preloaded?.get(id);
    if (preloaded) this.options.preloaded!.delete(id);
    const desc = preloaded ?? (await this.store.loadJob(id));
    desc.assignConfig(this.config);
    if (this.options.restart && !this.refreshed.has(id)) {
      this.refreshed.add(id);
      let changed = desc.clearRemainingTryCount();
      // An unfinished checkpointed subtree is redone from the checkpoint on restart.
      const pending = desc.nextSuccessors() !== undefined || desc.services.length > 0;
      if (desc.checkpoint && desc.hasCheckpointBody() && !desc.hasBody() && pending) {
        const doomed = desc.restartCheckpoint();
        await this.store.updateJob(desc);
        await this.deleteSubtree(doomed);
        this.log.info(`Restarting checkpoint job ${desc} (its unfinished subtree is redone)`);
        changed = false;
      }
      // A service host that has not finished starts again: its flags must be set again.
      if (desc.isService && desc.hasBody() && (await renewServiceFlags(this.store, desc, ["start", "terminate", "error"]))) changed = true;
      if (changed) await this.store.updateJob(desc);
    }
    return desc;
  }

  private async deleteSubtree(ids: Iterable<string>): Promise<void> {
    const stack = [...ids];
    while (stack.length > 0) {
      const id = stack.pop()!;
      if (!(await this.store.jobExists(id))) continue;
      const d = await this.store.loadJob(id);
      for (const s of d.successorsAndServiceHosts()) stack.push(s);
      await this.store.deleteJob(id);
    }
  }

  private publishProgress(): void {
    this.options.onProgress?.(this.counts());
  }

  // ------------------------------------------------------------------ main loop

  private workRemains(): boolean {
    return (
      this.ready.length > 0 ||
      this.backoff.size > 0 ||
      this.issuedByBatch.size > 0 ||
      this.services.queued > 0 ||
      this.services.anyStarting()
    );
  }

  private async loop(): Promise<void> {
    while (this.workRemains()) {
      if (this.stopReason) {
        // `toil kill` sets the kill flag, then signals a leader that has not obeyed it in time: that stop is a kill.
        if (this.stopSignal && !(await this.store.readKillFlag().catch(() => false))) {
          throw new WorkflowInterruptedError(
            `The workflow in ${this.store.locator} was stopped: ${this.stopReason}. Its running jobs were stopped and the job store ` +
              `was left ready to resume: run the same command with --restart to continue (finished jobs are not run again).`,
            this.stopSignal,
          );
        }
        throw new WorkflowKilledError(`The workflow in ${this.store.locator} was stopped: ${this.stopReason}.`);
      }
      await this.drainReady();
      this.issueExpiredBackoffs();
      if (this.canProcessReady()) continue;
      await this.services.issueQueued();
      await this.services.checkStarts();
      if (this.canProcessReady()) continue;
      if (!this.workRemains()) break;

      const wait = this.waitSeconds();
      // Jobs issued since the last finished one count too (the progress display shows them running).
      this.publishProgress();
      let update = await this.bs.getUpdatedBatchJob(wait);
      let handled = 0;
      while (update) {
        await this.processFinished(update);
        handled++;
        // Drain everything that already finished before going back to issuing.
        update = handled < 10_000 ? await this.bs.getUpdatedBatchJob(0) : null;
      }
      if (handled > 0) {
        this.services.progressed();
        this.publishProgress();
      }
      this.options.bus.check();
      await this.periodic(handled > 0);
    }
    this.options.bus.check();
  }

  private waitSeconds(): number {
    if (this.canProcessReady()) return 0;
    let waitMs = 1_000;
    const next = this.backoff.peekKey();
    if (next !== undefined) waitMs = Math.min(waitMs, Math.max(0, next - Date.now()));
    if (this.services.anyStarting()) waitMs = Math.min(waitMs, SERVICE_POLL_MS);
    return waitMs / 1000;
  }

  private async periodic(busy: boolean): Promise<void> {
    const now = Date.now();
    if (now - this.lastMessagePoll >= MESSAGE_POLL_MS) await this.pollMessages(false);
    if (now - this.lastKillCheck >= KILL_FLAG_INTERVAL_MS) {
      this.lastKillCheck = now;
      if (await this.store.readKillFlag()) {
        throw new WorkflowKilledError(`The workflow in ${this.store.locator} was stopped with \`toil kill\`.`);
      }
    }
    if (now - this.lastStatus >= this.config.statusWait * 1000) {
      this.lastStatus = now;
      this.log.info(
        { queue: { issued: this.issuedByBatch.size, ready: this.ready.length } },
        `${plural(this.issuedByBatch.size, "job")} issued (running or waiting to run), ${this.ready.length} ready to issue`,
      );
    }
    if (!busy && now - this.lastRescue >= this.config.rescueJobsFrequency * 1000) {
      this.lastRescue = now;
      await this.rescueJobs();
    }
    if (!busy && now - this.lastDeadlockCheck >= Math.min(this.config.deadlockCheckInterval * 1000, 1000)) {
      this.lastDeadlockCheck = now;
      await this.checkForDeadlocks();
    }
  }

  private async pollMessages(final: boolean): Promise<void> {
    this.lastMessagePoll = Date.now();
    try {
      await this.store.readMessages((m) => this.logWorkerMessage(m));
    } catch (err) {
      if (final) this.log.debug({ err }, "Could not read worker messages");
    }
  }

  private logWorkerMessage(m: WorkerMessage): void {
    if (m.jobLog) {
      this.options.onJobLog?.(m.jobLog.jobNames[0] ?? "job", m.jobId ?? "", m.text, false);
      return;
    }
    const text = `Got message from job ${m.jobName ? `'${m.jobName}' ` : ""}${m.jobId ?? ""}: ${m.text}`;
    switch (m.level) {
      case "debug":
        this.log.debug(text);
        break;
      case "warning":
        this.log.warn(text);
        break;
      case "error":
        this.log.error(text);
        break;
      case "critical":
        this.log.fatal(text);
        break;
      default:
        this.log.info(text);
    }
  }

  // ------------------------------------------------------------------ ready jobs

  private pushReady(id: string, status: number): void {
    this.ready.push(id);
    this.readyStatus.push(status);
  }

  private async drainReady(): Promise<void> {
    let id: string | undefined;
    while (!this.issueWindowFull() && (id = this.ready.shift()) !== undefined) {
      await this.processReadyJob(id, this.readyStatus.shift()!);
    }
  }

  /** The predecessors waiting for `id`, forgotten here. */
  private takePredecessors(id: string): readonly string[] {
    const preds = this.predecessorsOf.get(id);
    if (preds === undefined) return [];
    this.predecessorsOf.delete(id);
    return typeof preds === "string" ? [preds] : preds;
  }

  /** Whether the leader holds back ready jobs until some issued ones finish (see ISSUE_WINDOW). */
  private issueWindowFull(): boolean {
    return this.issuedByBatch.size - this.services.issued >= ISSUE_WINDOW;
  }

  /** Whether ready jobs can be processed now (there are some, and the issue window has room). */
  private canProcessReady(): boolean {
    return this.ready.length > 0 && !this.issueWindowFull();
  }

  private issueExpiredBackoffs(): void {
    const now = Date.now();
    while (this.backoff.size > 0 && (this.backoff.peekKey() ?? Infinity) <= now) {
      const id = this.backoff.pop()!;
      this.pushReady(id, -1);
    }
  }

  /**
   * Decide what a job needs next. `status`: 0 = fine, > 0 = its last attempt failed, -1 = its
   * retry backoff just expired (issue it).
   */
  private async processReadyJob(id: string, status: number): Promise<void> {
    let desc = this.live.get(id);
    if (!desc && this.unloaded.delete(id)) {
      if (!(await this.jobStillExists(id))) {
        this.processRemovedJob(id);
        return;
      }
      desc = await this.loadForRun(id);
      this.live.set(id, desc);
    }
    if (!desc) return;
    if (this.services.isWaitingForStart(id)) return;
    // A service host its client no longer needs (dropped while it waited for a retry) is not issued again.
    if (desc.isService && !this.services.isHost(id)) {
      this.live.delete(id);
      return;
    }

    if (this.hasFailedSuccessors.has(id)) {
      if (this.services.hasActiveServices(id)) {
        await this.services.stop(id, true);
        return;
      }
      // Successors still running: it is processed again when they are done (as Toil does).
      if (this.pendingPhase.has(id)) return;
      if (desc.checkpoint && desc.hasCheckpointBody() && desc.remainingTryCount > 1) {
        this.log.info(`Checkpoint job ${desc} has a failed successor; restarting it (${triesLeft(desc.remainingTryCount - 1)} after this)`);
        this.hasFailedSuccessors.delete(id);
        await this.issueJob(desc);
        return;
      }
      await this.totallyFail(id, "a successor failed for good");
      return;
    }

    if (desc.hasBody() || status > 0) {
      if (desc.remainingTryCount <= 0) {
        await this.totallyFail(id);
      } else if (status > 0 && desc.retryBackoffSeconds > 0) {
        this.log.info(`Job ${desc} will be retried in ${desc.retryBackoffSeconds} s`);
        this.backoff.push(Date.now() + desc.retryBackoffSeconds * 1000, id);
      } else if (desc.isService) {
        await this.services.reissue(desc);
      } else {
        await this.issueJob(desc);
      }
      return;
    }

    if (desc.services.length > 0 && !this.services.hasClient(id)) {
      await this.services.start(desc);
      return;
    }

    const next = desc.nextSuccessors();
    if (next !== undefined && next.size > 0) {
      await this.runSuccessors(desc, next);
      return;
    }
    if (this.services.hasActiveServices(id)) {
      await this.services.stop(id, false);
      return;
    }
    // Nothing left: the job and its whole subtree are done.
    await this.store.deleteJob(id);
    this.processRemovedJob(id);
  }

  private async issueJob(desc: JobDescription, service = false): Promise<void> {
    if (this.batchOfJob.has(desc.id)) {
      throw new Error(`Internal error: job ${desc} is already issued as batch job ${this.batchOfJob.get(desc.id)}.`);
    }
    const requirements = desc.resolvedRequirements(this.config);
    const env: Record<string, string> = {};
    if (!process.env.OMP_NUM_THREADS) env.OMP_NUM_THREADS = String(Math.max(1, Math.floor(requirements.cores)));
    const argv = this.options.workerArgv(desc.id);
    const batchId = await this.bs.issueBatchJob(
      shellCommand(argv),
      { jobName: kindOf(desc), requirements, jobStoreId: desc.id, jobKind: desc.jobName, local: desc.local, argv },
      env,
    );
    this.issuedByBatch.set(batchId, {
      jobId: desc.id,
      jobName: kindOf(desc),
      issuedAt: Date.now(),
      service,
      version: desc.version,
      chainLength: desc.chainLength,
      missingChecks: 0,
    });
    this.batchOfJob.set(desc.id, batchId);
    if (service) this.services.countIssued(true);
    this.options.bus.publish(jobIssued({ jobId: desc.id, jobName: kindOf(desc), batchId }));
    this.options.bus.publish(queueSize({ queueSize: this.issuedByBatch.size }));
    if (this.log.isLevelEnabled("debug")) {
      this.log.debug(`Issued job ${desc} with batch system ID ${batchId} and ${desc.requirementsString()}`);
    }
  }

  private async runSuccessors(desc: JobDescription, next: Set<string>): Promise<void> {
    const phase = { all: next, remaining: next.size };
    this.pendingPhase.set(desc.id, phase);
    let loadedSinceIssue = 0;
    for (const succId of next) {
      if (this.failedSuccessors.has(succId)) {
        this.hasFailedSuccessors.add(desc.id);
        phase.remaining--;
        continue;
      }
      const preds = this.predecessorsOf.get(succId);
      if (preds === undefined) this.predecessorsOf.set(succId, desc.id);
      else if (typeof preds === "string") this.predecessorsOf.set(succId, [preds, desc.id]);
      else preds.push(desc.id);

      if (this.unloaded.has(succId)) continue;
      let succ = this.waitingMulti.get(succId) ?? this.live.get(succId);
      if (!succ) {
        if (!(await this.jobStillExists(succId))) {
          // Already finished (e.g. before a restart).
          this.predecessorsOf.delete(succId);
          phase.remaining--;
          continue;
        }
        succ = await this.loadForRun(succId);
      }
      if (succ.predecessorNumber > 1) {
        if (!this.waitingMulti.has(succId) && !this.live.has(succId)) {
          succ.assignConfig(this.config);
          this.seen++;
          this.waitingMulti.set(succId, succ);
        }
        if (succ.markPredecessorFinished(desc.id)) {
          this.waitingMulti.delete(succId);
          this.live.set(succId, succ);
          this.pushReady(succId, 0);
        }
      } else if (this.live.size >= LIVE_WINDOW && !this.live.has(succId)) {
        this.unloaded.add(succId);
        this.seen++;
        this.pushReady(succId, 0);
      } else {
        this.track(succ);
        this.pushReady(succId, 0);
      }
      // A large phase: start its first jobs while the rest are still being read.
      if (++loadedSinceIssue >= ISSUE_WHILE_LOADING_EVERY) {
        loadedSinceIssue = 0;
        await this.drainReady();
      }
    }
    // (Successors settled while the phase was read may already have closed it.)
    if (phase.remaining <= 0 && this.pendingPhase.get(desc.id) === phase) this.phaseDone(desc.id);
  }

  private phaseDone(predId: string): void {
    const phase = this.pendingPhase.get(predId);
    this.pendingPhase.delete(predId);
    const pred = this.live.get(predId);
    if (!pred) return;
    if (phase) pred.filterSuccessors((id) => !phase.all.has(id));
    this.pushReady(predId, 0);
  }

  /** A successor of `predId` finished (was removed) or failed for good. */
  private successorSettled(predId: string): void {
    const phase = this.pendingPhase.get(predId);
    if (!phase) return;
    phase.remaining--;
    if (phase.remaining <= 0) this.phaseDone(predId);
  }

  /** A job and its subtree are finished and its description is gone from the store. */
  private processRemovedJob(id: string): void {
    this.live.delete(id);
    this.refreshed.delete(id);
    this.lastFailure.delete(id);
    if (this.services.hostRemoved(id)) return;
    if (id === this.options.rootJobId) this.rootDone = true;
    for (const p of this.takePredecessors(id)) this.successorSettled(p);
  }

  // ------------------------------------------------------------------ finished batch jobs

  private async processFinished(update: UpdatedBatchJobInfo): Promise<void> {
    const issued = this.issuedByBatch.get(update.jobId);
    if (!issued) return;
    this.issuedByBatch.delete(update.jobId);
    this.batchOfJob.delete(issued.jobId);
    if (issued.service) this.services.countIssued(false);
    const id = issued.jobId;
    const status = update.exitStatus;
    this.options.bus.publish(jobUpdated({ jobId: id, jobName: issued.jobName, exitCode: status, exitReason: update.exitReason }));
    // A worker that did not report success may have appended its commit without syncing it: make
    // whatever it stored durable before acting on it.
    if (status !== 0) await this.store.syncCommitOf?.(id);

    if (!(await this.store.jobExists(id))) {
      if (status !== 0) {
        this.log.warn(`Despite the batch system reporting failure (exit ${status}), job ${issued.jobName} ${id} seems to have finished and been removed`);
      }
      const old = this.live.get(id);
      if (!old || old.hasBody()) this.done++;
      this.options.bus.publish(jobCompleted({ jobId: id, jobName: issued.jobName, exitCode: 0 }));
      this.processRemovedJob(id);
      return;
    }

    let desc = await this.store.loadJob(id);
    let failed = status !== 0;
    let reason: BatchJobExitReason | null = update.exitReason;
    if (!failed && desc.version <= issued.version) {
      // The worker said it succeeded; give a slow shared filesystem time to show its commit.
      desc = await this.waitForNewerVersion(id, issued.version, desc);
      if (desc.version <= issued.version) {
        failed = true;
        reason = "PARTITION";
        this.log.warn(`Job ${desc} exited successfully but its update never appeared in the job store`);
      }
    }
    desc.assignConfig(this.config);
    const old = this.live.get(id);
    if (failed) {
      reason ??= "FAILED";
      const log = await this.readJobLog(desc);
      if (log) {
        this.log.warn(`Log from job "${desc.id}" (${kindOf(desc)}) follows:\n=========>\n${indent(log)}\n<=========`);
        this.options.onJobLog?.(kindOf(desc), desc.id, log, true);
      } else {
        this.log.warn(`Job ${desc} failed with exit status ${status} (${reason}) and left no log`);
      }
      this.lastFailure.set(id, { status, reason, log: tail(log, this.config.maxLogFileSize) });
      desc.setupJobAfterFailure(status, reason);
      if (desc.remainingTryCount > 0) this.retried++;
      await this.store.updateJob(desc);
      this.log.warn(`Job ${desc} failed (${reason}, exit status ${status}); ${triesLeft(desc.remainingTryCount)}`);
      this.options.bus.publish(jobCompleted({ jobId: id, jobName: issued.jobName, exitCode: status === 0 ? 1 : status }));
    } else {
      this.done += (old?.hasBody() ? 1 : 0) + Math.max(0, desc.chainLength - issued.chainLength);
      this.options.bus.publish(jobCompleted({ jobId: id, jobName: issued.jobName, exitCode: 0 }));
    }
    // Successors adopted or created by the run are new work.
    this.live.set(id, desc);
    if (!old) this.seen++;
    if (issued.service && this.services.isHost(id)) {
      await this.services.hostExited(desc, failed);
      return;
    }
    this.pushReady(id, failed ? 1 : 0);
  }

  private async waitForNewerVersion(id: string, version: number, current: JobDescription): Promise<JobDescription> {
    const deadline = Date.now() + this.config.jobStoreTimeout * 1000;
    let delay = 10;
    let desc = current;
    while (desc.version <= version && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 1000);
      if (!(await this.store.jobExists(id))) return desc;
      desc = await this.store.loadJob(id);
    }
    return desc;
  }

  private async readJobLog(desc: JobDescription): Promise<string> {
    if (!desc.logFileId) return "";
    try {
      return (await this.store.readFileText(desc.logFileId)) ?? "";
    } catch {
      return "";
    }
  }

  // ------------------------------------------------------------------ failure

  private async totallyFail(id: string, why?: string): Promise<void> {
    const desc = this.live.get(id);
    const last = this.lastFailure.get(id);
    const name = desc ? kindOf(desc) : id;
    this.failedJobs.set(id, {
      jobId: id,
      jobName: name,
      exitReason: last?.reason ?? (why ? "FAILED_SUCCESSOR" : null),
      exitStatus: last?.status ?? null,
      logTail: last?.log ?? "",
    });
    this.log.error(`Job ${desc ?? id} failed for good${why ? ` (${why})` : ""}`);
    this.options.bus.publish(jobFailed({ jobId: id, jobName: name }));
    this.publishProgress();
    if (id === this.options.rootJobId) this.rootFailed = true;

    if (this.config.stopOnFirstFailure) {
      throw new FailedJobsError(this.store.locator, [...this.failedJobs.values()], "--stopOnFirstFailure");
    }
    // Its successors will never run; other predecessors waiting on them must not wait forever.
    if (desc) await this.markFailedSuccessors(desc.allSuccessors(), id);
    this.pendingPhase.delete(id);
    this.live.delete(id);

    // A service host: its client fails (once its other services have stopped).
    const clientId = await this.services.hostFailedForGood(id);
    if (clientId !== undefined) {
      this.hasFailedSuccessors.add(clientId);
      return;
    }
    for (const p of this.takePredecessors(id)) {
      this.hasFailedSuccessors.add(p);
      this.successorSettled(p);
    }
  }

  /**
   * The successors of a job that failed for good never run, nor do theirs: as Toil does, the whole
   * subgraph below it is read (from the store where the leader does not hold it) and marked, and
   * every predecessor that reached one of those jobs and waits for it learns that it failed. (A job
   * with several predecessors, one of them below the failed job, would otherwise be waited for forever.)
   */
  private async markFailedSuccessors(ids: Iterable<string>, via: string): Promise<void> {
    const stack = [...ids];
    while (stack.length > 0) {
      const id = stack.pop()!;
      if (this.failedSuccessors.has(id)) continue;
      this.failedSuccessors.add(id);
      const waiting = this.waitingMulti.get(id);
      this.waitingMulti.delete(id);
      for (const p of this.takePredecessors(id)) {
        if (p === via) continue;
        this.hasFailedSuccessors.add(p);
        this.successorSettled(p);
      }
      const desc = waiting ?? this.live.get(id) ?? this.options.preloaded?.get(id) ?? ((await this.store.jobExists(id)) ? await this.store.loadJob(id) : undefined);
      if (desc) for (const s of desc.allSuccessors()) stack.push(s);
    }
  }

  // ------------------------------------------------------------------ stalls

  /**
   * End a run that can make no more progress (see ServiceManager.checkStall and stallError); the
   * caller's killAll then stops the services.
   */
  private async checkForDeadlocks(): Promise<void> {
    const stall = await this.services.checkStall({
      pending: this.ready.length + this.backoff.size,
      issued: this.issuedByBatch,
      running: async () => (await this.bs.getRunningBatchJobIds()).keys(),
    });
    if (!stall) return;
    const error = stallError(stall, this.config, this.store.locator, [...this.failedJobs.values()], this.bs.getSchedulingStatusMessage());
    if (error instanceof FailedJobsError) this.log.error(`${describeStall(stall, this.config.deadlockWait)}, after jobs failed for good: nothing more can run, so the services are stopped`);
    throw error;
  }

  // ------------------------------------------------------------------ rescue

  private async rescueJobs(): Promise<void> {
    if (this.issuedByBatch.size === 0) return;
    const toKill: Array<[number, string]> = [];
    if (this.config.maxJobDuration !== undefined) {
      const running = await this.bs.getRunningBatchJobIds();
      for (const [batchId, seconds] of running) {
        const issued = this.issuedByBatch.get(batchId);
        if (issued && !issued.service && seconds > this.config.maxJobDuration) {
          this.log.warn(`Job ${issued.jobName} ${issued.jobId} has run ${Math.round(seconds)} s, longer than --maxJobDuration; killing it`);
          toKill.push([batchId, "MAXJOBDURATION"]);
        }
      }
    }
    const known = new Set(await this.bs.getIssuedBatchJobIds());
    for (const [batchId, issued] of this.issuedByBatch) {
      if (known.has(batchId)) {
        issued.missingChecks = 0;
        continue;
      }
      issued.missingChecks++;
      this.options.bus.publish(jobMissing({ jobId: issued.jobId, jobName: issued.jobName }));
      this.log.warn(`Job ${issued.jobName} ${issued.jobId} (batch id ${batchId}) is missing from the batch system (${issued.missingChecks}/3)`);
      if (issued.missingChecks >= 3) toKill.push([batchId, "MISSING"]);
    }
    if (toKill.length === 0) return;
    await this.bs.killBatchJobs(toKill.map(([b]) => b));
    for (const [batchId, reason] of toKill) {
      await this.processFinished({ jobId: batchId, exitStatus: 255, exitReason: reason as UpdatedBatchJobInfo["exitReason"], wallTime: null, backingId: null });
    }
  }

  private describeStuck(): string {
    const waiting = [...this.waitingMulti.values()].slice(0, 5).map((d) => `${kindOf(d)} ${d.id} (${d.predecessorsFinished.size}/${d.predecessorNumber} predecessors done)`);
    return (
      `the workflow can make no more progress but its root job has not finished` +
      (waiting.length > 0 ? `; jobs waiting for predecessors that will never finish: ${waiting.join(", ")}` : "")
    );
  }

  /** Kill everything still issued (on failure or interruption). */
  async killAll(): Promise<void> {
    const ids = [...this.issuedByBatch.keys()];
    if (ids.length > 0) await this.bs.killBatchJobs(ids);
    this.issuedByBatch.clear();
    this.batchOfJob.clear();
  }
}

function indent(text: string): string {
  return text
    .trimEnd()
    .split("\n")
    .map((l) => `\t${l}`)
    .join("\n");
}

function tail(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  return Buffer.from(text).subarray(-maxBytes).toString();
}
