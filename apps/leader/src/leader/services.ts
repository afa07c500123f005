/**
 * The leader's service handling (Toil's ServiceManager): a client job's service hosts are started
 * batch by batch (parents before their child services, at most --maxServiceJobs at once), the client
 * waits until every one has started, and its services are told to stop once its successors are done.
 * A service that fails for good stops the client's other services, so the client fails instead of
 * waiting for it. Also watches for a run where only services are left running (see
 * {@link ServiceManager.checkStall}).
 */
import { FifoQueue } from "@toil/batch-core";
import type { Config, JobDescription } from "@toil/job";
import type { Logger } from "pino";
import { DeadlockError, FailedJobsError, type FailedJob } from "./errors.js";
import type { LeaderStore } from "./store.js";
import { plural, triesLeft } from "../text.js";

/** What the service manager needs from the leader loop. */
export interface ServiceManagerContext {
  /** The workflow configuration (`maxServiceJobs`, `deadlockWait`). */
  readonly config: Config;
  /** The job store, as the leader uses it. */
  readonly store: LeaderStore;
  /** Where the leader logs. */
  readonly log: Logger;
  /** Read a service host for this run (restart bookkeeping included) and track it as live. */
  load(hostId: string): Promise<JobDescription>;
  /** The description the leader holds for a job, if any. */
  live(jobId: string): JobDescription | undefined;
  /** Issue a service host to the batch system. */
  issue(host: JobDescription): Promise<void>;
  /** Whether a job is issued to the batch system now. */
  isIssued(jobId: string): boolean;
  /** Put a job on the leader's ready queue (status > 0: its last attempt failed). */
  ready(jobId: string, status: number): void;
  /** Fail a job for good. */
  fail(jobId: string, why: string): Promise<void>;
}

/** The services of one client job. */
interface ClientServices {
  /** Service host ids in start order: a batch starts once every host of the one before has started. */
  batches: string[][];
  nextBatch: number;
  /** Issued (or queued) service hosts whose start flag still exists, with that flag. */
  starting: Map<string, string>;
  /** Service hosts that have started (or are stopping). */
  running: Set<string>;
  /** Every service has started: the client's successors may run. */
  up: boolean;
  /** The client asked its services to stop. */
  stopping: boolean;
  /** One of its services failed for good: the client fails once the others have stopped. */
  failed: boolean;
}

/** What the leader sees of one issued batch job, for {@link ServiceManager.checkStall}. */
interface IssuedJobView {
  /** The job's id. */
  jobId: string;
  /** Whether it was issued as a service host. */
  service: boolean;
}

/** The leader's state {@link ServiceManager.checkStall} looks at. */
export interface StallView {
  /** Jobs waiting to be processed or issued by the leader (ready queue and retry backoffs). */
  pending: number;
  /** Every job issued to the batch system, by batch id. */
  issued: ReadonlyMap<number, IssuedJobView>;
  /** Batch ids the batch system is running now (asked only when some issued job is not a started service). */
  running(): Promise<Iterable<number>>;
}

/** Why a run can make no more progress: only services have been running for `--deadlockWait`. */
export interface Stall {
  /** Started service hosts running, all the batch system runs. */
  services: number;
  /** Service hosts waiting for a `--maxServiceJobs` slot. */
  queuedServices: number;
  /** Other jobs (or service hosts not started yet) issued to the batch system that it does not run: they wait for resources the services hold. */
  waitingJobs: number;
}

/**
 * Starts, watches and stops the services of client jobs. The leader hands it a client once the
 * client's body has run, and asks it what to do with service hosts as their batch jobs end.
 */
export class ServiceManager {
  private readonly clients = new Map<string, ClientServices>();
  private readonly clientOfHost = new Map<string, string>();
  /** Service hosts waiting for a --maxServiceJobs slot. */
  private readonly queue = new FifoQueue<JobDescription>();
  private issuedHosts = 0;
  /** The running batch jobs (all started services) the last stall check saw, and since when. */
  private stallKey: string | undefined;
  private stallSince = 0;

  constructor(private readonly ctx: ServiceManagerContext) {}

  /** Service hosts issued to the batch system now. */
  get issued(): number {
    return this.issuedHosts;
  }

