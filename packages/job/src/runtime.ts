/**
 * The worker runtime: rebuild a job from its description, run it with a file store, and return what
 * the worker must commit. Plus the scheduling helpers the leader and the worker share (chaining).
 */
import { type JobDescription, JobDescription as JobDescriptionClass, type JobDescriptionConfig, newJobId } from "./description.js";
import { JobRebuildError, JobSerializationError, JobUsageError } from "./errors.js";
import type { DeferredFunctionRef, FileStore } from "./filestore.js";
import {
  FunctionWrappingJob,
  Job,
  JobFunctionWrappingJob,
  NoopJob,
  type SaveOptions,
  Service,
  ServiceHostJob,
  initJobState,
  initServiceState,
  isJob,
  jobState,
  saveJobGraph,
} from "./job.js";
import type { ModuleImporter } from "./registry.js";
import { resolveExport } from "./loader.js";
import type { RequirementDefaults, Requirements } from "./requirements.js";
import { NOT_DATA, type PromiseResolver, type SerializedValue, deserializeValue, serializeValue } from "./serialize.js";

/** Options for rebuilding and running jobs in a worker. */
export interface RuntimeOptions extends SaveOptions {
  /** Reads stored results of finished jobs, to resolve promises in job data. */
  resolver?: PromiseResolver;
  /** How to import user modules (default: `importModule`, the package's loader of user modules). */
  importModule?: ModuleImporter;
}

/** What running a job produced; the worker commits it (results first, then new jobs, then the updated job). */
export interface JobRunOutcome {
  /** Id to store the return value under (the job's original id; differs from `description.id` after chaining). */
  resultJobId: string;
  /** The serialized return value (store it with `writeResult(resultJobId, returnValue)`). */
  returnValue: SerializedValue;
  /** Jobs created by the run (children, follow-ons, services and their subtrees), with permanent ids. Create them in the job store. */
  newDescriptions: JobDescription[];
  /** The job that ran, updated: body detached (kept as checkpointBody for checkpoints), new successors wired. Update it in the job store. */
  description: JobDescription;
}

function markNotData(obj: object, what: string): void {
  Object.defineProperty(obj, NOT_DATA, { value: what, enumerable: false, configurable: true });
}

async function rebuildInstance(
  module: string,
  exportName: string,
  data: unknown,
  base: abstract new (...args: never[]) => object,
  what: string,
  options: RuntimeOptions,
): Promise<object> {
  const ctor = await resolveExport({ module, exportName }, options.importModule);
  if (typeof ctor !== "function" || !(ctor.prototype instanceof base)) {
    throw new JobRebuildError(`Export '${exportName}' of ${module} is not a ${what} class.`);
  }
  const fields = (await deserializeValue(data, options)) as Record<string, unknown>;
  return Object.assign(Object.create(ctor.prototype as object) as object, fields);
}

/**
 * Rebuild the job a description describes: import its module, rebuild its fields or arguments and
 * replace promises by their values (through `options.resolver`).
 */
export async function loadJob(description: JobDescription, options: RuntimeOptions = {}): Promise<Job> {
  const body = description.getBody();
  let job: Job;
  switch (body.kind) {
    case "class": {
      job = (await rebuildInstance(body.module, body.exportName, body.data, Job, "Job", options)) as Job;
      initJobState(job, description, { kind: "class" }, true);
      break;
    }
    case "function":
    case "jobFunction": {
      const fn = await resolveExport({ module: body.module, exportName: body.exportName }, options.importModule);
      if (typeof fn !== "function") throw new JobRebuildError(`Export '${body.exportName}' of ${body.module} is not a function.`);
      const args = (await deserializeValue(body.data, options)) as unknown[];
      const proto = body.kind === "function" ? FunctionWrappingJob.prototype : JobFunctionWrappingJob.prototype;
      job = Object.create(proto) as Job;
      initJobState(job, description, { kind: body.kind, fn: fn as (...a: never[]) => unknown, args }, true);
      break;
    }
    case "service": {
      const service = (await rebuildInstance(body.module, body.exportName, body.data, Service, "Service", options)) as Service;
      initServiceState(service, {});
      markNotData(service, `service '${service.constructor.name}'`);
      job = Object.create(ServiceHostJob.prototype) as Job;
      Object.defineProperty(job, "service", { value: service, enumerable: false });
      initJobState(job, description, { kind: "service", service }, true);
      break;
    }
    case "builtin": {
      if (body.exportName !== "noop") throw new JobRebuildError(`Unknown builtin job '${body.exportName}'.`);
      job = Object.create(NoopJob.prototype) as Job;
      initJobState(job, description, { kind: "builtin", name: "noop" }, true);
      break;
    }
    default:
      throw new JobRebuildError(`Job ${description} has a body of unknown kind ${JSON.stringify((body as { kind: unknown }).kind)}.`);
  }
  markNotData(job, `job '${description.displayName}'`);
  return job;
}

