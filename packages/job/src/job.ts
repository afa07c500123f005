/**
 * The workflow author's API: `Job` (extend it and implement `run`), function jobs, edges, services,
 * typed promises, encapsulation, checkpoints, and saving a job graph as JobDescriptions.
 * (Over 600 lines: Job's methods build its subclasses here and the graph saver reads Job's state, so a split makes an import cycle.)
 */
import {
  ConflictingPredecessorError,
  JobGraphDeadlockError,
  JobPromiseConstraintError,
  JobSerializationError,
  JobUsageError,
} from "./errors.js";
import { JobDescription, isTemporaryJobId, newJobId } from "./description.js";
import type { JobBody } from "./stored-document.js";
import type { DeferredFunctionRef, FileStore, LogLevel } from "./filestore.js";
import { type GraphNode, checkAcyclic, checkConnected, orderingOf, rootsOf } from "./graph.js";
import {
  type At,
  type KeyOf,
  type PathKey,
  type PromiseSource,
  type PromisedArgs,
  type Resolved,
  type ResultOf,
  JobPromise,
  PromisedRequirement,
  isJobPromise,
  isPromisedRequirement,
} from "./promise.js";
import { type ExportRef, exportAdvice, findExport } from "./registry.js";
import { importsInProgress } from "./loader.js";
import type { Requirements, RequirementsInput } from "./requirements.js";
import { NOT_DATA, type SerializedValue, serializeValue } from "./serialize.js";

/** A requirement value that may be computed from promises (evaluated by the worker before the job is scheduled). */
export type PromisableRequirements = {
  [K in keyof RequirementsInput]?: RequirementsInput[K] | JobPromise<NonNullable<RequirementsInput[K]>> | PromisedRequirement;
};

/** Options of a job. */
export interface JobOptions extends PromisableRequirements {
  /** Rerun this job (with its subtree deleted) when a successor fails for good. Must be a leaf when created. */
  checkpoint?: boolean;
  /** Name shown in logs and status (default: the class or function name). */
  displayName?: string;
  /** Extra name, e.g. a sample id, shown next to the job name. */
  unitName?: string;
  /** Prefer running on the leader's machine. */
  local?: boolean;
}

/**
 * Options of a function job (`Job.wrapFn(options, fn, ...args)`, `addChildFn(options, fn, ...args)`,
 * ...): those of a class job, plus Toil's `name`.
 */
export interface FunctionJobOptions extends JobOptions {
  /** Toil's `name` of a function job: its unit name (shown next to the function's name). Same as `unitName`. */
  name?: string;
}

/** A function job's options in the form the `Job` constructor takes (`name` becomes `unitName`). */
function functionJobOptions(options: FunctionJobOptions): JobOptions {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new JobUsageError(`Function job options must be an object such as { cores: 2, name: "x" }, got ${String(options)}.`);
  }
  const { name, ...rest } = options;
  if (name !== undefined && rest.unitName !== undefined && name !== rest.unitName) {
    throw new JobUsageError(`Function job options give both name ${JSON.stringify(name)} and unitName ${JSON.stringify(rest.unitName)}: they are the same option, give one.`);
  }
  return name === undefined ? rest : { ...rest, unitName: name };
}

/**
 * Split the arguments of `wrapFn`-style calls: `(fn, ...args)` or `(options, fn, ...args)`.
 */
function fnCall(first: unknown, rest: readonly unknown[], what: string): { fn: AnyFn; args: unknown[]; options: JobOptions } {
  if (typeof first === "function") return { fn: first as AnyFn, args: [...rest], options: {} };
  const [fn, ...args] = rest;
  if (typeof fn !== "function") {
    throw new JobUsageError(`${what}() expects a function, or an options object followed by a function; got ${typeof first}${first !== null && typeof first === "object" ? ` then ${typeof fn}` : ""}.`);
  }
  return { fn: fn as AnyFn, args, options: functionJobOptions(first as FunctionJobOptions) };
}

const REQUIREMENT_KEYS = ["cores", "memory", "disk", "accelerators", "preemptible"] as const;
/** Requirements of the small shell job that evaluates promised requirements (Toil's values). */
const PROMISED_REQUIREMENT_SHELL: RequirementsInput = { disk: "1Mi", memory: "32Mi", cores: 0.1, preemptible: true };
/** Requirements of the no-op follow-on of an encapsulated job (Toil's values). */
const ENCAPSULATED_FOLLOW_ON: RequirementsInput = { disk: "100Mi", memory: "512Mi", cores: 0.1 };

type BodySpec =
  | { kind: "class" }
  | { kind: "function" | "jobFunction"; fn: (...args: never[]) => unknown; args: readonly unknown[] }
  | { kind: "service"; service: Service }
  | { kind: "builtin"; name: string };