  /** Service hosts waiting for a `--maxServiceJobs` slot. */
  get queued(): number {
    return this.queue.length;
  }

  /** Whether `jobId` is a service host of a client this manager looks after. */
  isHost(jobId: string): boolean {
    return this.clientOfHost.has(jobId);
  }

  /** Whether a client's services are still starting (its successors must wait). */
  isWaitingForStart(clientId: string): boolean {
    const client = this.clients.get(clientId);
    return client !== undefined && !client.up && !client.failed && !client.stopping;
  }

  /** Whether a client has service hosts starting or running. */
  hasActiveServices(clientId: string): boolean {
    const client = this.clients.get(clientId);
    return client !== undefined && client.running.size + client.starting.size > 0;
  }

  /** Whether the leader has handed this client over already (its services started, or are starting). */
  hasClient(clientId: string): boolean {
    return this.clients.has(clientId);
  }

  /** Whether any client waits for a service to start (the leader then polls start flags often). */
  anyStarting(): boolean {
    for (const c of this.clients.values()) if (c.starting.size > 0) return true;
    return false;
  }

  /** Whether a service host has been issued but has not started yet. */
  isStarting(hostId: string): boolean {
    const clientId = this.clientOfHost.get(hostId);
    return clientId !== undefined && (this.clients.get(clientId)?.starting.has(hostId) ?? false);
  }

  /** A service host was issued (`true`) or its batch job ended (`false`). */
  countIssued(issued: boolean): void {
    this.issuedHosts += issued ? 1 : -1;
  }

  /** Start the services of a client whose body has run. */
  async start(client: JobDescription): Promise<void> {
    const state: ClientServices = {
      batches: [...client.serviceHostIdsInBatches()],
      nextBatch: 0,
      starting: new Map(),
      running: new Set(),
      up: false,
      stopping: false,
      failed: false,
    };
    this.clients.set(client.id, state);
    this.ctx.log.debug(`Starting ${plural(client.services.length, "service")} of job ${client}`);
    await this.startNextBatch(client.id, state);
  }

  private async startNextBatch(clientId: string, client: ClientServices): Promise<void> {
    while (client.nextBatch < client.batches.length && client.starting.size === 0) {
      const batch = client.batches[client.nextBatch++]!;
      for (const hostId of batch) {
        if (!(await this.ctx.store.jobExists(hostId))) continue;
        const host = await this.ctx.load(hostId);
        this.clientOfHost.set(hostId, clientId);
        client.starting.set(hostId, host.serviceFlags?.start ?? "");
        this.queue.push(host);
      }
      await this.issueQueued();
    }
    if (client.nextBatch >= client.batches.length && client.starting.size === 0 && !client.up) {
      client.up = true;
      this.ctx.ready(clientId, 0);
    }
  }

  /** Issue queued service hosts while `--maxServiceJobs` allows. */
  async issueQueued(): Promise<void> {
    const limit = this.ctx.config.maxServiceJobs ?? Infinity;
    while (this.queue.length > 0 && this.issuedHosts < limit) {
      const host = this.queue.shift()!;
      if (!this.clientOfHost.has(host.id)) continue; // dropped while it waited
      await this.ctx.issue(host);
    }
  }

  /** Look for service hosts that have started (deleted their start flag); start the next batches. */
  async checkStarts(): Promise<void> {
    for (const [clientId, client] of this.clients) {
      if (client.starting.size === 0) continue;
      for (const [hostId, flag] of client.starting) {
        if (!this.ctx.isIssued(hostId)) continue; // not issued yet
        if (flag === "" || !(await this.ctx.store.fileExists(flag))) {
          client.starting.delete(hostId);
          client.running.add(hostId);
        }
      }
      if (client.starting.size === 0 && !client.failed && !client.stopping) await this.startNextBatch(clientId, client);
    }
  }

