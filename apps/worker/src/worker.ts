import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  DamagedJobError,
  DamagedJobStoreFileError,
  DeferredFunctionManager,
  NoSuchJobError,
  NoSuchJobStoreError,
  createFileStore,
  openJobStore,
  type AbstractFileStore,
  type JobStore,
  type LeaderLogLine,
} from "@toil/filestore";
import {
  PermanentJobFailureError,
  cannotSucceedOnRetry,
  createServiceFlags,
  executeJob,
  importUserModule,
  isToilError,
  jobStoreResultResolver,
  nextChainable,
  runDeferredFunction,
  runServiceHost,
  workerCoordinationDir,
  workerWorkflowDir,
  type Config,
  type JobDescription,
  type SerializedValue,
} from "@toil/job";
import { installJobFaultHandlers, processUnfitReason, runInJobScope, UnhandledJobError, type JobScope } from "./job-faults.js";
import { userStack } from "./user-stack.js";

/** Exit codes of `toil-worker`. */
export const WORKER_EXIT = {
  /** The job (and any chained jobs) ran and were committed, or there was nothing to do. */
  OK: 0,
  /** The job failed; its log was stored with the job for the leader. */
  JOB_FAILED: 1,
  /** Bad command line. */
  USAGE: 2,
  /** The job store could not be opened (it does not exist or is not reachable from this machine). */
  NO_JOB_STORE: 76,
} as const;

/** How the worker was started. */
export interface WorkerIO {
  /** The environment the job runs with. */
  env: Record<string, string | undefined>;
  /** Working directory of the job. */
  cwd: string;
  /** File the worker's stdout goes to (for output capture), when redirected. */
  stdoutPath?: string;
  /** File the worker's stderr goes to, when redirected. */
  stderrPath?: string;
  /** Running inside the leader (`--debugWorker`): no output capture, no fault injection. */
  inProcess?: boolean;
  /**
   * Called once the job no longer needs the process (its output, environment and temporary files
   * are given back) and only its commit's sync is left; a warm host then takes its next job while
   * the sync runs (and syncs of jobs ending together are shared).
   */
  release?: () => void;
}

const IN_WORKER = Symbol.for("toil.inWorker");

/**
 * Capture this process's stdout/stderr writes while a job runs, in memory (only the last
 * `maxBytes` are kept); the text becomes a file only when it is needed (a failure, --writeLogs).
 */
/** CPU seconds beyond cores x wall (+5%) a job may use before the leader is warned. */
const CPU_OVERUSE_MARGIN_S = 1;

class OutputCapture {
  private chunks: Buffer[] = [];
  private size = 0;
  private readonly restore: Array<() => void> = [];
  constructor(
    private readonly maxBytes: number,
    enabled: boolean,
    passThrough: boolean,
  ) {
    if (!enabled) return;
    for (const stream of [process.stdout, process.stderr]) {
      const original = stream.write;
      const self = this;
      stream.write = function (this: NodeJS.WriteStream, chunk: unknown, encoding?: unknown, cb?: unknown): boolean {
        self.append(typeof chunk === "string" ? Buffer.from(chunk, (typeof encoding === "string" ? encoding : "utf8") as BufferEncoding) : Buffer.from(chunk as Uint8Array));
        if (passThrough) return original.call(this, chunk as string, encoding as BufferEncoding, cb as () => void);
        const done = typeof encoding === "function" ? encoding : cb;
        if (typeof done === "function") process.nextTick(done as () => void);
        return true;
      } as typeof stream.write;
      this.restore.push(() => {
        stream.write = original;
      });
    }
  }
  private append(buf: Buffer): void {
    this.chunks.push(buf);
    this.size += buf.length;
    if (this.maxBytes >= 0 && this.size > 2 * this.maxBytes + 65536) {
      const all = Buffer.concat(this.chunks);
      const kept = all.subarray(all.length - this.maxBytes);
      this.chunks = [kept];
      this.size = kept.length;
    }
  }
  line(text: string): void {
    this.append(Buffer.from(`${new Date().toISOString()} ${text}\n`));
  }
  text(): string {
    const all = Buffer.concat(this.chunks);
    if (this.maxBytes >= 0) return all.subarray(Math.max(0, all.length - this.maxBytes)).toString("utf8");
    return all.subarray(0, -this.maxBytes).toString("utf8");
  }
  close(): void {
    for (const r of this.restore.reverse()) r();
    this.restore.length = 0;
  }
}