/** Internal state of a job; kept off the object so a class job's own fields are exactly the user's. */
export interface JobState {
  description: JobDescription;
  body: BodySpec;
  children: Job[];
  followOns: Job[];
  services: { host: ServiceHostJob; parent: ServiceHostJob | undefined }[];
  predecessors: Set<Job>;
  client: Job | undefined;
  /** Already in the job store (the job running in this worker). */
  saved: boolean;
  promisedRequirements: Partial<Record<keyof Requirements, JobPromise<unknown> | PromisedRequirement>> | undefined;
  fileStore: FileStore | undefined;
  tempDir: string | undefined;
}

const states = new WeakMap<object, JobState>();

// A job's successor and service lists start as these shared empty ones and get their own on the
// first add: most jobs of a big fan-out never have any. Frozen, so a push that forgot to take a
// copy fails loudly.
const NO_JOBS: Job[] = Object.freeze([]) as unknown as Job[];
const NO_SERVICE_HOSTS: JobState["services"] = Object.freeze([]) as unknown as JobState["services"];

/** Internal: the state of a job. */
export function jobState(job: Job): JobState {
  const s = states.get(job);
  if (s === undefined) {
    throw new JobUsageError(
      `This ${job?.constructor?.name ?? "object"} was not initialised as a job: a Job subclass constructor must call super().`,
    );
  }
  return s;
}

/** Internal: attach state to a job object (constructor or worker rebuild). */
export function initJobState(job: Job, description: JobDescription, body: BodySpec, saved: boolean): JobState {
  const state: JobState = {
    description,
    body,
    children: NO_JOBS,
    followOns: NO_JOBS,
    services: NO_SERVICE_HOSTS,
    predecessors: new Set(),
    client: undefined,
    saved,
    promisedRequirements: undefined,
    fileStore: undefined,
    tempDir: undefined,
  };
  states.set(job, state);
  return state;
}

function splitRequirements(
  job: Job,
  options: PromisableRequirements,
): void {
  const state = jobState(job);
  const plain: RequirementsInput = {};
  for (const key of Object.keys(options) as (keyof PromisableRequirements)[]) {
    if (!(REQUIREMENT_KEYS as readonly string[]).includes(key)) continue;
    const v = options[key];
    if (v === undefined) continue;
    if (isJobPromise(v) || isPromisedRequirement(v)) {
      state.promisedRequirements ??= {};
      state.promisedRequirements[key] = v as JobPromise<unknown> | PromisedRequirement;
    } else {
      (plain as Record<string, unknown>)[key] = v;
    }
  }
  state.description.setRequirements(plain);
}

type AnyFn = (...args: never[]) => unknown;

/**
 * A unit of work. Extend it and implement {@link run}; the value `run` returns (or resolves to)
 * becomes the job's result, available to later jobs through {@link rv}.
 *
 * ```ts
 * export class Greet extends Job {
 *   constructor(readonly who: string) { super({ memory: "100Mi" }); }
 *   run(fileStore: FileStore) { return `Hello, ${this.who}!`; }
 * }
 * ```
 * A worker rebuilds a class job from its class (found by module and export) and its own fields,
 * so the class must be exported from a registered module and its fields must be job data.
 */
export abstract class Job implements PromiseSource {
  constructor(options: JobOptions = {}) {
    const name = new.target.name || "Job";
    const description = new JobDescription({
      jobName: name,
      displayName: options.displayName ?? name,
      unitName: options.unitName ?? "",
      local: options.local ?? false,
      checkpoint: options.checkpoint ?? false,
    });
    initJobState(this, description, { kind: "class" }, false);
    splitRequirements(this, options);
    Object.defineProperty(this, NOT_DATA, { value: `job '${description.displayName}'`, enumerable: false });
  }

  /** The job's body: do the work, return the result. May add children, follow-ons and services. */
  abstract run(fileStore: FileStore): unknown;

  // ------------------------------------------------------------- identity & requirements

  /** The job's description (what the leader and the job store see). */
  get description(): JobDescription {
    return jobState(this).description;
  }
  /** The job's id (temporary until the job is saved). */
  get jobStoreId(): string {
    return this.description.id;
  }
  /** @internal id under which this job's result is stored. */
  get resultId(): string {
    return this.description.originalId;
  }
  get displayName(): string {
    return this.description.displayName;
  }
  /** Whether this is a checkpoint job (it reruns, with its subtree deleted, when a successor fails for good). */
  get checkpoint(): boolean {
    return this.description.checkpoint;
  }

  /** Set requirements (values, promises or promisedRequirement()s). Returns the job, for chaining. */
  requires(requirements: PromisableRequirements): this {
    splitRequirements(this, requirements);
    return this;
  }
  /** Explicit requirements so far (promised ones excluded). */
  get requirements(): Partial<Requirements> {
    return this.description.requirements;
  }

  // ------------------------------------------------------------- edges

  /** Add a child: it runs after this job, in parallel with this job's other children. Returns the child. */
  addChild<J extends Job>(child: J): J {
    addSuccessor(this, child, "child");
    return child;
  }

  /** Add a follow-on: it runs after this job's children and all their descendants. Returns the follow-on. */
  addFollowOn<J extends Job>(followOn: J): J {
    addSuccessor(this, followOn, "followOn");
    return followOn;
  }