  /**
   * Ask every service of a client to stop (`error`: its successors or one of its services failed,
   * so the hosts fail too and `--restart` starts them again). Hosts not issued yet are dropped.
   */
  async stop(clientId: string, error: boolean): Promise<void> {
    const client = this.clients.get(clientId);
    if (!client) return;
    client.stopping = true;
    for (const hostId of [...client.running, ...client.starting.keys()]) {
      const flags = this.ctx.live(hostId)?.serviceFlags;
      if (!flags) continue;
      if (error) await this.ctx.store.deleteFile(flags.error);
      await this.ctx.store.deleteFile(flags.terminate);
    }
    for (const hostId of client.starting.keys()) {
      if (!this.ctx.isIssued(hostId)) {
        client.starting.delete(hostId);
        this.clientOfHost.delete(hostId);
      }
    }
    this.afterServiceGone(clientId, client);
  }

  /** A service host's batch job ended (`failed`: with an error status, or its commit never appeared). */
  async hostExited(host: JobDescription, failed: boolean): Promise<void> {
    if (!failed) {
      // Exited cleanly but is still in the store: it is cleaned up like any job.
      this.ctx.ready(host.id, 0);
      return;
    }
    // Told to stop because its client's successors failed: no point in retrying it.
    const flags = host.serviceFlags;
    if (flags && !(await this.ctx.store.fileExists(flags.error))) {
      await this.ctx.fail(host.id, "its service was stopped with an error");
      return;
    }
    this.ctx.ready(host.id, 1);
  }

  /**
   * Issue a service host again after its worker died. The dead attempt may have deleted its start
   * flag (it had started), so the host gets a new one and counts as starting again: the leader then
   * waits for the new attempt's start like the first one's, instead of taking the old deletion for
   * it. While its client runs, deleted terminate/error flags are renewed too; once the client has
   * asked its services to stop they stay deleted, so the new attempt stops right after starting.
   */
  async reissue(host: JobDescription): Promise<void> {
    const clientId = this.clientOfHost.get(host.id)!;
    const client = this.clients.get(clientId);
    const stopping = !client || client.stopping || client.failed;
    if (await renewServiceFlags(this.ctx.store, host, stopping ? ["start"] : ["start", "terminate", "error"])) {
      await this.ctx.store.updateJob(host);
    }
    if (client) {
      client.running.delete(host.id);
      client.starting.set(host.id, host.serviceFlags?.start ?? "");
    }
    this.ctx.log.info(`Service host ${host} is issued again (${triesLeft(host.remainingTryCount)})${stopping ? "; it is told to stop" : ""}`);
    await this.ctx.issue(host);
  }

  /** A service host finished and is gone from the store. Returns whether `jobId` was one. */
  hostRemoved(jobId: string): boolean {
    const clientId = this.clientOfHost.get(jobId);
    if (clientId === undefined) return false;
    this.clientOfHost.delete(jobId);
    const client = this.clients.get(clientId);
    if (client) {
      client.running.delete(jobId);
      client.starting.delete(jobId);
      this.afterServiceGone(clientId, client);
    }
    return true;
  }

  /**
   * A service host failed for good. Its client's other services are told to stop with an error
   * (as Toil does), so the client, which can never have all its services, fails once they are gone
   * instead of waiting for them. Returns the client's id, or undefined if `jobId` is not a host.
   */
  async hostFailedForGood(jobId: string): Promise<string | undefined> {
    const clientId = this.clientOfHost.get(jobId);
    if (clientId === undefined) return undefined;
    this.clientOfHost.delete(jobId);
    const client = this.clients.get(clientId);
    if (client) {
      client.failed = true;
      client.starting.delete(jobId);
      client.running.delete(jobId);
      if (client.stopping) this.afterServiceGone(clientId, client);
      else {
        this.ctx.log.warn(`A service of job ${this.ctx.live(clientId) ?? clientId} failed for good: stopping its other services`);
        await this.stop(clientId, true);
      }
    }
    return clientId;
  }

  private afterServiceGone(clientId: string, client: ClientServices): void {
    if (client.running.size + client.starting.size > 0) return;
    if (!client.stopping && !client.failed) return;
    this.clients.delete(clientId);
    this.ctx.live(clientId)?.filterServiceHosts(() => false);
    this.ctx.ready(clientId, client.failed ? 1 : 0);
  }