/** Job stores opened by this process (a warm worker reuses them between jobs of one workflow). */
const openStores = new Map<string, JobStore>();


/** Close every job store this process opened (a worker process about to exit). */
export async function closeOpenStores(): Promise<void> {
  for (const store of openStores.values()) await store.close();
  openStores.clear();
}

/**
 * The successor `desc` would chain to, if it is one of the jobs its run just created (not yet
 * stored); chaining to an older job goes through the store as usual.
 */
async function chainableNewSuccessor(
  store: JobStore,
  desc: JobDescription,
  created: readonly JobDescription[],
  config: Config,
): Promise<JobDescription | undefined> {
  if (created.length === 0) return undefined;
  const byId = new Map(created.map((d) => [d.id, d] as const));
  let storedSuccessor = false;
  const next = await nextChainable(
    desc,
    async (id) => {
      const fresh = byId.get(id);
      if (fresh) return fresh;
      storedSuccessor = true;
      return (await store.jobExists(id)) ? await store.loadJob(id) : undefined;
    },
    { disableChaining: config.disableChaining, runLocalJobsOnWorkers: config.runLocalJobsOnWorkers, defaults: config },
  );
  return next && !storedSuccessor ? next : undefined;
}

/** Delete a job and, recursively, every successor and service host it still references. */
async function deleteSubtree(store: JobStore, ids: Iterable<string>): Promise<void> {
  const stack = [...ids];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (!(await store.jobExists(id))) continue;
    const d = await store.loadJob(id);
    for (const s of d.successorsAndServiceHosts()) stack.push(s);
    await store.deleteJob(id);
  }
}

/** A deferred-function manager and where its failures are logged (the run using it sets that). */
interface DeferredSlot {
  manager: DeferredFunctionManager;
  log: (message: string) => void;
}

/**
 * Idle deferred-function managers of this process, by coordination dir: a warm worker reuses its
 * manager between jobs instead of setting one up per job. A run takes one out and puts it back.
 */
const idleDeferred = new Map<string, DeferredSlot>();

function takeDeferred(dir: string, log: (message: string) => void): DeferredSlot {
  let slot = idleDeferred.get(dir);
  if (slot) idleDeferred.delete(dir);
  // Worker cleanup removed the directory since (a later run of the workflow in this process): start afresh.
  if (slot && !existsSync(slot.manager.stateDir)) {
    slot.manager.close();
    slot = undefined;
  }
  if (!slot) {
    const fresh: DeferredSlot = { log, manager: undefined as unknown as DeferredFunctionManager };
    // Deferred functions of this worker go to an owner-named file under <dir>/deferred.
    fresh.manager = new DeferredFunctionManager(dir, {
      runner: (ref) => runDeferredFunction(ref, { importModule: importUserModule }),
      log: (message) => fresh.log(`${message} (ignored)`),
    });
    slot = fresh;
  }
  slot.log = log;
  return slot;
}

function returnDeferred(dir: string, slot: DeferredSlot): void {
  if (idleDeferred.has(dir)) slot.manager.close();
  else idleDeferred.set(dir, slot);
}

/** One job run, in the stats format `toil stats` and the report read (see the README). */
interface JobStat {
  jobId: string;
  jobName: string;
  kind: string;
  start: number;
  end: number;
  cpu: number;
  memory: number;
  requested: { cores: number; memory: number; disk: number };
  failed: boolean;
  logTail?: string;
}