  /**
   * Add a service: it starts after this job's body, before its children and follow-ons, and stops
   * after they are all done. With `parentService` (already added to this job), it starts after that one.
   * Returns a promise of the service's `start()` value (e.g. how to connect to it).
   */
  addService<S extends Service>(service: S, parentService?: Service): JobPromise<Resolved<Awaited<ReturnType<S["start"]>>>> {
    const me = jobState(this);
    if (me.client !== undefined) throw new JobUsageError(`Service host job '${this.displayName}' cannot have services.`);
    const svc = serviceState(service);
    if (svc.host !== undefined) {
      throw new JobUsageError(`Service '${service.constructor.name}' was already added to a job; a service instance can be added only once.`);
    }
    let parent: ServiceHostJob | undefined;
    if (parentService !== undefined) {
      parent = serviceState(parentService).host;
      if (parent === undefined || !me.services.some((s) => s.host === parent)) {
        throw new JobUsageError(
          `The parent service '${parentService.constructor.name}' must be added to job '${this.displayName}' before its sub-service.`,
        );
      }
    }
    const host = new ServiceHostJob(service);
    svc.host = host;
    const hostState = jobState(host);
    hostState.client = this;
    validateJob(host, true);
    if (me.services === NO_SERVICE_HOSTS) me.services = [];
    me.services.push({ host, parent });
    me.description.addServiceHostJob(host.description.id, parent?.description.id);
    return host.rv() as JobPromise<Resolved<Awaited<ReturnType<S["start"]>>>>;
  }

  // ------------------------------------------------------------- function jobs

  /**
   * Make a job from a function and its arguments (promises allowed). The function must be exported
   * from a registered module. Give options first to set requirements, a checkpoint or a name:
   * `Job.wrapFn({ cores: 2, memory: "1Gi", name: "sample-1" }, fn, ...args)`.
   */
  static wrapFn<A extends unknown[], R>(fn: (...args: A) => R, ...args: NoInfer<PromisedArgs<A>>): FunctionWrappingJob<A, R>;
  static wrapFn<A extends unknown[], R>(
    options: FunctionJobOptions,
    fn: (...args: A) => R,
    ...args: NoInfer<PromisedArgs<A>>
  ): FunctionWrappingJob<A, R>;
  static wrapFn(first: unknown, ...rest: unknown[]): FunctionWrappingJob {
    const { fn, args, options } = fnCall(first, rest, "Job.wrapFn");
    return new FunctionWrappingJob(fn as (...a: unknown[]) => unknown, args, options);
  }

  /**
   * Like {@link wrapFn}, but the function receives the job first, so it can add jobs and use
   * `job.fileStore`. Options may come first, as for `wrapFn`.
   */
  static wrapJobFn<A extends unknown[], R>(
    fn: (job: JobFunctionWrappingJob<any, any>, ...args: A) => R,
    ...args: NoInfer<PromisedArgs<A>>
  ): JobFunctionWrappingJob<A, R>;
  static wrapJobFn<A extends unknown[], R>(
    options: FunctionJobOptions,
    fn: (job: JobFunctionWrappingJob<any, any>, ...args: A) => R,
    ...args: NoInfer<PromisedArgs<A>>
  ): JobFunctionWrappingJob<A, R>;
  static wrapJobFn(first: unknown, ...rest: unknown[]): JobFunctionWrappingJob {
    const { fn, args, options } = fnCall(first, rest, "Job.wrapJobFn");
    return new JobFunctionWrappingJob(fn as (job: JobFunctionWrappingJob, ...a: unknown[]) => unknown, args, options);
  }

