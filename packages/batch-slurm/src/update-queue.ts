import { FifoQueue, type UpdatedBatchJobInfo } from "@toil/batch-core";

/**
 * Ended jobs waiting to be returned by `getUpdatedBatchJob`, and the callers waiting for one.
 * A failure of the batch system is thrown to every waiting and later caller.
 */
export class UpdateQueue {
  private readonly updates = new FifoQueue<UpdatedBatchJobInfo>();
  private waiters: (() => void)[] = [];
  /** The error that stopped the batch system, if any. */
  failure: Error | undefined;

  /** Queues an ended job and wakes the waiting callers. */
  push(info: UpdatedBatchJobInfo): void {
    this.updates.push(info);
    this.notify();
  }

  /** Records the first failure and wakes the waiting callers (who throw it). */
  fail(err: Error): void {
    this.failure ??= err;
    this.notify();
  }

  /** Drops queued updates of these jobs (killed jobs are never reported). */
  drop(jobIds: ReadonlySet<number>): void {
    this.updates.removeWhere((u) => jobIds.has(u.jobId));
  }

  /** The next ended job, waiting up to `maxWaitSeconds` unless `closed` (then `null` at once). */
  async next(maxWaitSeconds: number, closed: boolean): Promise<UpdatedBatchJobInfo | null> {
    if (this.failure) throw this.failure;
    const first = this.updates.shift();
    if (first) return first;
    if (closed) return null;
    await new Promise<void>((resolveWait) => {
      const timer = setTimeout(done, Math.max(0, maxWaitSeconds) * 1000);
      const waiters = this.waiters;
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

  /** Wakes every waiting caller. */
  notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