/**
 * Run a rebuilt job with a file store and collect what must be committed. For a checkpoint job the
 * body is kept as `checkpointBody` so it can rerun. New jobs get permanent ids from
 * `options.assignJobId` (default nanoid).
 */
export async function runJob(job: Job, fileStore: FileStore, options: RuntimeOptions = {}): Promise<JobRunOutcome> {
  const state = jobState(job);
  const description = state.description;
  if (description.isService) throw new JobUsageError(`Job ${description} hosts a service; run it with runServiceHost().`);
  if (description.checkpoint && description.hasBody()) description.setCheckpoint();
  state.fileStore = fileStore;
  let result: unknown;
  try {
    result = await job.run(fileStore);
  } finally {
    state.fileStore = undefined;
  }
  const { descriptions } = saveJobGraph(job, options);
  const returnValue = serializeValue(
    result,
    {
      what: `The return value of job '${description.displayName}'`,
      onPromise: (source) => {
        if (isJob(source) && !jobState(source).saved) {
          throw new JobSerializationError(
            `Job '${description.displayName}' returns a promise of job '${source.displayName}', which is not part of the workflow; add that job as a successor first.`,
          );
        }
      },
    },
    "result",
  );
  description.detachBody();
  return { resultJobId: description.originalId, returnValue, newDescriptions: descriptions, description };
}

/**
 * Evaluate the promised requirements of a job (its body has `promisedRequirements`) and hand its
 * place in the graph to a new job with the evaluated requirements: the new job gets the body and
 * all successors and services; this job (a small shell) gets it as its only child and returns a
 * promise of its result.
 */
async function runPromisedRequirements(description: JobDescription, options: RuntimeOptions): Promise<JobRunOutcome> {
  const body = description.getBody();
  const spec = body.promisedRequirements as {
    fixed: Partial<Requirements>;
    values: Record<string, { module?: string; exportName?: string; args: SerializedValue }>;
  };
  const evaluated: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(spec.values)) {
    const args = (await deserializeValue(v.args, options)) as unknown[];
    if (v.module !== undefined && v.exportName !== undefined) {
      const fn = await resolveExport({ module: v.module, exportName: v.exportName }, options.importModule);
      if (typeof fn !== "function") throw new JobRebuildError(`Export '${v.exportName}' of ${v.module} is not a function.`);
      evaluated[key] = await (fn as (...a: unknown[]) => unknown)(...args);
    } else {
      evaluated[key] = args[0];
    }
  }
  const real = new JobDescriptionClass({
    jobName: description.jobName,
    unitName: description.unitName,
    displayName: description.displayName,
    local: description.local,
    checkpoint: description.checkpoint,
  });
  real.setRequirements({ ...(spec.fixed as Record<string, never>) });
  real.setRequirements(evaluated as never);
  const { promisedRequirements: _dropped, ...realBody } = body;
  void _dropped;
  real.attachBody(realBody);
  const id = (options.assignJobId ?? (() => newJobId()))(real);
  real.id = id;
  real.adoptSuccessorsOf(description);
  description.addChild(id);
  real.addPredecessor();
  description.detachBody();
  return {
    resultJobId: description.originalId,
    returnValue: { $t: "p", j: real.originalId, p: [] },
    newDescriptions: [real],
    description,
  };
}

/** Load and run the job of a description (handles promised requirements and no-op jobs). */
export async function executeJob(description: JobDescription, fileStore: FileStore, options: RuntimeOptions = {}): Promise<JobRunOutcome> {
  if (description.getBody().promisedRequirements !== undefined) return runPromisedRequirements(description, options);
  const job = await loadJob(description, options);
  return runJob(job, fileStore, options);
}

/** How a service host talks to the leader (flag files in the job store, in Toil). */
export interface ServiceHostHooks {
  /** The service started: store `startValue` as the host job's result and signal the leader. */
  started(startValue: SerializedValue): Promise<void>;
  /** Called every poll: `"run"` keeps going; `"stop"` stops normally; `"error"` stops because the client's successors failed. */
  poll(): Promise<"run" | "stop" | "error">;
  /** Milliseconds between polls (default 1000; Toil's `--servicePollingInterval` is in seconds). */
  intervalMs?: number;
  /**
   * Calls `wake` when the leader may have asked the service to stop: the host polls at once
   * instead of at the end of its interval. Returns a function that stops watching.
   */
  watchStop?(wake: () => void): () => void;
}

/**
 * Run a service host job: start the service, report its start value, poll `check()` until told to
 * stop, then `stop()` it (always). Returns how it ended; throws if the service failed.
 */