  /** `addChild(Job.wrapFn(fn, ...args))`; options may come first, as for `wrapFn`. */
  addChildFn<A extends unknown[], R>(fn: (...args: A) => R, ...args: NoInfer<PromisedArgs<A>>): FunctionWrappingJob<A, R>;
  addChildFn<A extends unknown[], R>(options: FunctionJobOptions, fn: (...args: A) => R, ...args: NoInfer<PromisedArgs<A>>): FunctionWrappingJob<A, R>;
  addChildFn(first: unknown, ...rest: unknown[]): FunctionWrappingJob {
    const { fn, args, options } = fnCall(first, rest, "addChildFn");
    return this.addChild(new FunctionWrappingJob(fn as (...a: unknown[]) => unknown, args, options));
  }
  /** `addFollowOn(Job.wrapFn(fn, ...args))`; options may come first, as for `wrapFn`. */
  addFollowOnFn<A extends unknown[], R>(fn: (...args: A) => R, ...args: NoInfer<PromisedArgs<A>>): FunctionWrappingJob<A, R>;
  addFollowOnFn<A extends unknown[], R>(options: FunctionJobOptions, fn: (...args: A) => R, ...args: NoInfer<PromisedArgs<A>>): FunctionWrappingJob<A, R>;
  addFollowOnFn(first: unknown, ...rest: unknown[]): FunctionWrappingJob {
    const { fn, args, options } = fnCall(first, rest, "addFollowOnFn");
    return this.addFollowOn(new FunctionWrappingJob(fn as (...a: unknown[]) => unknown, args, options));
  }
  /** `addChild(Job.wrapJobFn(fn, ...args))`; options may come first, as for `wrapFn`. */
  addChildJobFn<A extends unknown[], R>(
    fn: (job: JobFunctionWrappingJob<any, any>, ...args: A) => R,
    ...args: NoInfer<PromisedArgs<A>>
  ): JobFunctionWrappingJob<A, R>;
  addChildJobFn<A extends unknown[], R>(
    options: FunctionJobOptions,
    fn: (job: JobFunctionWrappingJob<any, any>, ...args: A) => R,
    ...args: NoInfer<PromisedArgs<A>>
  ): JobFunctionWrappingJob<A, R>;
  addChildJobFn(first: unknown, ...rest: unknown[]): JobFunctionWrappingJob {
    const { fn, args, options } = fnCall(first, rest, "addChildJobFn");
    return this.addChild(new JobFunctionWrappingJob(fn as (job: JobFunctionWrappingJob, ...a: unknown[]) => unknown, args, options));
  }
  /** `addFollowOn(Job.wrapJobFn(fn, ...args))`; options may come first, as for `wrapFn`. */
  addFollowOnJobFn<A extends unknown[], R>(
    fn: (job: JobFunctionWrappingJob<any, any>, ...args: A) => R,
    ...args: NoInfer<PromisedArgs<A>>
  ): JobFunctionWrappingJob<A, R>;
  addFollowOnJobFn<A extends unknown[], R>(
    options: FunctionJobOptions,
    fn: (job: JobFunctionWrappingJob<any, any>, ...args: A) => R,
    ...args: NoInfer<PromisedArgs<A>>
  ): JobFunctionWrappingJob<A, R>;
  addFollowOnJobFn(first: unknown, ...rest: unknown[]): JobFunctionWrappingJob {
    const { fn, args, options } = fnCall(first, rest, "addFollowOnJobFn");
    return this.addFollowOn(new JobFunctionWrappingJob(fn as (job: JobFunctionWrappingJob, ...a: unknown[]) => unknown, args, options));
  }

  // ------------------------------------------------------------- encapsulation

  /**
   * Wrap this job so that anything added to the returned job runs after this job *and all its
   * successors*. The wrapper's `rv()` is this job's.
   */
  encapsulate(name?: string): EncapsulatedJob<this> {
    return new EncapsulatedJob(this, name);
  }

  // ------------------------------------------------------------- promises

  /** A promise of this job's return value. */
  rv(): JobPromise<ResultOf<this>>;
  /** A promise of part of this job's return value: `rv('key')`, `rv(2)`, `rv('a', 0)`... */
  rv<K1 extends KeyOf<ResultOf<this>>>(k1: K1): JobPromise<At<ResultOf<this>, K1>>;
  rv<K1 extends KeyOf<ResultOf<this>>, K2 extends KeyOf<At<ResultOf<this>, K1>>>(
    k1: K1,
    k2: K2,
  ): JobPromise<At<At<ResultOf<this>, K1>, K2>>;
  rv<
    K1 extends KeyOf<ResultOf<this>>,
    K2 extends KeyOf<At<ResultOf<this>, K1>>,
    K3 extends KeyOf<At<At<ResultOf<this>, K1>, K2>>,
  >(k1: K1, k2: K2, k3: K3): JobPromise<At<At<At<ResultOf<this>, K1>, K2>, K3>>;
  rv<
    K1 extends KeyOf<ResultOf<this>>,
    K2 extends KeyOf<At<ResultOf<this>, K1>>,
    K3 extends KeyOf<At<At<ResultOf<this>, K1>, K2>>,
    K4 extends KeyOf<At<At<At<ResultOf<this>, K1>, K2>, K3>>,
  >(k1: K1, k2: K2, k3: K3, k4: K4): JobPromise<At<At<At<At<ResultOf<this>, K1>, K2>, K3>, K4>>;
  rv(...path: PathKey[]): JobPromise<unknown> {
    for (const key of path) {
      if (typeof key !== "string" && typeof key !== "number") {
        throw new JobUsageError(`rv() path keys must be strings or numbers, got ${typeof key}.`);
      }
    }
    return new JobPromise(this, path);
  }

  // ------------------------------------------------------------- while running

  /** The file store of the current run (only inside `run`). */
  get fileStore(): FileStore {
    const fs = jobState(this).fileStore;
    if (fs === undefined) throw new JobUsageError(`Job '${this.displayName}': fileStore is only available while the job runs.`);
    return fs;
  }

  /** Send a message to the leader's log (only inside `run`). */
  log(message: string, level: LogLevel = "info"): void {
    this.fileStore.logToLeader(message, level);
  }

  /** A temporary directory for this job attempt (only inside `run`). */
  async getTempDir(): Promise<string> {
    const s = jobState(this);
    s.tempDir ??= await this.fileStore.getLocalTempDir();
    return s.tempDir;
  }