/**
 * Run the job `jobId` of the workflow in `locator`, and the jobs it chains to. Resolves to the exit
 * code (see {@link WORKER_EXIT}). Never throws for job failures.
 */
export async function runWorker(argv: readonly string[], io: WorkerIO): Promise<number> {
  // Positional on purpose: job ids may start with "-" (nanoid alphabet).
  const positional = argv.slice(0, 2);
  if (positional.length < 2 || positional.some((a) => a === "")) {
    process.stderr.write("usage: toil-worker <jobStore> <jobId>\n");
    return WORKER_EXIT.USAGE;
  }
  const [locator, jobId] = positional as [string, string];
  (globalThis as Record<symbol, unknown>)[IN_WORKER] = true;
  // In a process of its own (not inside the leader), an error a job leaves unhandled fails that job.
  if (!io.inProcess) installJobFaultHandlers();

  let store: JobStore;
  try {
    const cached = openStores.get(locator);
    if (cached) store = cached;
    else {
      store = openJobStore(locator);
      await store.resume();
      openStores.set(locator, store);
    }
  } catch (err) {
    const why = err instanceof NoSuchJobStoreError ? "it does not exist" : (err as Error).message;
    process.stderr.write(
      `toil-worker: cannot open job store ${locator}: ${why}. The job store must be on a filesystem shared by the leader and every worker.\n`,
    );
    return WORKER_EXIT.NO_JOB_STORE;
  }
  const config: Config = store.config;

  // Fault injection (tests): maybe kill this process at a random moment.
  let badTimer: NodeJS.Timeout | undefined;
  if (!io.inProcess && config.badWorker > 0 && Math.random() < config.badWorker) {
    badTimer = setTimeout(() => process.kill(process.pid, "SIGKILL"), Math.random() * config.badWorkerFailInterval * 1000);
  }

  // The workflow's environment (--setEnv), restored afterwards (a warm worker runs many jobs).
  const savedEnv: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(config.environment)) {
    savedEnv[k] = process.env[k];
    process.env[k] = v;
  }

  const workflowDir = workerWorkflowDir(config, io.env);
  // The job's temporary directory is made only if the job asks for local files.
  let tempDir: string | undefined;
  const tempDirOf = (): string => {
    if (!tempDir) {
      mkdirSync(workflowDir, { recursive: true });
      tempDir = mkdtempSync(path.join(workflowDir, "worker-"));
    }
    return tempDir;
  };
  const capture = new OutputCapture(config.maxLogFileSize, !io.inProcess && !config.disableWorkerOutputCapture, io.inProcess === true);
  const coordinationDir = workerCoordinationDir(config, io.env);
  const deferredSlot = takeDeferred(coordinationDir, (message) => capture.line(message));
  const deferred = deferredSlot.manager;
  // Each job gets its own subdirectory of the worker's temp dir, made only if it needs local space.
  let jobCount = 0;
  const newFileStore = (d: JobDescription): AbstractFileStore => {
    const n = jobCount++;
    return createFileStore(store, d, () => path.join(tempDirOf(), `job-${n}`), {
      caching: config.caching, // undefined: the job store's default (FileJobStore: no caching)
      cache: { cacheDir: path.join(workflowDir, `cache-${config.workflowId ?? "unknown"}`), coordinationDir },
      deferredFunctionManager: deferred,
    });
  };
  const logsToLeader: LeaderLogLine[] = [];
  const stats: JobStat[] = [];
  let failed = false;
  /** The job failed in a way no retry can fix: it gets no further tries. */
  let noRetry = false;
  let current: JobDescription | undefined;
  let currentStart = Date.now();
  let currentCpu = process.cpuUsage();
  let lastFileStore: AbstractFileStore | undefined;
  const chainNames: string[] = [];
  const recordStat = (ran: JobDescription, stat: JobStat): void => {
    stats.push(stat);
    const wall = (stat.end - stat.start) / 1000;
    // Over-use: more CPU than cores x wall time (+5%) by at least a second. The job's CPU is counted
    // from just before its run() (its module already imported), but a process that has just started
    // still compiles and collects garbage on background threads while a short job runs: a job that
    // does nothing can show a few tenths of a second, which is no reason to ask for more cores.
    const allowed = wall * stat.requested.cores * 1.05;
    if (wall > 0 && stat.requested.cores > 0 && stat.cpu - allowed >= CPU_OVERUSE_MARGIN_S) {
      const cores = `${stat.requested.cores} core${stat.requested.cores === 1 ? "" : "s"}`;
      logsToLeader.push({
        text: `Job ${ran.displayName} used ${stat.cpu.toFixed(2)} s of CPU in ${wall.toFixed(2)} s with ${cores} requested: it may need more cores`,
        level: "warning",
        jobId: ran.originalId,
        jobName: ran.displayName,
      });
    }
  };

  try {
    // Deferred functions of workers that died on this machine.
    await deferred.runOrphans();

    let desc: JobDescription;
    try {
      desc = await store.loadJob(jobId);
    } catch (err) {
      if (!(err instanceof NoSuchJobError)) throw err;
      capture.line(`Job ${jobId} no longer exists: nothing to do.`);
      return WORKER_EXIT.OK;
    }
    desc.assignConfig(config);
    current = desc;

    // A previous failed attempt's log is no longer needed.
    if (desc.logFileId) {
      const old = desc.logFileId;
      desc.logFileId = undefined;
      await store.updateJob(desc);
      await store.deleteFile(old);
    }

    if (!desc.hasBody()) {
      // Checkpoint whose subtree failed: rerun it from scratch (its successors are deleted).
      const pending = desc.nextSuccessors() !== undefined || desc.services.length > 0;
      if (desc.checkpoint && desc.checkpointBody !== undefined && pending) {
        desc.chargeRetry();
        const doomed = desc.restartCheckpoint();
        await store.updateJob(desc);
        await deleteSubtree(store, doomed);
        capture.line(`Restarting checkpoint job ${desc}; ${desc.remainingTryCount} ${desc.remainingTryCount === 1 ? "try" : "tries"} left`);
      } else {
        // Re-issued only to clean up: drop finished successors, delete if done.
        const exists = new Map<string, boolean>();
        for (const id of desc.successorsAndServiceHosts()) exists.set(id, await store.jobExists(id));
        desc.clearNonexistentDependents((id) => exists.get(id) ?? false);
        if (desc.isSubtreeDone()) await store.deleteJob(desc.id);
        else await store.updateJob(desc);
        return WORKER_EXIT.OK;
      }
    }

    for (;;) {
      // Import the job's module before measuring, so module loading does not count as the job's CPU.
      if (desc.hasBody()) await importUserModule(desc.getBody().module).catch(() => undefined);
      const started = Date.now();
      const cpu = process.cpuUsage();
      currentStart = started;
      currentCpu = cpu;
      chainNames.push(desc.displayName);
      const fileStore = newFileStore(desc);
      lastFileStore = fileStore;
      if (desc.isService) {
        const flags = desc.serviceFlags;
        const ended = await runInJobScope(jobScope(store, desc), () => fileStore.open(() => runServiceHost(
          desc,
          fileStore,
          {
            started: async (value: SerializedValue) => {
              await store.writeResult(desc.originalId, JSON.stringify(value));
              if (flags) await store.deleteFile(flags.start);
            },
            poll: async () => {
              if (!flags) return "stop";
              if (!(await store.fileExists(flags.terminate))) return (await store.fileExists(flags.error)) ? "stop" : "error";
              return "run";
            },
            intervalMs: Math.max(10, config.servicePollingInterval * 1000),
            // The leader deletes the terminate flag to stop the service: react to that at once.
            watchStop: (wake) => (flags && store.watchFile ? store.watchFile(flags.terminate, wake) : () => {}),
          },
          { resolver: jobStoreResultResolver(store), importModule: importUserModule },
        )));
        logsToLeader.push(...fileStore.logMessages);
        // Stopped because its client's successors failed: fail, so the host stays in the job store
        // and `--restart` starts the service again (deleting it would leave the client without it).
        if (ended === "errored") throw new Error(`Service host ${desc} was stopped because the jobs using its service failed.`);
        // A service host has no successors: it is done.
        await store.deleteJob(desc.id);
        current = undefined;
        stats.push(statOf(desc, started, cpu, false, config));
        break;
      }

      // open(): cache reservation, disk-use check, accessed files to the leader's log on failure.
      const outcome = await runInJobScope(jobScope(store, desc), () => fileStore.open(() => executeJob(desc, fileStore, {
        resolver: jobStoreResultResolver(store),
        importModule: importUserModule,
      })));
      // The job's own time and CPU end here: committing it is the worker's bookkeeping.
      const ran = { end: Date.now(), cpu: process.cpuUsage(cpu) };
      logsToLeader.push(...fileStore.logMessages);
      for (const d of outcome.newDescriptions) d.assignConfig(config);
      await createServiceFlags(store, outcome.newDescriptions);
      desc = outcome.description;
      desc.filesToDelete = [...desc.filesToDelete, ...fileStore.pendingDeletes];
      const resultText = JSON.stringify(outcome.returnValue);
      // A successor this job just made and that it will run itself (chaining) is committed directly
      // under this job's id, with the result and the other new jobs, in one group: the same state as
      // committing the job and then chaining, without writing and deleting the successor's document.
      // A process an unhandled error made unfit runs no more jobs: the successor goes to the leader.
      const chained = desc.filesToDelete.length === 0 && !desc.isSubtreeDone() && processUnfitReason() === undefined
        ? await chainableNewSuccessor(store, desc, outcome.newDescriptions, config)
        : undefined;
      if (chained) {
        const successorId = chained.id;
        capture.line(`Chaining from ${desc} to ${chained}`);
        chained.replace(desc);
        // Not synced per link: nothing outside this worker sees the links in between, so the
        // whole chain is made durable once, before the worker reports (see the end of runWorker).
        await store.batch(async () => {
          await store.writeResult(outcome.resultJobId, resultText);
          await store.createJobs(outcome.newDescriptions.filter((d) => d.id !== successorId));
          await store.updateJob(chained);
        }, { sync: false });
        recordStat(desc, statOf(desc, started, cpu, false, config, ran));
        await deferred.runOwn();
        desc = chained;
        current = desc;
        continue;
      }
      // Commit, as one group: the result, the new jobs, and the job itself (updated with its delete
      // journal, or deleted when its subtree is done). Files the job deleted go after the group that
      // journals them. The group is synced with the rest of the chain before the worker reports.
      const subtreeDone = desc.isSubtreeDone();
      const doomedFiles = desc.filesToDelete;
      const finish = async (): Promise<void> => {
        for (const link of desc.getChain()) if (link.id !== desc.id) await store.deleteJob(link.id);
        await store.deleteJob(desc.id);
      };
      await store.batch(async () => {
        await store.writeResult(outcome.resultJobId, resultText);
        if (outcome.newDescriptions.length > 0) await store.createJobs(outcome.newDescriptions);
        if (subtreeDone && doomedFiles.length === 0) await finish();
        else await store.updateJob(desc);
      }, { sync: false });
      if (doomedFiles.length > 0) {
        // The journal is in the store: make it durable before the files go.
        await store.sync();
        for (const id of doomedFiles) await store.deleteFile(id);
        desc.filesToDelete = [];
        if (subtreeDone) await store.batch(finish, { sync: false });
        else await store.batch(() => store.updateJob(desc), { sync: false });
      }
      current = subtreeDone ? undefined : desc;
      recordStat(desc, statOf(desc, started, cpu, false, config, ran));
      await deferred.runOwn();
      if (subtreeDone) break;

      // Chaining (Toil's nextChainable): run the single next successor here if it fits.
      const next = await nextChainable(
        desc,
        async (id) => ((await store.jobExists(id)) ? await store.loadJob(id) : undefined),
        { disableChaining: config.disableChaining, runLocalJobsOnWorkers: config.runLocalJobsOnWorkers, defaults: config },
      );
      if (!next || processUnfitReason() !== undefined) break;
      next.assignConfig(config);
      const successorId = next.id;
      capture.line(`Chaining from ${desc} to ${next}`);
      next.replace(desc);
      // The successor now lives under this job's id: commit that and drop its old description, in
      // one group (synced with the rest of the chain).
      await store.batch(async () => {
        await store.updateJob(next);
        await store.deleteJob(successorId);
      }, { sync: false });
      desc = next;
      current = desc;
    }
  } catch (err) {
    failed = true;
    const text = failureText(err, config);
    capture.line(`Job ${current ? current.toString() : jobId} failed:\n${text}`);
    if (cannotSucceedOnRetry(err)) {
      noRetry = true;
      capture.line(retryRefusal(err));
    }
    // The file store's open() already put the files the job accessed in its leader log messages.
    if (lastFileStore) logsToLeader.push(...lastFileStore.logMessages);
    if (current) {
      const stat = statOf(current, currentStart, currentCpu, true, config);
      stats.push(stat);
    }
    process.stderr.write(""); // keep ordering of captured output
  } finally {
    if (badTimer) clearTimeout(badTimer);
    for (const [k, v] of Object.entries(savedEnv)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }

  let code: number = WORKER_EXIT.OK;
  try {
    if (failed) {
      code = WORKER_EXIT.JOB_FAILED;
      await deferred.runOwn();
      capture.close();
      // Reload what is committed (local changes are discarded) and attach the log for the leader.
      if (await store.jobExists(current?.id ?? jobId)) {
        const desc = await store.loadJob(current?.id ?? jobId);
        const tail = capture.text();
        const logId = await store.writeFileStream((s) => void s.write(tail), {
          jobId: desc.id,
          cleanup: true,
          basename: "worker_log.txt",
        });
        desc.logFileId = logId;
        if (noRetry) {
          // The leader charges one try for this failure: leave exactly that one.
          desc.assignConfig(config);
          desc.remainingTryCount = Math.min(desc.remainingTryCount, 1);
        }
        await store.updateJob(desc);
      }
    } else {
      capture.close();
    }
    const message: Record<string, unknown> = { jobId, jobName: chainNames[0] ?? jobId, logsToLeader, succeeded: !failed };
    if (config.stats) {
      const last = stats[stats.length - 1];
      if (failed && last) last.logTail = capture.text().slice(-64 * 1024);
      message.stats = { host: os.hostname(), pid: process.pid, jobs: stats };
    }
    const allLogs = config.writeLogsFromAllJobs || config.logLevel === "debug" || config.logLevel === "trace";
    if (!failed && allLogs && (config.writeLogs || config.writeLogsGzip)) {
      message.workerLog = { jobNames: chainNames, text: capture.text() };
    }
    if (logsToLeader.length > 0 || config.stats || message.workerLog !== undefined) {
      await store.writeLogs(JSON.stringify(message));
    }
  } catch (err) {
    process.stderr.write(`toil-worker: could not report the result of job ${jobId}: ${(err as Error).stack ?? String(err)}\n`);
    code = WORKER_EXIT.JOB_FAILED;
  } finally {
    const clean = config.cleanWorkDir;
    if (tempDir && (clean === "always" || (clean === "onSuccess" && !failed) || (clean === "onError" && failed))) {
      rmSync(tempDir, { recursive: true, force: true });
    }
    capture.close();
    returnDeferred(coordinationDir, deferredSlot);
  }
  if (failed && io.inProcess) process.stderr.write(capture.text().slice(-64 * 1024));
  // Only durability is left: a warm host may start its next job meanwhile (see WorkerIO.release).
  io.release?.();
  try {
    // One sync for everything this run committed (every link of its chain, its report): the job
    // is committed, and the worker says so, only now. Syncs of jobs that end while one is running
    // are shared.
    await store.sync();
  } catch (err) {
    process.stderr.write(`toil-worker: could not make the commit of job ${jobId} durable: ${(err as Error).stack ?? String(err)}\n`);
    code = WORKER_EXIT.JOB_FAILED;
  }
  return code;
}