export async function runServiceHost(
  description: JobDescription,
  fileStore: FileStore,
  hooks: ServiceHostHooks,
  options: RuntimeOptions = {},
): Promise<"stopped" | "errored"> {
  const job = await loadJob(description, options);
  if (!(job instanceof ServiceHostJob)) throw new JobUsageError(`Job ${description} is not a service host.`);
  const service = job.service;
  const state = jobState(job);
  state.fileStore = fileStore;
  const nap = new Nap();
  const unwatch = hooks.watchStop?.(() => nap.wake());
  try {
    const value = await service.start(job);
    await hooks.started(serializeValue(value, { what: `The start() value of service '${service.constructor.name}'` }, "start"));
    let finished = false;
    for (;;) {
      const command = await hooks.poll();
      if (command === "stop") return "stopped";
      if (command === "error") return "errored";
      if (!finished && (await service.check()) === false) finished = true;
      await nap.sleep(hooks.intervalMs ?? 1000);
    }
  } finally {
    unwatch?.();
    try {
      await service.stop(job);
    } finally {
      state.fileStore = undefined;
      description.detachBody();
    }
  }
}

/** A sleep that `wake()` ends early; a wake-up while awake ends the next sleep at once (none is lost). */
class Nap {
  private woken = false;
  private end: (() => void) | undefined;

  wake(): void {
    this.woken = true;
    this.end?.();
  }

  sleep(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.end = undefined;
        this.woken = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.end = done;
    });
  }
}

/** Run a deferred function registered with `job.defer()` (for the deferred-function manager). */
export async function runDeferredFunction(ref: DeferredFunctionRef, options: Pick<RuntimeOptions, "importModule"> = {}): Promise<void> {
  const fn = await resolveExport({ module: ref.module, exportName: ref.exportName }, options.importModule);
  if (typeof fn !== "function") throw new JobRebuildError(`Deferred function '${ref.exportName}' of ${ref.module} is not a function.`);
  const args = (await deserializeValue(ref.args, options)) as unknown[];
  await (fn as (...a: unknown[]) => unknown)(...args);
}

/** Read the value of a finished job's result (e.g. the root job's, at the end of a workflow). */
export async function readJobResult(jobId: string, resolver: PromiseResolver, options: Pick<RuntimeOptions, "importModule"> = {}): Promise<unknown> {
  return deserializeValue({ $t: "p", j: jobId, p: [] }, { resolver, ...options });
}

// ------------------------------------------------------------------ chaining (section 1.9)

/** Options that control chaining. */
export interface ChainingOptions {
  /** `--disableChaining`. */
  disableChaining?: boolean;
  /** `--runLocalJobsOnWorkers`. */
  runLocalJobsOnWorkers?: boolean;
  /** Requirement defaults for unset requirements (default: the descriptions' assigned configs). */
  defaults?: RequirementDefaults | JobDescriptionConfig;
}

/**
 * Why `successor` cannot be chained to after `current` ran (as the only job of its next phase), or
 * `undefined` if it can. Rules: successor has a body, at most one predecessor, no services, is not a
 * checkpoint; memory, cores and disk not above the current job's; same preemptibility; same
 * accelerators (or none); not from a local job to a non-local one unless local jobs run on workers.
 */
export function chainingBlocker(current: JobDescription, successor: JobDescription, options: ChainingOptions = {}): string | undefined {
  if (options.disableChaining) return "chaining is disabled";
  if (!successor.hasBody()) return "the successor has already run";
  if (successor.predecessorNumber > 1) return "the successor has several predecessors";
  if (successor.services.length > 0) return "the successor has services";
  if (successor.checkpoint) return "the successor is a checkpoint";
  if (successor.getBody().promisedRequirements !== undefined) return "the successor's requirements are promised";
  const a = current.resolvedRequirements(options.defaults);
  const b = successor.resolvedRequirements(options.defaults);
  if (b.memory > a.memory) return "the successor needs more memory";
  if (b.cores > a.cores) return "the successor needs more cores";
  if (b.disk > a.disk) return "the successor needs more disk";
  if (a.preemptible !== b.preemptible) return "the jobs differ in preemptibility";
  if (b.accelerators.length > 0 && JSON.stringify(a.accelerators) !== JSON.stringify(b.accelerators)) {
    return "the successor needs different accelerators";
  }
  if (current.local && !successor.local && !options.runLocalJobsOnWorkers) return "a local job cannot chain to a non-local one";
  return undefined;
}

/**
 * The successor the worker should run next in the same process after `current` ran, or undefined.
 * `current` must have its body detached (it ran). `load` fetches a description by id.
 */
export async function nextChainable(
  current: JobDescription,
  load: (id: string) => JobDescription | undefined | Promise<JobDescription | undefined>,
  options: ChainingOptions = {},
): Promise<JobDescription | undefined> {
  if (options.disableChaining) return undefined;
  const next = current.nextSuccessors();
  if (next === undefined || next.size !== 1) return undefined;
  if (current.services.length > 0) return undefined;
  if (current.checkpoint && current.hasCheckpointBody()) return undefined;
  const [id] = next as Set<string>;
  const successor = await load(id as string);
  if (successor === undefined) return undefined;
  return chainingBlocker(current, successor, options) === undefined ? successor : undefined;
}