  /**
   * Run `fn(...args)` after this job attempt ends, even if the worker dies (then later, on the same
   * node). `fn` must be exported from a registered module and idempotent (it may run more than once).
   */
  async defer<A extends unknown[]>(fn: (...args: A) => unknown, ...args: A): Promise<void> {
    await this.fileStore.registerDeferredFunction(deferredFunctionRef(fn, args));
  }

  // ------------------------------------------------------------- graph checks

  /** The jobs of this job's (unsaved) graph that have no predecessor. */
  getRootJobs(): Set<Job> {
    const component = graphComponent(this);
    return new Set(rootsOf(component, new Set<GraphNode>(component)).map((n) => n.job));
  }
  /** Throw {@link JobGraphDeadlockError} unless the graph has exactly one root. */
  checkJobGraphConnected(): void {
    checkConnected(graphComponent(this));
  }
  /** Throw {@link JobGraphDeadlockError} if the graph (with follow-on ordering) has a cycle. */
  checkJobGraphAcyclic(): void {
    checkAcyclic(graphComponent(this));
  }
  /** Throw {@link JobGraphDeadlockError} if a new checkpoint job has successors or services. */
  checkNewCheckpointsAreLeafVertices(): void {
    checkNewCheckpointsAreLeaves(graphComponent(this));
  }
  /** All the checks above. */
  checkJobGraphForDeadlocks(): void {
    this.checkJobGraphConnected();
    this.checkJobGraphAcyclic();
    this.checkNewCheckpointsAreLeafVertices();
  }

  toString(): string {
    return `${this.constructor.name}(${this.description})`;
  }
}

function checkNewCheckpointsAreLeaves(component: readonly JobNode[]): void {
  for (const n of component) {
    const s = jobState(n.job);
    if (!s.saved && s.description.checkpoint && (s.children.length > 0 || s.followOns.length > 0 || s.services.length > 0)) {
      throw new JobGraphDeadlockError(
        `Checkpoint job '${n.name}' has successors or services before it ran; a checkpoint must be a leaf when created ` +
          `(add its children from inside its run()).`,
        [n.name],
      );
    }
  }
}

function addSuccessor(parent: Job, job: Job, kind: "child" | "followOn"): void {
  if (!isJob(job)) throw new JobUsageError(`add${kind === "child" ? "Child" : "FollowOn"}() expects a Job, got ${String(job)}.`);
  const me = jobState(parent);
  const other = jobState(job);
  if (me.client !== undefined) throw new JobUsageError(`Service host job '${parent.displayName}' cannot have successors.`);
  if (other.client !== undefined) throw new JobUsageError(`Service host job '${job.displayName}' cannot be a successor; use addService().`);
  if (other.predecessors.has(parent)) throw new ConflictingPredecessorError(parent.displayName, job.displayName);
  validateJob(job, true);
  other.predecessors.add(parent);
  other.description.addPredecessor();
  if (kind === "child") {
    if (me.children === NO_JOBS) me.children = [];
    me.children.push(job);
    me.description.addChild(other.description.id);
  } else {
    if (me.followOns === NO_JOBS) me.followOns = [];
    me.followOns.push(job);
    me.description.addFollowOn(other.description.id);
  }
}


/** True if `value` is a {@link Job} (of any class). */
export function isJob(value: unknown): value is Job {
  return typeof value === "object" && value !== null && states.has(value);
}

// ------------------------------------------------------------------ function jobs

function fnName(fn: AnyFn): string {
  return fn.name || "(anonymous function)";
}

/** A job that runs a plain function with stored arguments (see {@link Job.wrapFn}). */
export class FunctionWrappingJob<A extends unknown[] = unknown[], R = unknown> extends Job {
  constructor(fn: (...args: A) => R, args: PromisedArgs<A> | A, options: FunctionJobOptions = {}) {
    if (typeof fn !== "function") throw new JobUsageError(`Job.wrapFn() expects a function, got ${typeof fn}.`);
    super({ displayName: fnName(fn), ...functionJobOptions(options) });
    const s = jobState(this);
    s.description.jobName = fnName(fn);
    s.body = { kind: this instanceof JobFunctionWrappingJob ? "jobFunction" : "function", fn: fn as AnyFn, args: args as unknown[] };
    checkFunctionFindable(fn as AnyFn, false);
  }
  override run(fileStore: FileStore): Promise<Awaited<R>> {
    void fileStore;
    const body = jobState(this).body;
    if (body.kind !== "function") throw new JobUsageError("not a function job");
    return Promise.resolve(body.fn(...(body.args as never[])) as Awaited<R>);
  }
}

/** A job that runs a function receiving the job itself first (see {@link Job.wrapJobFn}). */
export class JobFunctionWrappingJob<A extends unknown[] = unknown[], R = unknown> extends FunctionWrappingJob<A, R> {
  constructor(fn: (job: JobFunctionWrappingJob<any, any>, ...args: A) => R, args: PromisedArgs<A> | A, options: FunctionJobOptions = {}) {
    super(fn as unknown as (...args: A) => R, args, options);
  }
  override run(fileStore: FileStore): Promise<Awaited<R>> {
    void fileStore;
    const body = jobState(this).body;
    if (body.kind !== "jobFunction") throw new JobUsageError("not a job function job");
    return Promise.resolve(body.fn(...([this, ...body.args] as never[])) as Awaited<R>);
  }
}