/** A job's failure as its log shows it: the error and the user's frames of its stack (all of them at debug level). */
/**
 * Why a job that failed with `err` (one {@link cannotSucceedOnRetry} names) is not retried, and what
 * fixes it. Decided by code, so errors of another copy of the packages get the same line.
 */
function retryRefusal(err: unknown): string {
  const code = isToilError(err) ? err.code : undefined;
  if (code === PermanentJobFailureError.code) {
    return "The job failed for good (a retry cannot help), so it is not retried: fix the cause, then run again with --restart.";
  }
  if (code === DamagedJobStoreFileError.code || code === DamagedJobError.code) {
    return "The job read damaged data from the job store, so it is not retried: restore the file named above, then run again with --restart.";
  }
  return "Retrying cannot fix this error in the workflow's code, so the job is not retried: fix the code, then run again with --restart.";
}

function failureText(err: unknown, config: Config): string {
  if (err instanceof UnhandledJobError) return err.message;
  if (config.logLevel === "debug" || config.logLevel === "trace") return err instanceof Error ? (err.stack ?? err.message) : String(err);
  return userStack(err);
}

/**
 * The scope of one job's run (see job-faults.ts). An error its code leaves unhandled after it ended
 * goes to the leader's log under its name, through the mailbox.
 */
function jobScope(store: JobStore, desc: JobDescription): JobScope {
  const jobId = desc.originalId;
  const jobName = desc.displayName;
  return {
    label: `'${jobName}' ${jobId}`,
    ended: false,
    fail: () => undefined,
    reportLate(err) {
      const text =
        `Job '${jobName}' ${jobId} had already finished (its results are kept) when its code raised an ${err.kind}:\n${userStack(err.error)}\n` +
        "The worker process it ran in is replaced. Make the job await or catch every promise it starts, and clear its timers.";
      const message = { jobId, jobName, logsToLeader: [{ text, level: "error", jobId, jobName }], succeeded: true };
      void store.writeLogs(JSON.stringify(message)).catch((e: unknown) => {
        process.stderr.write(`toil-worker: could not report an error of job ${jobId} to the leader: ${String(e)}\n${text}\n`);
      });
    },
  };
}

function statOf(
  desc: JobDescription,
  started: number,
  cpu: NodeJS.CpuUsage,
  failed: boolean,
  config: Config,
  ran?: { end: number; cpu: NodeJS.CpuUsage },
): JobStat {
  const used = ran?.cpu ?? process.cpuUsage(cpu);
  let requested = { cores: 0, memory: 0, disk: 0 };
  try {
    const r = desc.resolvedRequirements(config);
    requested = { cores: r.cores, memory: r.memory, disk: r.disk };
  } catch {
    // requirements unknown
  }
  return {
    jobId: desc.originalId,
    jobName: desc.displayName,
    kind: desc.jobName,
    start: started,
    end: ran?.end ?? Date.now(),
    cpu: (used.user + used.system) / 1e6,
    // Reading the resident set size costs a /proc read: only runs that keep stats (--stats) report it.
    memory: config.stats ? process.memoryUsage.rss() : 0,
    requested,
    failed,
  };
}

export { JobStoreError } from "@toil/filestore";
