/**
 * The state of one `runWorker` call, shared by its parts (running the chain, committing, reporting):
 * the job store and configuration, the process set up for the workflow (environment, output
 * capture, fault injection), the file stores of its jobs, and what it learnt for the leader.
 */
import { mkdirSync, mkdtempSync } from "node:fs";
import path from "node:path";
import { createFileStore, type AbstractFileStore, type DeferredFunctionManager, type JobStore, type LeaderLogLine } from "@toil/filestore";
import { workerCoordinationDir, workerWorkflowDir, type Config, type JobDescription } from "@toil/job/core";
import { takeDeferred, type DeferredSlot } from "./deferred-functions.js";
import { cpuOveruseWarning, type JobStat } from "./job-stats.js";
import { OutputCapture } from "./output-capture.js";
import type { WorkerIO } from "./worker-io.js";

/** One `runWorker` call: its job, its process set-up, and what it records as the chain runs. */
export interface WorkerRun {
  readonly store: JobStore;
  readonly config: Config;
  /** The job the worker was started for (the first link of the chain). */
  readonly jobId: string;
  readonly io: WorkerIO;
  readonly capture: OutputCapture;
  readonly coordinationDir: string;
  readonly deferredSlot: DeferredSlot;
  readonly deferred: DeferredFunctionManager;
  readonly logsToLeader: LeaderLogLine[];
  readonly stats: JobStat[];
  /** Display names of the jobs run, in order. */
  readonly chainNames: string[];
  failed: boolean;
  /** The job failed in a way no retry can fix: it gets no further tries. */
  noRetry: boolean;
  /** The job being run (its committed description carries the failure log when it fails). */
  current: JobDescription | undefined;
  currentStart: number;
  currentCpu: NodeJS.CpuUsage;
  lastFileStore: AbstractFileStore | undefined;
  /** The worker's temporary directory, once a job asked for local space. */
  tempDir: string | undefined;
  /** A file store for the next job of the chain (its temp dir is made only if it needs local space). */
  newFileStore(desc: JobDescription): AbstractFileStore;
  /** Keep a job's stats record, and warn the leader if it used more CPU than it asked for. */
  recordStat(ran: JobDescription, stat: JobStat): void;
  /** Give the process back its environment and disarm fault injection (the chain has ended). */
  restoreProcess(): void;
}

/** Set the process up for a run of `jobId` of the workflow in `store`. */
export function startRun(store: JobStore, jobId: string, io: WorkerIO): WorkerRun {
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
  const capture = new OutputCapture(config.maxLogFileSize, !io.inProcess && !config.disableWorkerOutputCapture, io.inProcess === true);
  const coordinationDir = workerCoordinationDir(config, io.env, workflowDir);
  const deferredSlot = takeDeferred(coordinationDir, (message) => capture.line(message));
  const deferred = deferredSlot.manager;
  // Each job gets its own subdirectory of the worker's temp dir, made only if it needs local space.
  let jobCount = 0;
  const run: WorkerRun = {
    store,
    config,
    jobId,
    io,
    capture,
    coordinationDir,
    deferredSlot,
    deferred,
    logsToLeader: [],
    stats: [],
    chainNames: [],
    failed: false,
    noRetry: false,
    current: undefined,
    currentStart: Date.now(),
    currentCpu: process.cpuUsage(),
    lastFileStore: undefined,
    tempDir: undefined,
    newFileStore(d: JobDescription): AbstractFileStore {
      const n = jobCount++;
      return createFileStore(store, d, () => path.join(tempDirOf(), `job-${n}`), {
        caching: config.caching, // undefined: the job store's default (FileJobStore: no caching)
        cache: { cacheDir: path.join(workflowDir, `cache-${config.workflowId ?? "unknown"}`), coordinationDir },
        deferredFunctionManager: deferred,
      });
    },
    recordStat(ran: JobDescription, stat: JobStat): void {
      run.stats.push(stat);
      const warning = cpuOveruseWarning(ran, stat);
      if (warning) run.logsToLeader.push(warning);
    },
    restoreProcess(): void {
      if (badTimer) clearTimeout(badTimer);
      for (const [k, v] of Object.entries(savedEnv)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    },
  };
  // The job's temporary directory is made only if the job asks for local files.
  const tempDirOf = (): string => {
    if (!run.tempDir) {
      mkdirSync(workflowDir, { recursive: true });
      run.tempDir = mkdtempSync(path.join(workflowDir, "worker-"));
    }
    return run.tempDir;
  };
  return run;
}