// ------------------------------------------------------------------ services

interface ServiceState {
  host: ServiceHostJob | undefined;
  requirements: RequirementsInput;
}
const serviceStates = new WeakMap<object, ServiceState>();

/** Internal: a service's state. */
function serviceState(service: Service): ServiceState {
  const s = serviceStates.get(service);
  if (s === undefined) throw new JobUsageError(`This object is not a Service (a Service subclass constructor must call super()).`);
  return s;
}

/** Internal: attach state to a rebuilt service. */
export function initServiceState(service: Service, requirements: RequirementsInput = {}): void {
  serviceStates.set(service, { host: undefined, requirements });
}

/**
 * A long-running helper (a database, a server) available to a job's successors. Extend it; a worker
 * rebuilds it from its class and own fields, like a class job.
 *
 * ```ts
 * export class Db extends Service<string> {
 *   async start(job: Job) { ...; return "postgres://host:5432"; }
 *   async stop(job: Job) { ... }
 *   async check() { return true; }
 * }
 * const url = job.addService(new Db());   // JobPromise<string>
 * job.addChildFn(query, url);
 * ```
 */
export abstract class Service<S = unknown> {
  constructor(requirements: RequirementsInput = {}) {
    initServiceState(this, requirements);
    Object.defineProperty(this, NOT_DATA, { value: `service '${new.target.name}'`, enumerable: false });
  }
  /** Start the service; the value (job data) tells clients how to reach it. */
  abstract start(job: Job): S | Promise<S>;
  /** Stop it (always called, also after failures). */
  abstract stop(job: Job): void | Promise<void>;
  /** Called periodically: throw (or reject) if the service failed; return false if it finished and should just wait to be stopped. */
  check(): boolean | Promise<boolean> {
    return true;
  }
  /** Requirements of the job hosting this service. */
  get requirements(): RequirementsInput {
    return serviceState(this).requirements;
  }
}

/** The job that hosts a service (created by `addService`; the leader schedules it specially). */
export class ServiceHostJob extends Job {
  constructor(
    /** The service this job hosts. */
    readonly service: Service,
  ) {
    const name = service.constructor.name || "Service";
    super({ ...serviceState(service).requirements, displayName: name });
    const s = jobState(this);
    s.description.jobName = name;
    s.description.isService = true;
    s.body = { kind: "service", service };
    // `service` is an own field for convenience; it is stored through the body, not as a field.
    Object.defineProperty(this, "service", { value: service, enumerable: false });
  }
  /** Service hosts are run by the worker's service loop (see `runServiceHost`). */
  override run(): Resolved<unknown> {
    throw new JobUsageError("A service host job is run with runServiceHost(), not run().");
  }
}

// ------------------------------------------------------------------ encapsulation

/**
 * A job that does nothing, for graphs that need a join or a fork point (Toil's plain `Job()`):
 * `const join = new NoopJob(); a.addChild(join); b.addChild(join); join.addChildFn(next)`. Its
 * body is built in, so no module has to export it; requirements default to the workflow's.
 */
export class NoopJob extends Job {
  constructor(options: JobOptions = {}) {
    super(options);
    jobState(this).body = { kind: "builtin", name: "noop" };
  }
  override run(): undefined {
    return undefined;
  }
}

/**
 * The result of `job.encapsulate()`: runs the wrapped job; anything added to it runs after the
 * wrapped job and all of its successors. `rv()` is the wrapped job's.
 */
