/**
 * Job packs (`--slurmPackJobs`): the array tasks that run several jobs one after another through
 * the pack runner, and how their jobs are settled from the runner's status files and the task's
 * Slurm state.
 */
import { readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BatchJobExitReason, EXIT_STATUS_UNAVAILABLE_VALUE } from "@toil/batch-core";
import { jobOutcome, type SlurmJobRecord } from "./state.js";
import type { Pack, TrackedJob } from "./tracked-job.js";

/** What the packs need from the batch system. */
export interface PackOwner {
  /** Whether the job is still issued (not killed, not reported). */
  isLive(job: TrackedJob): boolean;
  /** Reports a job as ended. */
  finish(job: TrackedJob, exitStatus: number, exitReason: BatchJobExitReason, wallTime: number | null): void;
  /** Puts a job that never ran back in the queue. */
  requeue(job: TrackedJob): void;
  /** Publishes the Slurm id a job runs under. */
  announce(job: TrackedJob, key: string): void;
  /** Seconds a task may be unknown to Slurm before its jobs are settled as lost. */
  missingGraceSeconds(): number;
  /** Reports a problem the user should know about. */
  warn(message: string): void;
}

/** The pack array tasks submitted and not yet settled. */
export class JobPacks {
  private readonly packs = new Map<string, Pack>();

  constructor(private readonly owner: PackOwner) {}

  /** Every unsettled pack task. */
  all(): Pack[] {
    return [...this.packs.values()];
  }

  /** The pack task with this key (`<array>_<task>`), if any. */
  get(key: string): Pack | undefined {
    return this.packs.get(key);
  }

  /** Whether any pack task is unsettled. */
  get size(): number {
    return this.packs.size;
  }

  /** Records the tasks of a submitted pack array (`submitId`); a job killed meanwhile is skipped by the runner. */
  add(submitId: string, dir: string, groups: readonly TrackedJob[][]): void {
    groups.forEach((group, i) => {
      const pack: Pack = { key: `${submitId}_${i}`, submitId, dir, jobs: [...group] };
      this.packs.set(pack.key, pack);
      for (const job of group) {
        if (!this.owner.isLive(job)) {
          // Killed while sbatch ran: the runner skips it.
          writeFileSync(join(dir, `${job.id}.cancel`), "");
          continue;
        }
        job.pack = pack;
        job.key = pack.key;
        job.submitId = submitId;
        this.owner.announce(job, pack.key);
      }
    });
  }

  /**
   * Marks a killed pack job so the runner skips it; returns true when it is running now (then
   * only stopping its task stops it).
   */
  cancel(pack: Pack, job: TrackedJob): boolean {
    writeFileSync(join(pack.dir, `${job.id}.cancel`), "");
    return this.started(pack, job) !== undefined && this.status(pack, job) === undefined;
  }

  /** After its task was stopped: the pack's other jobs are reported if they had ended, else submitted again. */
  settleStopped(pack: Pack): void {
    for (const job of pack.jobs) {
      if (!this.owner.isLive(job) || job.pack !== pack) continue;
      const status = this.status(pack, job);
      if (status !== undefined) this.owner.finish(job, status, status === 0 ? BatchJobExitReason.FINISHED : BatchJobExitReason.FAILED, null);
      else this.owner.requeue(job);
    }
    this.drop(pack);
  }

  /**
   * Reports the jobs of a pack that ended (from the runner's status files), and once the array
   * task has ended, settles the rest: a job that had started gets the task's outcome (e.g.
   * MEMLIMIT), a job that had not is submitted again.
   */
  update(pack: Pack, rec: SlurmJobRecord | undefined): { pending: number; running: number } {
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
      if (now - pack.missingSince > this.owner.missingGraceSeconds() * 1000) {
        this.owner.warn(`Slurm no longer knows job pack ${pack.key}; its unfinished jobs are reported as lost or submitted again.`);
        taskEnded = { exitStatus: EXIT_STATUS_UNAVAILABLE_VALUE, exitReason: BatchJobExitReason.LOST };
      }
    }
    for (const job of pack.jobs) {
      if (!this.owner.isLive(job) || job.pack !== pack) continue;
      const started = this.started(pack, job);
      const status = this.status(pack, job);
      const wall = started !== undefined ? Math.max(0, (Date.now() - started) / 1000) : null;
      if (status !== undefined) {
        this.owner.finish(job, status, status === 0 ? BatchJobExitReason.FINISHED : BatchJobExitReason.FAILED, wall);
      } else if (taskEnded) {
        if (started !== undefined) {
          const exitStatus = taskEnded.exitStatus === 0 ? EXIT_STATUS_UNAVAILABLE_VALUE : taskEnded.exitStatus;
          const reason = taskEnded.exitReason === BatchJobExitReason.FINISHED ? BatchJobExitReason.FAILED : taskEnded.exitReason;
          this.owner.finish(job, exitStatus, reason, wall);
        } else {
          this.owner.requeue(job);
        }
      } else if (started !== undefined) {
        job.running = true;
        job.elapsed = wall ?? 0;
        running++;
      } else {
        pending++;
      }
    }
    if (taskEnded) this.drop(pack);
    return { pending, running };
  }

  /** Forgets every pack (at shutdown); returns the tasks' keys and submit ids, to cancel them. */
  clear(): { key: string; submitId: string }[] {
    const tasks = [...this.packs.values()].map((p) => ({ key: p.key, submitId: p.submitId }));
    this.packs.clear();
    return tasks;
  }

  /** A pack job's exit status from the runner, if it has ended. */
  private status(pack: Pack, job: TrackedJob): number | undefined {
    try {
      const text = readFileSync(join(pack.dir, `${job.id}.status`), "utf8").trim();
      return /^\d+$/.test(text) ? Number(text) : undefined;
    } catch {
      return undefined;
    }
  }

  /** When the runner started a pack job (ms), if it has. */
  private started(pack: Pack, job: TrackedJob): number | undefined {
    try {
      return statSync(join(pack.dir, `${job.id}.started`)).mtimeMs;
    } catch {
      return undefined;
    }
  }

  /** Forgets a settled pack; the runner's directory goes once no task of its array is left. */
  private drop(pack: Pack): void {
    this.packs.delete(pack.key);
    for (const other of this.packs.values()) if (other.dir === pack.dir) return;
    rmSync(pack.dir, { recursive: true, force: true });
  }
}