  /**
   * Whether the run is stuck: for `--deadlockWait` seconds nothing was pending in the leader and
   * every batch job running was the same set of started service hosts (other issued jobs, service
   * hosts still starting among them, waiting in the batch system for resources those services hold).
   * Services only stop when their clients' successors finish, so nothing can change any more.
   * As in Toil, the running set must stay the same for the whole wait.
   */
  async checkStall(view: StallView): Promise<Stall | undefined> {
    const started = new Set<number>();
    let others = 0;
    if (view.pending === 0) {
      for (const [batchId, job] of view.issued) {
        if (job.service && !this.isStarting(job.jobId)) started.add(batchId);
        else others++;
      }
    }
    if (started.size === 0) {
      this.stallKey = undefined;
      return undefined;
    }
    if (others > 0) {
      // Other issued jobs (service hosts still starting among them) make progress only if the batch system runs one.
      for (const batchId of await view.running()) {
        if (!started.has(batchId)) {
          this.stallKey = undefined;
          return undefined;
        }
      }
    }
    const key = [...started].sort((a, b) => a - b).join(",");
    const now = Date.now();
    if (key !== this.stallKey) {
      this.stallKey = key;
      this.stallSince = now;
      return undefined;
    }
    if (now - this.stallSince < this.ctx.config.deadlockWait * 1000) return undefined;
    return { services: started.size, queuedServices: this.queue.length, waitingJobs: others };
  }

  /** Forget the stall timer (something happened). */
  progressed(): void {
    this.stallKey = undefined;
  }
}

/** What a stalled run looks like, in words. */
export function describeStall(stall: Stall, deadlockWait: number): string {
  const parts = [`for ${deadlockWait} s only services have been running (${stall.services})`];
  if (stall.queuedServices > 0) parts.push(`${stall.queuedServices} more wait for a --maxServiceJobs slot`);
  if (stall.waitingJobs > 0) parts.push(`${plural(stall.waitingJobs, "other job")} issued to the batch system ${stall.waitingJobs === 1 ? "waits" : "wait"} for the resources they hold`);
  return parts.join(", ");
}

/**
 * The error that ends a stalled run. With jobs already failed for good, a FailedJobsError listing
 * them (nothing more can run; the services are stopped), so `--restart` retries them; otherwise, as
 * in Toil, a DeadlockError that says which limit keeps the waiting jobs from running.
 */
export function stallError(
  stall: Stall,
  config: Pick<Config, "deadlockWait" | "maxServiceJobs">,
  locator: string,
  failedJobs: readonly FailedJob[],
  batchStatus: string | null,
): FailedJobsError | DeadlockError {
  const what = describeStall(stall, config.deadlockWait);
  if (failedJobs.length > 0) {
    return new FailedJobsError(locator, failedJobs, `${what}, so the remaining services were stopped${batchStatus ? `; batch system: ${batchStatus}` : ""}`);
  }
  const now = config.maxServiceJobs !== undefined ? ` (now ${config.maxServiceJobs})` : "";
  const advice =
    stall.waitingJobs > 0
      ? `The jobs that use the services cannot start until the batch system has room for them: give the workflow more ` +
        `job slots or resources (--maxJobs, --maxCores, --maxMemory), give services smaller requirements, or lower ` +
        `--maxServiceJobs${now} so that services leave room for their clients.`
      : `The jobs that need them cannot start until every one of their services is up. Raise --maxServiceJobs${now} or give jobs fewer services.`;
  return new DeadlockError(`The workflow is service deadlocked: ${what}. ${advice}${batchStatus ? ` Batch system: ${batchStatus}` : ""}`);
}

/**
 * Give a service host new flag files for those of `keys` that were already deleted (signalled).
 * Changes `host` only; returns whether anything changed (the caller saves it).
 */
export async function renewServiceFlags(
  store: LeaderStore,
  host: JobDescription,
  keys: ReadonlyArray<"start" | "terminate" | "error">,
): Promise<boolean> {
  if (!host.serviceFlags) return false;
  const flags = { ...host.serviceFlags };
  let changed = false;
  for (const key of keys) {
    if (!(await store.fileExists(flags[key]))) {
      flags[key] = await store.createEmptyFile(host.id, ["service", key]);
      changed = true;
    }
  }
  host.serviceFlags = flags;
  return changed;
}
