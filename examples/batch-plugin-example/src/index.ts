import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { constants } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import {
  type BatchJobDescription, BatchJobExitReason, batchJobArgv, BatchSystemShutdownError, BatchSystemSupport,
  checkEnvironment, type Environment, type UpdatedBatchJobInfo,
} from "@toil/batch-core";

/**
 * Runs every command at once in its own process group; no queue, no limits beyond the checks.
 * It executes `jobDesc.argv` (what the leader issues) without a shell; only a caller that passes
 * a bare command line gets `/bin/sh -c` (see `batchJobArgv`).
 */
export default class ExampleBatchSystem extends BatchSystemSupport {
  static readonly batchSystemName = "example";
  private nextId = 1;
  private closed = false;
  private readonly jobs = new Map<number, { child: ChildProcess; start: number }>();
  private readonly done: UpdatedBatchJobInfo[] = [];

  async issueBatchJob(command: string, job: BatchJobDescription, env: Environment = {}): Promise<number> {
    if (this.closed) throw new BatchSystemShutdownError("issueBatchJob after shutdown");
    this.checkResourceRequest(job); // InsufficientSystemResources for impossible requests
    checkEnvironment(env, job.jobName); // BatchCommandError for NUL bytes or bad names
    const [file, ...args] = batchJobArgv(command, job); // jobDesc.argv, never re-parsed by a shell
    const id = this.nextId++;
    const child = spawn(file as string, args, { env: { ...process.env, ...this.environment, ...env }, detached: true, stdio: "ignore" });
    this.jobs.set(id, { child, start: Date.now() });
    child.on("exit", (code, signal) => {
      const job = this.jobs.get(id);
      if (!job || !this.jobs.delete(id)) return; // killed: never reported
      const exitStatus = code ?? 128 + (signal ? constants.signals[signal] : 127);
      const exitReason = code === 0 ? BatchJobExitReason.FINISHED : BatchJobExitReason.FAILED;
      this.done.push({ jobId: id, exitStatus, exitReason, wallTime: Math.max(0.001, (Date.now() - job.start) / 1000), backingId: String(child.pid) });
    });
    // A program that cannot be started (ENOENT, EACCES) ends like a shell's "not found": status 127.
    child.on("error", () => { if (child.exitCode === null && child.signalCode === null) child.emit("exit", 127, null); });
    return id;
  }

  async killBatchJobs(ids: readonly number[]): Promise<void> {
    await Promise.all(ids.map(async (id) => {
      const job = this.jobs.get(id);
      if (!job) return;
      this.jobs.delete(id);
      const exited = job.child.exitCode !== null || job.child.signalCode !== null ? null : once(job.child, "exit");
      try { process.kill(-(job.child.pid as number), "SIGKILL"); } catch { /* gone */ }
      await exited;
    }));
  }

  async getIssuedBatchJobIds(): Promise<number[]> { return [...this.jobs.keys()]; }

  async getRunningBatchJobIds(): Promise<Map<number, number>> {
    return new Map([...this.jobs].map(([id, j]) => [id, (Date.now() - j.start) / 1000]));
  }

  async getUpdatedBatchJob(maxWaitSeconds: number): Promise<UpdatedBatchJobInfo | null> {
    const deadline = Date.now() + maxWaitSeconds * 1000;
    while (this.done.length === 0 && Date.now() < deadline && !this.closed) await sleep(20);
    return this.done.shift() ?? null;
  }

  async shutdown(): Promise<void> {
    this.closed = true;
    await this.killBatchJobs([...this.jobs.keys()]);
  }
}
