/**
 * The `Toil` context: open a job store, start or restart the workflow in it, run its leader, close.
 * (Over 600 lines: one class whose steps share its store, lock, log and signal state; the leader
 * loop, worker clean-up and batch-system registry are modules of their own.)
 */
import { mkdirSync, realpathSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { getBatchSystem, type BatchSystem, type BatchSystemConfig } from "@toil/batch-core";
import { MessageBus } from "@toil/bus";
import {
  JobStoreExistsError,
  FileJobStore,
  NoSuchJobStoreError,
  openJobStore,
  writeLogFiles,
  type JobStore,
  type LeaderLock,
} from "@toil/filestore";
import {
  ConfigError,
  configFromJSON,
  configToJSON,
  defaultConfig,
  prepareRestart,
  prepareStart,
  registerModule,
  registeredModuleUrls,
  TRUSTED_MODULE_ROOTS_ENV,
  trustedModuleRootsFor,
  type Config,
  type ConfigInput,
  type FileID,
  type JobDescription,
} from "@toil/job";
import { BUNDLED_BATCH_SYSTEMS, bundledOptionSpecs, optionSpecsForArgv } from "./batch-systems.js";
import { batchSystemFromArgv } from "./cli/argv-scan.js";
import { registerBundledBatchSystems } from "./batch-registry.js";
import { parseToilArgs } from "./cli/parse-args.js";
import { FailedJobsError, JobStoreStateError, ToilContextError, WorkflowInterruptedError, WorkflowKilledError } from "./leader/errors.js";
import { Leader, type LeaderCounts } from "./leader/leader.js";
import { leaderStoreOf } from "./leader/store-adapter.js";
import { runDeadWorkersDeferredFunctions } from "./leader/worker-cleanup.js";
import { createLeaderLogger, defaultLogFile, type Logger } from "./log.js";
import { Progress } from "./progress.js";
import { runSummary } from "./summary.js";
import { workerArgv } from "./worker-command.js";
import { rootJobReturnValue, saveRootJob, type RootJob } from "./jobs.js";
import { DebugWorkerBatchSystem } from "./debug-worker.js";
import { OUTCOME_MARKERS } from "./ops/outcome.js";

/** What `new Toil(...)` accepts: a full config (from `Toil.parseArgs`) or any subset of options. */
export type ToilOptions = (Config | ConfigInput) & {
  /** Option names set explicitly by the user (a restart overlays exactly these on the stored config). */
  explicitOptions?: Iterable<string>;
};

/** What `Toil.parseArgs` returns: the configuration, which options were given, and the script's arguments. */
export type ParsedToilArgs = Config & {
  /** Options set explicitly (flag, environment or config file); a restart applies exactly these. */
  explicitOptions: string[];
  /** The arguments after the options (and after `--`), for the script. */
  args: string[];
};

function parsedArgs(argv: readonly string[], env: NodeJS.ProcessEnv, specs: Parameters<typeof parseToilArgs>[2]): ParsedToilArgs {
  const { config, explicit, args } = parseToilArgs(argv, env, specs);
  return { ...config, explicitOptions: [...explicit.keys()], args };
}

/** Marks a process in which a toil worker is importing user code (set by the worker). */
const IN_WORKER = Symbol.for("toil.inWorker");

function insideWorker(): boolean {
  return (globalThis as Record<symbol, unknown>)[IN_WORKER] === true;
}

/**
 * A workflow run: the job store, its configuration, the batch system and the leader, as a scope.
 *
 * ```ts
 * import * as self from "./my-script.js";
 * if (Toil.isMain(import.meta.url, self)) {
 *   const options = Toil.parseArgs(process.argv.slice(2));
 *   await using toil = await Toil.open(options);
 *   const result = options.restart ? await toil.restart() : await toil.start(new HelloJob("world"));
 * }
 * ```
 *
 * `open()` creates the job store (or resumes it with `--restart`); `start`/`restart` run the
 * workflow and return the root job's return value; closing (`await using`, or `await toil.close()`)
 * cleans up per `--clean`.
 */
export class Toil implements AsyncDisposable {
  /** The configuration in effect (after `open()`, the one stored in the job store). */
  config: Config;
  private readonly explicit: Set<string>;
  private store: JobStore | undefined;
  private lock: LeaderLock | undefined;
  private state: "new" | "open" | "closed" = "new";
  private outcome: "none" | "success" | "error" = "none";
  private restartCalled = false;
  private createdStore = false;
  private logger: Logger | undefined;
  private logPath: string | undefined;
  private closeLog: (() => Promise<void>) | undefined;
  /** Counts of the last run (for reporting). */
  lastCounts: LeaderCounts | undefined;
  #ranJobs = false;

  /**
   * Whether this Toil's leader issued any job. When `start()` fails before it did (the batch system
   * could not be created, or refused the root job), nothing ran and the new job store is deleted.
   */
  get ranJobs(): boolean {
    return this.#ranJobs;
  }

  #resumed = false;
  /**
   * Whether `restart()` found a workflow to resume and began to (it may since have cleaned the
   * store): an error before that left the store as it was.
   */
  get resumed(): boolean {
    return this.#resumed;
  }

  /** A SIGTERM or SIGINT received while a run was being prepared, before its leader could stop. */
  #earlySignal: NodeJS.Signals | undefined;

  /**
   * Hold SIGTERM and SIGINT from the start of a run until its leader takes them (see
   * runLeaderHeld): a signal in between (a restart reading the store, say) would otherwise end the
   * process at once, without the stopped run's exit status or outcome marker. Returns the release.
   */
  #holdSignals(): () => void {
    const hold = (signal: NodeJS.Signals) => {
      this.#earlySignal ??= signal;
    };
    process.on("SIGTERM", hold);
    process.on("SIGINT", hold);
    return () => {
      process.off("SIGTERM", hold);
      process.off("SIGINT", hold);
    };
  }

  constructor(options: ToilOptions) {
    if (insideWorker()) {
      throw new ToilContextError(
        "A workflow was started while a toil worker was importing this module to find a job's code. " +
          "Guard the script's main part so it only runs when the file is executed directly:\n" +
          "  if (Toil.isMain(import.meta.url, self)) { /* parse args, open Toil, start */ }\n" +
          "(with `import * as self from \"./<this script>.js\"` at the top).",
      );
    }
    const { explicitOptions, args: _args, ...rest } = options as ToilOptions & Record<string, unknown>;
    this.config = defaultConfig(rest as ConfigInput);
    this.explicit = new Set(explicitOptions ?? Object.keys(rest));
    if (!this.config.jobStore) {
      throw new ToilContextError("No job store given: pass jobStore (e.g. `--jobStore ./js`, or `{ jobStore: \"./js\" }`).");
    }
  }

  /** Create a Toil and open it (the usual way: `await using toil = await Toil.open(options)`). */
  static async open(options: ToilOptions): Promise<Toil> {
    return new Toil(options).open();
  }

  /**
   * Parse toil options from command-line arguments (without the node and script path), with
   * environment variables and `--config FILE`. A positional argument is taken as the job store.
   * Every flag `toil run` accepts is accepted, the bundled batch systems' included; for the flags of
   * a batch-system plugin named with `--batchSystem`, use {@link Toil.parseArgsAsync}.
   */
  static parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ParsedToilArgs {
    try {
      return parsedArgs(argv, env, bundledOptionSpecs());
    } catch (err) {
      const named = batchSystemFromArgv(argv);
      if (err instanceof ConfigError && named && !(BUNDLED_BATCH_SYSTEMS as readonly string[]).includes(named)) {
        throw new ConfigError(
          `${err.message} (the options of the batch system plugin "${named}" are only known once it is loaded: ` +
            "parse with `await Toil.parseArgsAsync(argv)`)",
          err.issues,
        );
      }
      throw err;
    }
  }

  /**
   * Like {@link Toil.parseArgs}, and also loads a batch-system plugin named with `--batchSystem` to
   * accept its flags, as `toil run` does.
   */
  static async parseArgsAsync(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<ParsedToilArgs> {
    return parsedArgs(argv, env, await optionSpecsForArgv(argv));
  }

  /**
   * True when the module with this `import.meta.url` is the script node was started with, false
   * when it was imported (for example by a toil worker looking for a job's code). Use it to guard a
   * script's main part: `if (Toil.isMain(import.meta.url, self)) { ... }`, where `self` is the
   * script's own namespace (`import * as self from "./this-script.js"`): passing it registers the
   * script's jobs so workers can find them again.
   */
  static isMain(moduleUrl: string, namespace?: object): boolean {
    // Register the script's exports, so jobs it defines can be stored and found again by workers.
    if (namespace) registerModule(moduleUrl, namespace);
    if (insideWorker()) return false;
    const entry = process.argv[1];
    if (!entry) return false;
    let modulePath: string;
    try {
      modulePath = realpathSync(fileURLToPath(moduleUrl));
    } catch {
      return false;
    }
    for (const candidate of [entry, `${entry}.ts`, `${entry}.js`, `${entry}.mjs`, `${entry}.mts`]) {
      try {
        if (realpathSync(path.resolve(candidate)) === modulePath) return true;
      } catch {
        // try the next spelling
      }
    }
    return false;
  }

  /** The job store (after `open()`). */
  get jobStore(): JobStore {
    if (!this.store) throw new ToilContextError("The Toil object is not open: call `await toil.open()` (or use `await Toil.open(options)`).");
    return this.store;
  }

  /** The leader's logger (after `open()`). */
  get log(): Logger {
    if (!this.logger) throw new ToilContextError("The Toil object is not open.");
    return this.logger;
  }

  /**
   * The text log of this run (after `open()`): `--logFile`, or `<job store>.log` next to the job
   * store, so it outlives a store deleted by `--clean`. A restart appends to it.
   */
  get logFile(): string {
    if (!this.logPath) throw new ToilContextError("The Toil object is not open.");
    return this.logPath;
  }

  /** Enter the scope: create the job store, or resume it when `restart` is set. */
  async open(): Promise<this> {
    if (this.state !== "new") throw new ToilContextError(`This Toil object is already ${this.state}; create a new one.`);
    this.logPath = path.resolve(this.config.logFile ?? defaultLogFile(this.config.jobStore));
    const { logger, close } = createLeaderLogger({ level: this.config.logLevel, logFile: this.logPath, logJson: this.config.logJson });
    this.logger = logger;
    this.closeLog = close;
    const store = openJobStore(this.config.jobStore);
    if (this.config.restart) {
      try {
        await store.resume();
      } catch (err) {
        if (err instanceof NoSuchJobStoreError) {
          throw new JobStoreStateError(
            `There is no workflow to restart in job store ${this.config.jobStore}: it does not exist. ` +
              `Run without --restart to start a new workflow there.`,
            { cause: err },
          );
        }
        throw err;
      }
      this.lock = await store.acquireLeaderLock();
      const overrides: Record<string, unknown> = {};
      for (const key of this.explicit) {
        if (key in this.config) overrides[key] = (this.config as Record<string, unknown>)[key];
      }
      this.config = prepareRestart(configFromJSON(configToJSON(store.config)), overrides as Partial<Config>);
      await store.writeConfig(this.config);
    } else {
      const config = prepareStart(this.config);
      try {
        await store.initialize(config);
      } catch (err) {
        if (err instanceof JobStoreExistsError) {
          throw new JobStoreStateError(
            `Job store ${this.config.jobStore} already holds a workflow. Use --restart to resume it, ` +
              `or delete it with \`toil clean ${this.config.jobStore}\` to start afresh.`,
            { cause: err },
          );
        }
        throw err;
      }
      this.createdStore = true;
      this.config = config;
      this.lock = await store.acquireLeaderLock();
    }
    await store.writeLeaderPid();
    this.store = store;
    this.state = "open";
    return this;
  }

  private assertOpen(what: string): JobStore {
    if (this.state !== "open" || !this.store) {
      throw new ToilContextError(
        `Toil.${what}() must be called inside an open Toil scope: \`await using toil = await Toil.open(options)\` ` +
          `(or \`await toil.open()\` first and \`await toil.close()\` at the end)${this.state === "closed" ? "; this one is already closed" : ""}.`,
      );
    }
    return this.store;
  }

  /** Start a new workflow with `rootJob` as its root; resolves to the root job's return value. */
  async start<T = unknown>(rootJob: RootJob): Promise<T> {
    const store = this.assertOpen("start");
    if (this.config.restart) {
      throw new ToilContextError("This Toil was opened with restart set: call restart(), not start().");
    }
    if (await store.rootJobId()) {
      throw new ToilContextError("start() was already called for this workflow; use restart() to resume it.");
    }
    let rootId: string;
    try {
      rootId = await saveRootJob(rootJob, store, this.config);
    } catch (err) {
      // Nothing ran and nothing of value was stored: leave no half-made store behind.
      if (this.createdStore) {
        await store.destroy().catch(() => undefined);
        this.store = undefined;
        this.state = "closed";
        await this.lock?.release().catch(() => undefined);
      }
      throw err;
    }
    try {
      return (await this.runLeader(store, rootId)) as T;
    } catch (err) {
      // Nothing ran (the root job was refused, or no batch system could be made): the store holds
      // only what start() wrote, so leave none, as for any other mistake found before running.
      // A run stopped (signal, toil kill) before its first job keeps its store for --restart.
      const stopped = err instanceof WorkflowInterruptedError || err instanceof WorkflowKilledError;
      if (this.createdStore && !this.#ranJobs && !stopped) {
        await this.lock?.release().catch(() => undefined);
        await store.destroy().catch(() => undefined);
        this.store = undefined; // close() then only closes the log
      }
      throw err;
    }
  }

  /** Resume the workflow in the job store; resolves to the root job's return value. */
  async restart<T = unknown>(): Promise<T> {
    const store = this.assertOpen("restart");
    if (!this.config.restart) throw new ToilContextError("restart() needs the Toil to be opened with restart set (--restart).");
    this.restartCalled = true;
    const release = this.#holdSignals();
    try {
      return await this.resume<T>(store);
    } finally {
      release();
    }
  }

  private async resume<T>(store: JobStore): Promise<T> {
    if ((await store.rootJobId()) === undefined) {
      throw new JobStoreStateError(
        `The workflow in ${this.config.jobStore} never started: it was interrupted before its root job was saved. ` +
          `Delete it with \`toil clean ${this.config.jobStore}\` and run without --restart.`,
      );
    }
    this.#resumed = true;
    // Every description is read once: clean() works on them, and the leader takes the reachable ones
    // from here instead of reading each again before it can issue anything.
    const jobCache = new Map<string, JobDescription>();
    for await (const job of store.jobs()) jobCache.set(job.id, job);
    const root = await store.clean(jobCache);
    if (!root) {
      this.log.warn("The workflow in this job store has already finished; returning its stored result.");
      this.outcome = "success";
      return (await rootJobReturnValue(store)) as T;
    }
    return (await this.runLeader(store, root.id, true, jobCache)) as T;
  }

  /** Import a file (URL or path) into the job store. */
  async importFile(srcUrl: string, options: { sharedFileName?: string; symlink?: boolean } = {}): Promise<FileID> {
    const store = this.assertOpen("importFile");
    const url = normalizeUri(srcUrl);
    const id = await store.importFile(url, { symlink: options.symlink ?? true, ...(options.sharedFileName ? { sharedFileName: options.sharedFileName } : {}) });
    return id as FileID;
  }

  /** Export a job-store file to a URL or path. */
  async exportFile(fileId: FileID | string, dstUrl: string): Promise<void> {
    const store = this.assertOpen("exportFile");
    await store.exportFile(fileId, normalizeUri(dstUrl));
  }

  private async runLeader(store: JobStore, rootId: string, restart = false, jobCache?: Map<string, JobDescription>): Promise<unknown> {
    registerBundledBatchSystems();
    // Hold the event loop open until the leader is done. A batch system may wait only on unref'd
    // timers (Slurm's polling while it cancels jobs after `toil kill`); with nothing else pending,
    // Node would then leave in the middle of the run with exit code 0, as if it had succeeded.
    const keepAlive = setInterval(() => undefined, 1 << 30);
    try {
      return await this.runLeaderHeld(store, rootId, restart, jobCache);
    } finally {
      clearInterval(keepAlive);
    }
  }

  private async runLeaderHeld(store: JobStore, rootId: string, restart: boolean, jobCache?: Map<string, JobDescription>): Promise<unknown> {
    const config = this.config;
    const log = this.log;
    const bus = new MessageBus();
    const firstIssue = bus.subscribe("JobIssued", () => {
      this.#ranJobs = true;
      firstIssue.dispose();
    });
    let busFile: Disposable | undefined;
    if (config.writeMessages) {
      mkdirSync(path.dirname(config.writeMessages), { recursive: true, mode: 0o700 });
      busFile = bus.connectOutputFile(config.writeMessages);
    }
    const bs = await this.createBatchSystem(config, log);
    if (restart) await killLeftoverWorkers(bs, log);
    bs.setMessageBus(bus.outbox());
    for (const [name, value] of Object.entries(config.environment)) bs.setEnv(name, value);
    // Workers import job code only from the directories of the modules this leader loaded (see SECURITY.md).
    if (config.environment[TRUSTED_MODULE_ROOTS_ENV] === undefined && process.env[TRUSTED_MODULE_ROOTS_ENV] === undefined) {
      const roots = trustedModuleRootsFor(registeredModuleUrls());
      const storeDir = (store as { root?: unknown }).root;
      if (typeof storeDir === "string") roots.push(`!${path.resolve(storeDir)}`);
      if (roots.length > 0 && !roots[0]!.startsWith("!")) bs.setEnv(TRUSTED_MODULE_ROOTS_ENV, JSON.stringify(roots));
    }
    const progress = new Progress({ enabled: !config.disableProgress });
    const leader = new Leader({
      config,
      store: leaderStoreOf(store),
      batchSystem: bs,
      bus,
      logger: log,
      rootJobId: rootId,
      restart,
      ...(jobCache ? { preloaded: jobCache } : {}),
      workerArgv: (jobId) => workerArgv(store.locator, jobId),
      onProgress: (c) => progress.update(c),
      onJobLog: (jobName, jobId, text, failed) => {
        const dir = config.writeLogs ?? config.writeLogsGzip;
        if (!dir) return;
        try {
          writeLogFiles(dir, [jobName], [text], { failed, gzip: config.writeLogsGzip !== undefined && !config.writeLogs });
        } catch (err) {
          log.warn({ err }, `Could not write the log of job ${jobId} to ${dir}`);
        }
      },
    });
    log.info(`Running workflow ${config.workflowId} (attempt ${config.workflowAttemptNumber}) with the ${config.batchSystem} batch system`);
    await store.writeKillFlag(false);
    const onSignal = (signal: NodeJS.Signals) => {
      log.warn(`Received ${signal}: stopping the workflow's jobs (run again with --restart to resume)`);
      leader.requestStop(`received ${signal}`, signal);
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
    if (this.#earlySignal) onSignal(this.#earlySignal);
    progress.start();
    const started = Date.now();
    // Until the run ends one way or another, the workflow counts as stopped (a leader killed with
    // SIGKILL writes nothing more): `toil status` shows the latest outcome marker.
    await store.writeSharedFile(OUTCOME_MARKERS.stopped, String(started)).catch(() => undefined);
    let outcome: keyof typeof OUTCOME_MARKERS = "stopped";
    let ending: unknown;
    try {
      await leader.run();
      outcome = "succeeded";
    } catch (err) {
      // FAILED only when jobs failed for good; a kill, a signal or a deadlock leaves it restartable.
      if (err instanceof FailedJobsError) outcome = "failed";
      ending = err;
      await leader.killAll().catch(() => undefined);
      throw err;
    } finally {
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
      progress.stop();
      const ended =
        outcome === "succeeded"
          ? "completed"
          : ending instanceof WorkflowInterruptedError || ending instanceof WorkflowKilledError
            ? "stopped"
            : "failed";
      const summary = runSummary(ended, leader.counts(), (Date.now() - started) / 1000, this.logPath);
      if (ended === "completed") log.info({ summary: summary.figures }, summary.text);
      else log.warn({ summary: summary.figures }, summary.text);
      this.lastCounts = leader.counts();
      // Every worker has ended (or was killed): what dead ones deferred runs now, at the latest.
      await runDeadWorkersDeferredFunctions(config, bs, log);
      await shutdownWithin(bs, 2_000, log);
      if (restart && store instanceof FileJobStore && this.foldsAtEnd(ended)) {
        await store.fold().then(
          (r) => log.debug(r, "Folded the commit logs of earlier runs into the job store's files"),
          (err: unknown) => log.warn({ err }, "Could not fold the commit logs of earlier runs (they stay and are read as they are)"),
        );
      }
      bus.check();
      busFile?.[Symbol.dispose]();
      bus[Symbol.dispose]();
      await store.writeSharedFile(OUTCOME_MARKERS[outcome], String(Date.now())).catch(() => undefined);
      this.outcome = outcome === "succeeded" ? "success" : "error";
    }
    return rootJobReturnValue(store);
  }

  /**
   * Whether a restarted run folds the earlier runs' commit logs into the store's files as it ends:
   * not when `--clean` is about to delete the store, and not after a stop (a signal, `toil kill`),
   * which should end promptly; the next run that ends otherwise folds them. Folding at the end
   * rather than during the run keeps the fold off the leader's thread while it issues jobs, and
   * most of what the killed run left live (the jobs this run then finished) is deleted by then,
   * so it needs no file.
   */
  private foldsAtEnd(ended: "completed" | "stopped" | "failed"): boolean {
    if (ended === "stopped") return false;
    const policy = this.config.stats ? "never" : this.config.clean;
    if (policy === "always") return false;
    if (policy === "onSuccess" && ended === "completed") return false;
    if (policy === "onError" && ended === "failed") return false;
    return true;
  }

  private async createBatchSystem(config: Config, log: Logger): Promise<BatchSystem> {
    const bsConfig: BatchSystemConfig = config;
    const maxCores = config.maxCores ?? Infinity;
    const maxMemory = config.maxMemory ?? Infinity;
    const maxDisk = config.maxDisk ?? Infinity;
    if (config.debugWorker) {
      log.info("--debugWorker: jobs run one at a time inside the leader process");
      return new DebugWorkerBatchSystem(maxCores, maxMemory, maxDisk, {
        ...(config.workDir ? { workDir: config.workDir } : {}),
        ...(config.coordinationDir ? { coordinationDir: config.coordinationDir } : {}),
        workflowId: config.workflowId ?? "unknown",
        cleanWorkDir: config.cleanWorkDir,
      });
    }
    const cls = await getBatchSystem(config.batchSystem);
    // Batch systems that accept a logger (the bundled ones) log through the leader's logger.
    const logger = (level: string, message: string) => {
      if (level === "error") log.error(message);
      else if (level === "warn" || level === "warning") log.warn(message);
      else if (level === "debug") log.debug(message);
      else log.info(message);
    };
    // Jobs' own output reaches the terminal through the leader (above the live progress bar; never
    // into a pipe the user closed) instead of through inherited file descriptors.
    const output = (stream: "stdout" | "stderr", chunk: Buffer) => void (stream === "stdout" ? process.stdout : process.stderr).write(chunk);
    const Ctor = cls as unknown as new (...args: unknown[]) => BatchSystem;
    return new Ctor(bsConfig, maxCores, maxMemory, maxDisk, { logger, output });
  }

  /**
   * Leave the scope: delete the job store per `--clean` (always, onError, onSuccess, never).
   * Pass the error that ended your scope, if any, so `onSuccess`/`onError` see it.
   */
  async close(error?: unknown): Promise<void> {
    if (this.state === "closed") return;
    const wasOpen = this.state === "open";
    this.state = "closed";
    const failed = error !== undefined || this.outcome === "error";
    const store = this.store;
    try {
      // The leader's own changes (deletions are not synced one by one) are made durable first.
      if (wasOpen) await store?.close().catch(() => undefined);
      await this.lock?.release().catch(() => undefined);
      if (!wasOpen || !store) return;
      const policy = this.config.stats ? "never" : this.config.clean;
      // A store opened for restart but never restarted is left alone.
      if (this.config.restart && !this.restartCalled) return;
      // Nothing ran yet (start never called): a fresh store with no root is removed on success paths only when asked.
      const destroy =
        policy === "always" ||
        (policy === "onSuccess" && !failed && this.outcome === "success") ||
        (policy === "onError" && failed);
      if (destroy) {
        await store.destroy();
        this.logger?.debug(`Deleted job store ${store.locator} (--clean ${policy})`);
      }
    } finally {
      await this.closeLog?.();
    }
  }

  /** Same as `close()`, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * Before a restarted workflow issues anything: stop the workers an earlier leader of this workflow
 * left running (it was killed before it could stop them). They would otherwise run jobs the new
 * leader issues again, and commit results nobody waits for. Batch systems that can find such
 * workers (the single machine one marks every process it starts with the workflow id from the job
 * store's config) expose `killLeftoverWorkers()`.
 */
async function killLeftoverWorkers(bs: BatchSystem, log: Logger): Promise<void> {
  const reaper = (bs as BatchSystem & { killLeftoverWorkers?: () => Promise<number[]> }).killLeftoverWorkers;
  if (typeof reaper !== "function") return;
  const pids = await reaper.call(bs);
  if (pids.length > 0) {
    log.warn(`Stopped ${pids.length} process${pids.length === 1 ? "" : "es"} a previous leader of this workflow left running (pids ${pids.join(", ")})`);
  }
}

/** Shut a batch system down, but never wait longer than `ms` (a stuck shutdown must not hang the leader). */
async function shutdownWithin(bs: BatchSystem, ms: number, log: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), ms);
  });
  try {
    const r = await Promise.race([bs.shutdown().then(() => "done" as const), timeout]);
    if (r === "timeout") log.warn(`The batch system did not finish shutting down within ${ms / 1000} s; going on`);
  } catch (err) {
    log.warn({ err }, "Batch system shutdown failed");
  } finally {
    clearTimeout(timer);
  }
}

/** Plain paths become absolute `file://` URLs; URLs are kept. */
export function normalizeUri(uri: string): string {
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(uri)) return uri;
  if (uri.startsWith("file:")) return uri;
  const abs = path.resolve(uri.startsWith("~") ? path.join(os.homedir(), uri.slice(1)) : uri);
  return `file://${abs}`;
}

;
