import {
  type BatchJobDescription,
  type BatchMessageBus,
  type BatchSystem,
  type BatchSystemClass,
  type BatchSystemConfig,
  type Environment,
  type UpdatedBatchJobInfo,
} from "@toil/batch-core";
import { SlurmError } from "./errors.js";

type ExternalBatchIdMessage = Extract<Parameters<BatchMessageBus["publish"]>[0], { type: "ExternalBatchId" }>;

/** What the router needs from the Slurm batch system it serves. */
export interface LocalJobHost {
  /** The config, limits and bus of the Slurm batch system. */
  readonly config: BatchSystemConfig;
  /** Most cores of one job. */
  readonly maxCores: number;
  /** Most memory of one job. */
  readonly maxMemory: number;
  /** Most disk of one job. */
  readonly maxDisk: number;
  /** The bus of the Slurm batch system, if connected. */
  bus(): BatchMessageBus | undefined;
  /** A new batch id of the Slurm batch system. */
  newId(): number;
  /** Reports an ended job (with the Slurm batch system's id). */
  report(info: UpdatedBatchJobInfo): void;
  /** Stops the batch system with an error. */
  fail(err: Error): void;
  /** Whether the batch system is shutting down. */
  stopped(): boolean;
  /** Options for the `single_machine` batch system (its fifth constructor argument): `logger`, `output`. */
  readonly localOptions?: Readonly<Record<string, unknown>>;
}

/**
 * Runs the jobs marked `local` on the leader's machine through a `single_machine` batch system,
 * created on the first such job, and translates its batch ids (and bus messages) to the Slurm
 * batch system's.
 */
export class LocalJobRouter {
  private local: BatchSystem | undefined;
  private localPromise: Promise<BatchSystem> | undefined;
  private readonly localToMine = new Map<number, number>();
  private readonly mineToLocal = new Map<number, number>();
  private pump: Promise<void> | undefined;
  /** ExternalBatchId messages of local jobs published before their batch id was known. */
  private readonly heldMessages = new Map<number, ExternalBatchIdMessage[]>();
  /**
   * The bus the embedded single-machine batch system publishes to: its batch ids are its own,
   * so they are translated to the Slurm batch system's ids before reaching the real bus.
   */
  private readonly localBus: BatchMessageBus = {
    publish: (message) => {
      if (message.type !== "ExternalBatchId") {
        this.host.bus()?.publish(message);
        return;
      }
      const mine = this.localToMine.get(message.batchId);
      if (mine !== undefined) {
        this.host.bus()?.publish({ ...message, batchId: mine });
      } else {
        const held = this.heldMessages.get(message.batchId) ?? [];
        held.push(message);
        this.heldMessages.set(message.batchId, held);
      }
    },
  };

  constructor(
    private readonly host: LocalJobHost,
    private readonly factory: () => Promise<BatchSystemClass>,
  ) {}

  /** Issues a local job; resolves to its id in the Slurm batch system. */
  async issue(command: string, jobDesc: BatchJobDescription, env: Environment): Promise<number> {
    const local = await this.system();
    const localId = await local.issueBatchJob(command, jobDesc, env);
    const id = this.host.newId();
    this.localToMine.set(localId, id);
    this.mineToLocal.set(id, localId);
    const held = this.heldMessages.get(localId);
    if (held) {
      this.heldMessages.delete(localId);
      for (const m of held) this.host.bus()?.publish({ ...m, batchId: id });
    }
    this.pump ??= this.pumpUpdates().finally(() => {
      this.pump = undefined;
    });
    return id;
  }

  /** Kills the local jobs among `jobIds`. */
  async kill(jobIds: readonly number[]): Promise<void> {
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
  }

  /** Ids of local jobs issued and not yet reported. */
  issuedIds(): IterableIterator<number> {
    return this.mineToLocal.keys();
  }

  /** Local jobs running now, with their seconds running. */
  async running(): Promise<Map<number, number>> {
    const out = new Map<number, number>();
    if (this.local && this.mineToLocal.size > 0) {
      for (const [localId, secs] of await this.local.getRunningBatchJobIds()) {
        const mine = this.localToMine.get(localId);
        if (mine !== undefined) out.set(mine, secs);
      }
    }
    return out;
  }

  /** Stops the single-machine batch system (after the update pump has ended). */
  async shutdown(): Promise<void> {
    if (this.pump) await this.pump.catch(() => undefined);
    if (this.local) await this.local.shutdown();
    this.mineToLocal.clear();
    this.localToMine.clear();
  }

  private system(): Promise<BatchSystem> {
    this.localPromise ??= (async () => {
      let Local: BatchSystemClass;
      try {
        Local = await this.factory();
      } catch (err) {
        throw new SlurmError(
          `Jobs marked local run on the leader's machine through the "single_machine" batch system, but it could not be loaded: ${(err as Error).message} ` +
            "Install @toil/batch-local next to the leader, or pass --runLocalJobsOnWorkers to send local jobs to Slurm.",
          { cause: err },
        );
      }
      const config = this.host.config;
      const maxLocal = typeof config.maxLocalJobs === "number" ? config.maxLocalJobs : undefined;
      // BatchSystemClass is the contract's four-argument constructor; single_machine takes a fifth.
      const LocalWithOptions = Local as unknown as new (...args: unknown[]) => BatchSystem;
      const local = new LocalWithOptions(
        { ...config, ...(maxLocal !== undefined ? { maxJobs: maxLocal } : {}) },
        this.host.maxCores,
        this.host.maxMemory,
        this.host.maxDisk,
        { ...(this.host.localOptions ?? {}) },
      );
      local.setMessageBus(this.localBus);
      this.local = local;
      return local;
    })();
    return this.localPromise;
  }

  /** Moves the single-machine system's updates to the Slurm batch system, with its ids. */
  private async pumpUpdates(): Promise<void> {
    const local = await this.system();
    while (!this.host.stopped() && this.localToMine.size > 0) {
      let info: UpdatedBatchJobInfo | null;
      try {
        info = await local.getUpdatedBatchJob(0.5);
      } catch (err) {
        this.host.fail(err as Error);
        return;
      }
      if (!info) continue;
      const mine = this.localToMine.get(info.jobId);
      if (mine === undefined) continue;
      this.localToMine.delete(info.jobId);
      this.mineToLocal.delete(mine);
      this.heldMessages.delete(info.jobId);
      this.host.report({ ...info, jobId: mine });
    }
  }
}