export class EncapsulatedJob<J extends Job = Job> extends Job {
  readonly #encapsulated: J;
  readonly #followOn: Job;
  constructor(job: J, name?: string) {
    super({ ...job.requirements, displayName: name ?? `${job.displayName} (encapsulated)` });
    jobState(this).body = { kind: "builtin", name: "noop" };
    this.#encapsulated = job;
    for (const p of [...jobState(job).predecessors]) p.addChild(this);
    Job.prototype.addChild.call(this, job);
    this.#followOn = Job.prototype.addFollowOn.call(this, new NoopJob({ ...ENCAPSULATED_FOLLOW_ON, displayName: `${this.displayName} follow-on` }));
  }
  /** The job that was encapsulated. */
  get encapsulatedJob(): J {
    return this.#encapsulated;
  }
  override addChild<C extends Job>(child: C): C {
    return this.#followOn.addChild(child);
  }
  override addFollowOn<C extends Job>(followOn: C): C {
    return this.#followOn.addFollowOn(followOn);
  }
  override addService<S extends Service>(service: S, parentService?: Service): JobPromise<Resolved<Awaited<ReturnType<S["start"]>>>> {
    return this.#followOn.addService(service, parentService);
  }
  override run(): ResultOf<J> {
    return undefined as ResultOf<J>;
  }
  override rv(...path: PathKey[]): JobPromise<never> {
    return (this.#encapsulated.rv as (...p: PathKey[]) => JobPromise<never>)(...path);
  }
}

// ------------------------------------------------------------------ findability and validation

function checkFunctionFindable(fn: AnyFn, strict: boolean): ExportRef | undefined {
  const ref = findExport(fn);
  if (ref !== undefined) return ref;
  if (!strict && importsInProgress() > 0) return undefined; // the workflow module is still loading: check again when saving
  if (fn.name === "" || fn.name.startsWith("bound ")) {
    throw new JobSerializationError(
      `An ${fn.name.startsWith("bound ") ? "bound" : "anonymous"} function cannot be a job: a worker could not find it again. ` +
        `Declare it as an exported, named top-level function of a registered module (\`export function step(...) {...}\`).`,
    );
  }
  if (strict || importsInProgress() === 0) {
    throw new JobSerializationError(`Function '${fn.name}' cannot be found again by a worker. ${exportAdvice("the function", fn.name)}`);
  }
  return undefined;
}

function bodyRef(job: Job, strict: boolean): ExportRef | undefined {
  const s = jobState(job);
  const body = s.body;
  switch (body.kind) {
    case "builtin":
      return { module: "@toil/job", exportName: body.name };
    case "function":
    case "jobFunction":
      return checkFunctionFindable(body.fn, strict);
    case "service":
    case "class": {
      const ctor = (body.kind === "service" ? body.service.constructor : job.constructor) as AnyFn;
      const what = body.kind === "service" ? "the service class" : "the job class";
      const ref = findExport(ctor);
      if (ref !== undefined) return ref;
      if (!strict && importsInProgress() > 0) return undefined;
      const name = ctor.name || "(anonymous class)";
      throw new JobSerializationError(
        `${body.kind === "service" ? "Service" : "Job"} class '${name}' (job '${s.description.displayName}') cannot be found again by a worker. ${exportAdvice(what, name)}`,
      );
    }
  }
}

function bodyData(job: Job, onPromise?: (source: PromiseSource, path: string) => void): SerializedValue {
  const s = jobState(job);
  const body = s.body;
  const name = s.description.displayName;
  const options = onPromise === undefined ? { what: `Job '${name}'` } : { what: `Job '${name}'`, onPromise };
  switch (body.kind) {
    case "builtin":
      return null;
    case "function":
    case "jobFunction":
      return serializeValue(body.args, options, "args");
    case "class":
      return serializeValue(ownFields(job), options, "this");
    case "service":
      return serializeValue(ownFields(body.service), { ...options, what: `Service '${body.service.constructor.name}' of job '${name}'` }, "service");
  }
}

function ownFields(obj: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(obj)) out[key] = (obj as Record<string, unknown>)[key];
  return out;
}

/** Check a job can be stored: its class/function is findable, its data serializable. */
function validateJob(job: Job, lenient: boolean): void {
  const s = jobState(job);
  if (s.saved) return;
  bodyRef(job, !lenient);
  bodyData(job);
  serializePromisedRequirements(job, undefined, !lenient);
}

function serializePromisedRequirements(
  job: Job,
  onPromise: ((source: PromiseSource, path: string) => void) | undefined,
  strict: boolean,
): SerializedValue | undefined {
  const s = jobState(job);
  if (s.promisedRequirements === undefined) return undefined;
  const out: Record<string, SerializedValue> = {};
  const what = `Promised requirements of job '${s.description.displayName}'`;
  for (const [key, v] of Object.entries(s.promisedRequirements)) {
    if (isJobPromise(v)) {
      out[key] = { args: serializeValue([v], onPromise ? { what, onPromise } : { what }, key) };
    } else {
      const pr = v as PromisedRequirement;
      let ref: ExportRef | undefined;
      if (pr.fn !== undefined) {
        ref = findExport(pr.fn);
        if (ref === undefined && (strict || importsInProgress() === 0)) {
          throw new JobSerializationError(`${what}: function '${pr.fn.name || "(anonymous)"}' cannot be found again by a worker. ${exportAdvice("the function", pr.fn.name || "f")}`);
        }
      }
      out[key] = {
        ...(ref ? { module: ref.module, exportName: ref.exportName } : {}),
        args: serializeValue(pr.args, onPromise ? { what, onPromise } : { what }, key),
      };
    }
  }
  return out;
}

/** Build the reference used for deferred functions. */
function deferredFunctionRef(fn: AnyFn, args: readonly unknown[]): DeferredFunctionRef {
  const ref = checkFunctionFindable(fn, true) as ExportRef;
  return { module: ref.module, exportName: ref.exportName, args: serializeValue(args, { what: `Deferred function '${fn.name}'` }, "args"), name: fn.name };
}

// ------------------------------------------------------------------ graph

interface JobNode extends GraphNode {
  readonly job: Job;
  children: JobNode[];
  followOns: JobNode[];
  services: { host: JobNode; parent: JobNode | undefined }[];
  /** An array, not a set: almost every job has one predecessor, and a set per job of a million-job fan-out cost more than the job. */
  predecessors: JobNode[];
  client: JobNode | undefined;
}

