import {
  BatchSystemSupport,
  type BatchJobDescription,
  type BatchMessageBus,
  type BatchSystem,
  type UpdatedBatchJobInfo,
  type WorkerCleanupInfo,
  type WorkerContextDescriptor,
} from "@toil/batch-core";
import { runWorker } from "@toil/worker";

interface Pending {
  id: number;
  argv: string[];
  env: Record<string, string>;
}

function splitCommand(command: string): string[] {
  const out: string[] = [];
  const re = /'((?:[^']|'\\'')*)'|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(command))) out.push(m[1] !== undefined ? m[1].replace(/'\\''/g, "'") : (m[2] as string));
  return out;
}

/**
 * `--debugWorker`: a batch system that runs each worker command inside the leader process, one at
 * a time, with output going to the leader's terminal. For stepping through job code in a debugger.
 */
export class DebugWorkerBatchSystem implements BatchSystem {
  private nextId = 1;
  private readonly queue: Pending[] = [];
  private readonly env: Record<string, string> = {};

  constructor(
    readonly maxCores: number,
    readonly maxMemory: number,
    readonly maxDisk: number,
    /** The work directory to clean up at shutdown, as the other batch systems do (`--cleanWorkDir`). */
    private readonly cleanup?: WorkerCleanupInfo,
  ) {}

  async issueBatchJob(command: string, jobDesc: BatchJobDescription, jobEnvironment?: Record<string, string>): Promise<number> {
    const id = this.nextId++;
    // The command is `node <worker script> <jobStore> <jobId>`: run the worker on the same arguments
    // (the exact argv the leader gave; the command line is only its display form).
    const argv = (jobDesc.argv ? [...jobDesc.argv] : splitCommand(command)).slice(2);
    this.queue.push({ id, argv, env: { ...this.env, ...(jobEnvironment ?? {}) } });
    return id;
  }

  async killBatchJobs(ids: readonly number[]): Promise<void> {
    const doomed = new Set(ids);
    for (let i = this.queue.length - 1; i >= 0; i--) if (doomed.has(this.queue[i]!.id)) this.queue.splice(i, 1);
  }

  async getIssuedBatchJobIds(): Promise<number[]> {
    return this.queue.map((p) => p.id);
  }

  async getRunningBatchJobIds(): Promise<Map<number, number>> {
    return new Map();
  }

  async getUpdatedBatchJob(maxWaitSeconds: number): Promise<UpdatedBatchJobInfo | null> {
    const job = this.queue.shift();
    if (!job) {
      if (maxWaitSeconds > 0) await new Promise((r) => setTimeout(r, Math.min(maxWaitSeconds, 0.05) * 1000));
      return null;
    }
    const started = Date.now();
    const exitStatus = await runWorker(job.argv, { env: { ...process.env, ...job.env } as Record<string, string>, cwd: process.cwd(), inProcess: true });
    return {
      jobId: job.id,
      exitStatus,
      exitReason: exitStatus === 0 ? "FINISHED" : "FAILED",
      wallTime: Math.max((Date.now() - started) / 1000, 1e-6),
      backingId: String(process.pid),
    };
  }

  getSchedulingStatusMessage(): string | null {
    return null;
  }

  setEnv(name: string, value?: string): void {
    const v = value ?? process.env[name];
    if (v === undefined) throw new Error(`setEnv(${name}): no value given and the leader has none.`);
    this.env[name] = v;
  }

  setMessageBus(_bus: BatchMessageBus): void {}

  getWorkerContexts(): WorkerContextDescriptor[] {
    return [];
  }

  async shutdown(): Promise<void> {
    this.queue.length = 0;
    if (this.cleanup) await BatchSystemSupport.workerCleanup(this.cleanup);
  }
}
