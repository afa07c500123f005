/**
 * toil-batch-echo: a small third-party batch system for toil-ts. It runs each command as a
 * child process on this machine, at most `maxCores` cores' worth at once, and echoes every step
 * of a job's life (queued, started, finished, killed) as one line on stderr, or into the file
 * named by `TOIL_BATCH_ECHO_LOG`.
 *
 * Installed next to the leader, it is found by name: `toil run flow.ts --batchSystem echo`.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { appendFileSync, readdirSync, readFileSync } from "node:fs";
import { constants } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import {
  type BatchJobDescription,
  BatchJobExitReason,
  BatchSystemShutdownError,
  BatchSystemSupport,
  type Environment,
  batchJobArgv,
  checkEnvironment,
  type UpdatedBatchJobInfo,
} from "@toil/batch-core";

/** Environment variable every process of a job inherits; kill finds escaped descendants by it. */
const MARKER = "TOIL_BATCH_ECHO_JOB";

interface EchoJob {
  id: number;
  argv: readonly string[];
  name: string;
  cores: number;
  memory: number;
  env: NodeJS.ProcessEnv;
  child?: ChildProcess;
  start?: number;
}

function pidsWithMarker(marker: string): number[] {
  const pids: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return pids; // no /proc: only the process group is killed
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, "utf8");
      if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) continue; // exited, not yet reaped
      if (readFileSync(`/proc/${e}/environ`).includes(marker)) pids.push(Number(e));
    } catch {
      // gone while we looked
    }
  }
  return pids;
}

export default class EchoBatchSystem extends BatchSystemSupport {
  static readonly batchSystemName = "echo";

  private nextId = 1;
  private closed = false;
  private usedCores = 0;
  private usedMemory = 0;
  private readonly queue: EchoJob[] = [];
  private readonly running = new Map<number, EchoJob>();
  private readonly done: UpdatedBatchJobInfo[] = [];

  /** One lifecycle line. */
  protected echo(line: string): void {
    const text = `[echo] ${line}\n`;
    const file = process.env.TOIL_BATCH_ECHO_LOG;
    if (file) appendFileSync(file, text);
    else process.stderr.write(text);
  }

  private marker(id: number): string {
    return `${MARKER}=${this.workflowId}:${id}\0`;
  }

  async issueBatchJob(command: string, job: BatchJobDescription, env: Environment = {}): Promise<number> {
    if (this.closed) throw new BatchSystemShutdownError(`issueBatchJob("${job.jobName}") after shutdown`);
    this.checkResourceRequest(job); // InsufficientSystemResources for requests that can never fit
    const argv = batchJobArgv(command, job); // jobDesc.argv as it is (no shell); a bare command line goes to sh -c
    checkEnvironment(env, job.jobName);
    const id = this.nextId++;
    const jobEnv = { ...process.env, ...this.environment, ...env, [MARKER]: `${this.workflowId}:${id}` };
    this.queue.push({ id, argv, name: job.jobName, cores: job.requirements.cores, memory: job.requirements.memory, env: jobEnv });
    this.echo(`queued ${id} ${JSON.stringify(job.jobName)} (${job.requirements.cores} cores)`);
    this.startQueued();
    return id;
  }

  /** Start queued jobs in order while they fit in the cores and memory left. */
  private startQueued(): void {
    while (!this.closed && this.queue.length > 0) {
      const next = this.queue[0] as EchoJob;
      const fits =
        this.usedCores + next.cores <= this.maxCores + 1e-9 && this.usedMemory + next.memory <= this.maxMemory;
      if (!fits && this.running.size > 0) return;
      this.queue.shift();
      this.start(next);
    }
  }