/** Shared by every node without follow-ons or services (frozen: never pushed to). */
const NO_SERVICES: readonly never[] = Object.freeze([]);

/**
 * The jobs connected to `start` (through successors, predecessors, services and clients), `start`
 * first, as snapshot nodes for the checks, and the node of each job. Built straight from the jobs'
 * state in one pass: a fan-out of a million children makes a million nodes and nothing else per job.
 */
function snapshot(start: Job): { nodes: JobNode[]; nodeOf: Map<Job, JobNode> } {
  const nodeOf = new Map<Job, JobNode>();
  const nodes: JobNode[] = [];
  const visit = (job: Job): JobNode => {
    let node = nodeOf.get(job);
    if (node === undefined) {
      node = { job, name: "", children: [], followOns: [], services: NO_SERVICES as unknown as JobNode["services"], predecessors: [], client: undefined };
      nodeOf.set(job, node);
      nodes.push(node);
    }
    return node;
  };
  visit(start);
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i] as JobNode;
    const s = jobState(node.job);
    (node as { name: string }).name = s.description.displayName;
    // (Assigned, not pushed with a spread: a job may have a million children.)
    node.children = s.children.length === 0 ? (NO_SERVICES as unknown as JobNode[]) : s.children.map(visit);
    node.followOns = s.followOns.length === 0 ? (NO_SERVICES as unknown as JobNode[]) : s.followOns.map(visit);
    if (s.services.length > 0) node.services = s.services.map(({ host, parent }) => ({ host: visit(host), parent: parent && visit(parent) }));
    for (const p of s.predecessors) node.predecessors.push(visit(p));
    node.client = s.client && visit(s.client);
  }
  return { nodes, nodeOf };
}

function graphComponent(job: Job): JobNode[] {
  return snapshot(job).nodes;
}

/** Options for {@link saveJobGraph}. */
export interface SaveOptions {
  /** Make a permanent id for a new job (default: nanoid). */
  assignJobId?: (description: JobDescription) => string;
}

/**
 * Validate and save the graph of unsaved jobs connected to `root` (the workflow's root job, or the
 * job that is running in a worker): graph checks, promise-consumption checks, id assignment,
 * bodies serialized and attached. Returns the new descriptions (successors before... in graph order,
 * `root` first when it is new) and the rename map (temporary -> permanent ids).
 */
export function saveJobGraph(
  root: Job,
  options: SaveOptions = {},
): {
  /** The descriptions of the newly saved jobs, in graph order. */
  descriptions: JobDescription[];
  /** Temporary id to permanent id, for every job that got one. */
  renames: Map<string, string>;
} {
  const rootState = jobState(root);
  const { nodes: component, nodeOf } = snapshot(root);
  // graph checks
  const graphRoot = checkConnected(component);
  if (graphRoot.job !== root) {
    throw new JobGraphDeadlockError(
      `Job '${graphRoot.name}' is a predecessor of '${root.displayName}' in the graph being saved, but '${root.displayName}' must be the root.`,
      [graphRoot.name, root.displayName],
    );
  }
  checkAcyclic(component);
  checkNewCheckpointsAreLeaves(component);
  // promise consumption
  const order = orderingOf(component);
  const fresh = component.filter((n) => !jobState(n.job).saved);
  for (const n of fresh) {
    const consumer = n.job;
    const onPromise = (source: PromiseSource) => {
      if (!isJob(source)) return;
      if (jobState(source).saved) return; // a job already in the store (the running job) has run before anything new
      const from = nodeOf.get(source);
      if (from === undefined) {
        throw new JobPromiseConstraintError(source.displayName, consumer.displayName);
      }
      if (!order.runsAfter(from, n)) throw new JobPromiseConstraintError(source.displayName, consumer.displayName);
    };
    bodyData(consumer, onPromise);
    serializePromisedRequirements(consumer, onPromise, true);
  }
  // ids
  const renames = new Map<string, string>();
  const assign = options.assignJobId ?? (() => newJobId());
  for (const n of fresh) {
    const d = jobState(n.job).description;
    if (isTemporaryJobId(d.id)) {
      const id = assign(d);
      renames.set(d.id, id);
      d.id = id;
    }
  }
  for (const n of component) jobState(n.job).description.renameReferences(renames);
  // bodies
  const descriptions: JobDescription[] = [];
  for (const n of fresh) {
    const s = jobState(n.job);
    const ref = bodyRef(n.job, true) as ExportRef;
    const body: JobBody = { kind: s.body.kind, module: ref.module, exportName: ref.exportName, data: bodyData(n.job) };
    const promised = serializePromisedRequirements(n.job, undefined, true);
    if (promised !== undefined) {
      body.promisedRequirements = { fixed: s.description.requirements as SerializedValue, values: promised };
      s.description.setRequirements(PROMISED_REQUIREMENT_SHELL);
    }
    s.description.attachBody(body);
    s.saved = true;
    descriptions.push(s.description);
  }
  void rootState;
  return { descriptions, renames };
}