  private start(job: EchoJob): void {
    const [file, ...args] = job.argv as [string, ...string[]];
    const child = spawn(file, args, { env: job.env, detached: true, stdio: ["ignore", "inherit", "inherit"] });
    job.child = child;
    job.start = Date.now();
    this.usedCores += job.cores;
    this.usedMemory += job.memory;
    this.running.set(job.id, job);
    this.echo(`started ${job.id} ${JSON.stringify(job.name)} as pid ${child.pid ?? "?"}: ${JSON.stringify(job.argv)}`);
    const finish = (exitStatus: number, reason: BatchJobExitReason, how: string): void => {
      if (this.running.get(job.id) !== job) return; // killed: never reported
      this.release(job);
      const wallTime = Math.max(0.001, (Date.now() - (job.start as number)) / 1000);
      this.echo(`finished ${job.id} ${JSON.stringify(job.name)}: ${how} after ${wallTime.toFixed(3)} s`);
      this.done.push({ jobId: job.id, exitStatus, exitReason: reason, wallTime, backingId: String(child.pid ?? "") });
      this.startQueued();
    };
    child.on("error", (err) => finish(127, BatchJobExitReason.FAILED, `could not start (${err.message})`));
    child.on("exit", (code, signal) => {
      if (code !== null) finish(code, code === 0 ? BatchJobExitReason.FINISHED : BatchJobExitReason.FAILED, `exit ${code}`);
      else finish(128 + (signal ? constants.signals[signal] : 0), BatchJobExitReason.KILLED, `signal ${signal}`);
    });
  }

  private release(job: EchoJob): void {
    this.running.delete(job.id);
    this.usedCores = Math.max(0, this.usedCores - job.cores);
    this.usedMemory = Math.max(0, this.usedMemory - job.memory);
  }

  /** SIGKILL the job's process group and every process carrying its marker, until none is left. */
  private async killTree(job: EchoJob): Promise<void> {
    const pid = job.child?.pid;
    for (let round = 0; round < 500; round++) {
      if (pid !== undefined) {
        try {
          process.kill(-pid, "SIGKILL");
        } catch {
          // group gone
        }
      }
      const left = pidsWithMarker(this.marker(job.id));
      const childAlive = job.child !== undefined && job.child.exitCode === null && job.child.signalCode === null && job.child.pid !== undefined;
      if (left.length === 0 && !childAlive) return;
      for (const p of left) {
        try {
          process.kill(p, "SIGKILL");
        } catch {
          // gone
        }
      }
      await sleep(10);
    }
  }

  async killBatchJobs(ids: readonly number[]): Promise<void> {
    const wanted = new Set(ids);
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const job = this.queue[i] as EchoJob;
      if (wanted.has(job.id)) {
        this.queue.splice(i, 1);
        this.echo(`killed ${job.id} ${JSON.stringify(job.name)} before it started`);
      }
    }
    const victims = ids.map((id) => this.running.get(id)).filter((j): j is EchoJob => j !== undefined);
    for (const job of victims) this.release(job);
    await Promise.all(victims.map((job) => this.killTree(job)));
    for (const job of victims) this.echo(`killed ${job.id} ${JSON.stringify(job.name)}`);
    this.startQueued();
  }

  async getIssuedBatchJobIds(): Promise<number[]> {
    return [...this.queue.map((j) => j.id), ...this.running.keys()];
  }

  async getRunningBatchJobIds(): Promise<Map<number, number>> {
    const now = Date.now();
    return new Map([...this.running.values()].map((j) => [j.id, (now - (j.start as number)) / 1000]));
  }

  async getUpdatedBatchJob(maxWaitSeconds: number): Promise<UpdatedBatchJobInfo | null> {
    const deadline = Date.now() + maxWaitSeconds * 1000;
    while (this.done.length === 0 && Date.now() < deadline && !this.closed) await sleep(10);
    return this.done.shift() ?? null;
  }

  override getSchedulingStatusMessage(): string | null {
    return this.queue.length > 0 ? `${this.queue.length} job${this.queue.length === 1 ? "" : "s"} waiting for cores or memory` : null;
  }

  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const queued = this.queue.splice(0).map((j) => j.id);
    await this.killBatchJobs([...queued, ...this.running.keys()]);
    this.echo("shut down");
  }
}
