/**
 * `JobDescription`: everything the leader needs to know about a job, and the unit the job store
 * persists (one JSON document per job, with the job body inline). Never contains other jobs or
 * descriptions: every reference is by id.
 * (Over 600 lines: one class, whose private fields toJSON/fromJSON must all see; requirement parsing is in requirements.ts.)
 */
import { getRandomValues } from "node:crypto";
import { urlAlphabet } from "nanoid";
import { JobDescriptionFormatError, JobUsageError, JobVersionError, ToilError } from "./errors.js";
import { BatchJobExitReason } from "./exit-reason.js";
import {
  type AcceleratorRequirement,
  type RequirementDefaults,
  type Requirements,
  type RequirementsInput,
  parseRequirements,
  requirementsString,
  resolveRequirements,
} from "./requirements.js";
import { type JobBody, JobBodyText, type StoredJobBody, readJobDocument } from "./stored-document.js";

/** Version of the JSON written by {@link JobDescription.toJSON}. */
export const JOB_DESCRIPTION_FORMAT = 1;

/** Prefix of the ids jobs get before the job store assigns their real ones. */
export const TEMPORARY_ID_PREFIX = "tmp-";

/** A fresh temporary job id (replaced by a real one when the job is saved). */
export function newTemporaryJobId(): string {
  return randomId(TEMPORARY_ID_PREFIX);
}

/**
 * A fresh permanent job id (nanoid-style, see randomId). nanoid's alphabet has `-`, so about one id in 16.8 million
 * starts with the temporary prefix; a workflow of a million jobs would meet one about once in
 * seventeen runs, and the store refuses to save it as a temporary id. Such an id is drawn again.
 */
export function newJobId(): string {
  for (;;) {
    const id = randomId("");
    if (!isTemporaryJobId(id)) return id;
  }
}

const ID_LENGTH = 21;
const ID_BATCH = 1024;
const idBytes = Buffer.alloc(ID_BATCH * ID_LENGTH);
let idsUsed = ID_BATCH;

/**
 * `prefix` and a nanoid-style id (21 symbols of nanoid's URL alphabet, 126 random bits), made as
 * one flat string: nanoid builds its id a symbol at a time, and V8 keeps such a string as a chain
 * of about ten pieces, which cost more than the rest of a trivial job's description.
 */
function randomId(prefix: string): string {
  if (idsUsed === ID_BATCH) {
    getRandomValues(idBytes);
    for (let i = 0; i < idBytes.length; i++) idBytes[i] = urlAlphabet.charCodeAt((idBytes[i] as number) & 63);
    idsUsed = 0;
  }
  const start = idsUsed++ * ID_LENGTH;
  return prefix + idBytes.toString("latin1", start, start + ID_LENGTH);
}

/** Whether an id is a temporary one (the job was never saved). */
export function isTemporaryJobId(id: string): boolean {
  return id.startsWith(TEMPORARY_ID_PREFIX);
}

/** Links of a chain a description keeps by name (older ones are only counted). */
export const MAX_CHAIN_LINKS_KEPT = 16;

/** One job that ran in a chain (see {@link JobDescription.getChain}). */
export interface ChainLink {
  /** The job's name (its class or function name). */
  jobName: string;
  /** The job's extra name (empty when none). */
  unitName: string;
  /** The name shown in logs and status. */
  displayName: string;
  /** The job's original id. */
  id: string;
}

/** Job-store files that signal a service host (flags are signalled by deleting them). */
export interface ServiceFlags {
  /** Deleted by the service host once the service has started. */
  start: string;
  /** Deleted by the leader to tell the service to stop. */
  terminate: string;
  /** Deleted by the leader to tell the service to stop because its client failed. */
  error: string;
}

/**
 * The configuration values a description uses: requirement defaults, retry count and backoff, and
 * memory doubling (a subset of the workflow `Config`).
 */
export interface JobDescriptionConfig extends RequirementDefaults {
  /** `--retryCount` (default 1: two tries). */
  retryCount: number;
  /** `--retryBackoffSeconds` (default 2). */
  retryBackoffSeconds?: number;
  /** `--retryBackoffFactor` (default 3). */
  retryBackoffFactor?: number;
  /** `--doubleMem`: double memory after a job is killed for exceeding it. */
  doubleMem?: boolean;
  /** `--enableUnlimitedPreemptibleRetries`: do not charge a retry when a preemptible job is lost. */
  enableUnlimitedPreemptibleRetries?: boolean;
}

/** Options of the {@link JobDescription} constructor. */
export interface JobDescriptionOptions {
  /** Requirements; unset ones take the workflow defaults. */
  requirements?: RequirementsInput;
  /** The job's name: its class or function name. */
  jobName: string;
  /** Extra name, e.g. a sample id (default: none). */
  unitName?: string;
  /** Name shown in logs and status (default: `jobName`). */
  displayName?: string;
  /** Run this job on the leader's machine when possible. */
  local?: boolean;
  /** Id; default: a fresh temporary id. */
  id?: string;
  /** Make it a checkpoint job (see {@link JobDescription.checkpoint}). */
  checkpoint?: boolean;
}

/** The JSON form of a JobDescription (format {@link JOB_DESCRIPTION_FORMAT}). Empty fields are omitted. */
export interface JobDescriptionJSON {
  /** Format tag, {@link JOB_DESCRIPTION_FORMAT}. */
  format: typeof JOB_DESCRIPTION_FORMAT;
  /** See {@link JobDescription.id}. */
  id: string;
  /** See {@link JobDescription.jobName}. */
  jobName: string;
  /** See {@link JobDescription.unitName}; omitted when empty. */
  unitName?: string;
  /** See {@link JobDescription.displayName}; omitted when it equals `jobName`. */
  displayName?: string;
  /** Requirements set explicitly on the job (the others come from the workflow defaults). */
  requirements?: Partial<Requirements>;
  /** See {@link JobDescription.local}. */
  local?: boolean;
  /** What to run (module, export and serialized data); absent once the job has run. */
  body?: JobBody;
  /** Tries left, when it differs from the configured count. */
  remainingTryCount?: number;
  /** Delay before the next retry, when one is pending. */
  retryBackoffSeconds?: number;
  /** See {@link JobDescription.filesToDelete}. */
  filesToDelete?: string[];
  /** The last jobs that ran chained in this description (at most {@link MAX_CHAIN_LINKS_KEPT}). */
  chain?: ChainLink[];
  /** Links of the chain older than those kept in `chain` (only their count is kept). */
  chainDropped?: number;
  /** Id of the job this description first belonged to, when chaining gave it another job's id. */
  originalId?: string;
  /** See {@link JobDescription.predecessorNumber}. */
  predecessorNumber?: number;
  /** Ids of the job's children. */
  childIds?: string[];
  /** Ids of the job's follow-ons. */
  followOnIds?: string[];
  /** Successor phases adopted from chained jobs. */
  adoptedPhases?: string[][];
  /** Service host id to the ids of its child service hosts. */
  serviceTree?: Record<string, string[]>;
  /** See {@link JobDescription.logFileId}. */
  logFileId?: string;
  /** See {@link JobDescription.version}. */
  version: number;
  /** See {@link JobDescription.versionWriter}. */
  versionWriter?: string;
  /** See {@link JobDescription.checkpoint}. */
  checkpoint?: boolean;
  /** See {@link JobDescription.checkpointBody}. */
  checkpointBody?: JobBody;
  /** See {@link JobDescription.checkpointFilesToDelete}. */
  checkpointFilesToDelete?: string[];
  /** True for a service host job. */
  service?: boolean;
  /** See {@link JobDescription.serviceFlags}. */
  serviceFlags?: ServiceFlags;
}

/**
 * A job description's JSON document as read from (or about to be written to) a job store: a
 * {@link JobDescriptionJSON} whose bodies may still be {@link JobBodyText}.
 */
export type StoredJobDescriptionJSON = Omit<JobDescriptionJSON, "body" | "checkpointBody"> & {
  /** See {@link JobDescriptionJSON.body}. */
  body?: StoredJobBody;
  /** See {@link JobDescriptionJSON.checkpointBody}. */
  checkpointBody?: StoredJobBody;
};

function freezeIds(ids: Iterable<string>): string[] {
  return [...ids];
}

// Shared empty collections of descriptions that have none of their own (frozen, so a write that
// forgot to take its own copy fails loudly; the map is never written: see #ownServiceTree).
const NO_IDS: string[] = Object.freeze([]) as unknown as string[];
const NO_PHASES: string[][] = Object.freeze([]) as unknown as string[][];
const NO_CHAIN: ChainLink[] = Object.freeze([]) as unknown as ChainLink[];
const NO_SERVICE_TREE: Map<string, string[]> = new Map();

/** Stores all the information that the leader ever needs to know about a job. */
export class JobDescription {
  /** The job's id: temporary (see {@link isTemporaryJobId}) until the job is saved. */
  id: string;
  /** The job's name: its class or function name. */
  jobName: string;
  /** Extra name, e.g. a sample id (empty when none). */
  unitName: string;
  /** Name shown in logs and status. */
  displayName: string;
  /** Run this job on the leader's machine when possible. */
  local: boolean;
  /** Number of predecessor edges into this job (a job added under two parents has 2). */
  predecessorNumber = 0;
  /** Leader memory (never serialized): predecessors that have reached the phase containing this job. */
  get predecessorsFinished(): Set<string> {
    // Made on first use: a worker's new jobs never need it, and a set each cost a fan-out of a million jobs 100 MB.
    return (this.#predecessorsFinished ??= new Set<string>());
  }
  /** Job-store file ids to delete once this description's update is committed (a journal). */
  filesToDelete: string[] = [];
  /** Id of a job-store file holding the log of this job's last failed attempt. */
  logFileId: string | undefined;
  /** Incremented by {@link preUpdateHook} on every write to the job store. */
  version = 0;
  /** Who wrote the current version (e.g. `host:pid`), for diagnostics. */
  versionWriter: string | undefined;
  /** Checkpoint job: reruns (with its subtree deleted) when a successor fails for good. */
  readonly checkpoint: boolean;
  /** For checkpoints: files deleted only when the checkpoint's subtree completes. */
  checkpointFilesToDelete: string[] = [];
  /** Whether this job hosts a service (a service host cannot have successors or services). */
  isService = false;
  /** For service hosts: the flag files. */
  serviceFlags: ServiceFlags | undefined;

  #predecessorsFinished: Set<string> | undefined;
  #explicit: Partial<Requirements>;
  #config: JobDescriptionConfig | RequirementDefaults | undefined;
  // A body loaded from a large stored document stays its text until someone asks for it (see stored-document.ts).
  #body: StoredJobBody | undefined;
  #checkpointBody: StoredJobBody | undefined;
  #remainingTryCount: number | undefined;
  #retryBackoffSeconds: number | undefined;
  // The collections below start as shared empty ones and get their own on the first write: a
  // worker's fan-out makes a million descriptions, most of which never have successors.
  #childIds: string[] = NO_IDS;
  #followOnIds: string[] = NO_IDS;
  /** Phases adopted from jobs this one replaced by chaining; index 0 runs last. */
  #adoptedPhases: string[][] = NO_PHASES;
  /** Service host id -> ids of its child service hosts. Every host is a key. */
  #serviceTree: Map<string, string[]> = NO_SERVICE_TREE;
  #chain: ChainLink[] = NO_CHAIN;
  #chainDropped = 0;
  #originalId: string | undefined;

  constructor(options: JobDescriptionOptions) {
    this.id = options.id ?? newTemporaryJobId();
    this.jobName = options.jobName;
    this.unitName = options.unitName ?? "";
    this.displayName = options.displayName ?? options.jobName;
    this.local = options.local ?? false;
    this.checkpoint = options.checkpoint ?? false;
    this.#explicit = parseRequirements(options.requirements ?? {}, this.displayName);
  }

  // ---------------------------------------------------------------- requirements (Requirer)

  /** Set the configuration that supplies defaults (requirements, retry count). */
  assignConfig(config: JobDescriptionConfig | RequirementDefaults): void {
    this.#config = config;
  }

  /** The assigned configuration, if any. */
  get config(): JobDescriptionConfig | RequirementDefaults | undefined {
    return this.#config;
  }

  /** Only the requirements set explicitly (not defaulted). */
  get requirements(): Partial<Requirements> {
    return structuredClone(this.#explicit);
  }

  /** Change requirements (parsed like the constructor's). */
  setRequirements(input: RequirementsInput): void {
    Object.assign(this.#explicit, parseRequirements(input, this.displayName));
  }

  /** All requirements, unset ones from the assigned config (or Toil's defaults when `defaults` is given explicitly). */
  resolvedRequirements(defaults?: RequirementDefaults): Requirements {
    const d = defaults ?? this.#config;
    if (d === undefined) {
      const missing = (["cores", "memory", "disk", "accelerators", "preemptible"] as const).filter(
        (k) => this.#explicit[k] === undefined,
      );
      if (missing.length > 0) throw this.#noConfig(missing[0] as string);
      return this.#explicit as Requirements;
    }
    return resolveRequirements(this.#explicit, d);
  }

  #noConfig(field: string): ToilError {
    return new JobUsageError(
      `Job ${this}: ${field} is not set and no configuration was assigned to provide a default; ` +
        `call assignConfig(config) first.`,
    );
  }

  #get<K extends keyof Requirements>(field: K): Requirements[K] {
    const v = this.#explicit[field];
    if (v !== undefined) return v;
    if (this.#config === undefined) throw this.#noConfig(field);
    return resolveRequirements({}, this.#config)[field];
  }

  /** Cores the job needs (its own value, else the workflow default); setting it parses like a requirement. */
  get cores(): number {
    return this.#get("cores");
  }
  /** Sets the job's own cores requirement (parsed and checked like a requirement input). */
  set cores(v: number | string) {
    this.setRequirements({ cores: v });
  }
  /** Memory in bytes the job needs; set a number or a size such as `"2Gi"`. */
  get memory(): number {
    return this.#get("memory");
  }
  /** Sets the job's own memory requirement (parsed and checked like a requirement input). */
  set memory(v: number | string) {
    this.setRequirements({ memory: v });
  }
  /** Local disk in bytes the job needs; set a number or a size such as `"10Gi"`. */
  get disk(): number {
    return this.#get("disk");
  }
  /** Sets the job's own disk requirement (parsed and checked like a requirement input). */
  set disk(v: number | string) {
    this.setRequirements({ disk: v });
  }
  /** Accelerators (e.g. GPUs) the job needs; set a list or specs such as `"cuda:1"`. */
  get accelerators(): AcceleratorRequirement[] {
    return this.#get("accelerators");
  }
  /** Sets the job's own accelerators requirement (parsed and checked like a requirement input). */
  set accelerators(v: RequirementsInput["accelerators"] & {}) {
    this.setRequirements({ accelerators: v });
  }
  /** Whether the job may run on preemptible (spot) capacity. */
  get preemptible(): boolean {
    return this.#get("preemptible");
  }
  /** Sets the job's own preemptible requirement (parsed and checked like a requirement input). */
  set preemptible(v: boolean | number | string) {
    this.setRequirements({ preemptible: v });
  }

  /** What the leader logs, e.g. `disk: 2.0 Gi, memory: 2.0 Gi, cores: 1, accelerators: [], preemptible: false`. */
  requirementsString(): string {
    return requirementsString(this.resolvedRequirements());
  }

  // ---------------------------------------------------------------- body

  /** True until the job has run (its body is removed when it completes). */
  hasBody(): boolean {
    return this.#body !== undefined;
  }

  /** The body, parsed (once) if it is still the text it was stored as. */
  #parsedBody(): JobBody | undefined {
    if (this.#body instanceof JobBodyText) this.#body = this.#body.parse();
    return this.#body;
  }

  /** Attach the job's body (what the worker runs). */
  attachBody(body: JobBody): void {
    this.#body = body;
  }

  /** Drop the body: the job has run. (For a checkpoint, the body is kept in {@link checkpointBody}.) */
  detachBody(): void {
    this.#body = undefined;
  }

  /** The body; fails if none (check {@link hasBody} first). */
  getBody(): JobBody {
    const body = this.#parsedBody();
    if (body === undefined) throw new JobUsageError(`Job ${this} has no body: it has already run.`);
    return body;
  }

  /** For a checkpoint that ran: its body, kept to rerun it (parsed on first use; see {@link hasCheckpointBody}). */
  get checkpointBody(): JobBody | undefined {
    if (this.#checkpointBody instanceof JobBodyText) this.#checkpointBody = this.#checkpointBody.parse();
    return this.#checkpointBody;
  }
  /** Sets (or, with undefined, clears) the body a checkpoint reruns. */
  set checkpointBody(body: JobBody | undefined) {
    this.#checkpointBody = body;
  }

  /** Whether a checkpoint body is kept (without parsing a body still held as its stored text). */
  hasCheckpointBody(): boolean {
    return this.#checkpointBody !== undefined;
  }

  /** For a checkpoint job about to run: remember its body so it can rerun. */
  setCheckpoint(): void {
    if (!this.checkpoint) throw new JobUsageError(`Job ${this} is not a checkpoint job.`);
    if (this.#body === undefined) throw new JobUsageError(`Job ${this} has no body: it has already run.`);
    this.#checkpointBody = this.#body;
  }

  /**
   * Restart a checkpoint whose subtree failed: restore its body and forget all successors and
   * services. Returns the ids of the successors and service hosts that the caller must delete
   * from the job store (recursively).
   */
  restartCheckpoint(): string[] {
    if (!this.checkpoint || this.#checkpointBody === undefined) {
      throw new JobUsageError(`Job ${this} is not a checkpoint that has run; it cannot be restarted.`);
    }
    const doomed = [...this.successorsAndServiceHosts()];
    this.#body = this.#checkpointBody;
    this.#childIds = NO_IDS;
    this.#followOnIds = NO_IDS;
    this.#adoptedPhases = NO_PHASES;
    this.#serviceTree = NO_SERVICE_TREE;
    return doomed;
  }

  // ---------------------------------------------------------------- successors

  /** Make `childId` a child (runs after this job, in parallel with the other children). */
  addChild(childId: string): void {
    this.#assertCanHaveSuccessors("a child");
    if (this.#childIds === NO_IDS) this.#childIds = [];
    this.#childIds.push(childId);
  }

  /** Make `followOnId` a follow-on (runs after this job's children and their whole subtrees). */
  addFollowOn(followOnId: string): void {
    this.#assertCanHaveSuccessors("a follow-on");
    if (this.#followOnIds === NO_IDS) this.#followOnIds = [];
    this.#followOnIds.push(followOnId);
  }

  /** Add a service host; with `parentServiceId`, it starts after that (already added) service. */
  addServiceHostJob(serviceId: string, parentServiceId?: string): void {
    this.#assertCanHaveSuccessors("a service");
    if (parentServiceId !== undefined) {
      const siblings = this.#serviceTree.get(parentServiceId);
      if (siblings === undefined) {
        throw new JobUsageError(`Job ${this}: parent service ${parentServiceId} must be added before its sub-service ${serviceId}.`);
      }
      siblings.push(serviceId);
    }
    if (!this.#serviceTree.has(serviceId)) this.#ownServiceTree().set(serviceId, []);
  }

  /** The service tree, made this description's own before a write (it starts as the shared empty one). */
  #ownServiceTree(): Map<string, string[]> {
    if (this.#serviceTree === NO_SERVICE_TREE) this.#serviceTree = new Map();
    return this.#serviceTree;
  }

  #assertCanHaveSuccessors(what: string): void {
    if (this.isService) throw new JobUsageError(`Service host job ${this} cannot have ${what}.`);
  }

  /** Whether `childId` is one of the job's children. */
  hasChild(childId: string): boolean {
    return this.#childIds.includes(childId);
  }
  /** Whether `followOnId` is one of the job's follow-ons. */
  hasFollowOn(followOnId: string): boolean {
    return this.#followOnIds.includes(followOnId);
  }
  /** Whether `serviceId` is one of the job's service hosts. */
  hasServiceHostJob(serviceId: string): boolean {
    return this.#serviceTree.has(serviceId);
  }

  /** Child ids, in the order added. */
  get childIds(): readonly string[] {
    return this.#childIds;
  }
  /** Follow-on ids, in the order added. */
  get followOnIds(): readonly string[] {
    return this.#followOnIds;
  }

  /** Successor phases as a stack: index 0 runs last; the last phase (children) runs first. */
  get successorPhases(): readonly (readonly string[])[] {
    return [...this.#adoptedPhases, this.#followOnIds, this.#childIds];
  }

  /** Every successor with its phase number; higher numbers run first. */
  *successorsByPhase(): Generator<[phase: number, id: string]> {
    const phases = this.successorPhases;
    for (let i = 0; i < phases.length; i++) for (const id of phases[i] ?? []) yield [i, id];
  }

  /** Every child, follow-on and adopted successor id (follow-ons before children). */
  *allSuccessors(): Generator<string> {
    for (const [, id] of this.successorsByPhase()) yield id;
  }

  /** Every successor and service host id. */
  *successorsAndServiceHosts(): Generator<string> {
    yield* this.allSuccessors();
    yield* this.#serviceTree.keys();
  }

  /**
   * The successors that may run next: an empty set while the job still has a body (it must run
   * first), `undefined` when no successor is left, else the top non-empty phase (children before
   * follow-ons before adopted phases). Jobs with other predecessors may still have to wait.
   */
  nextSuccessors(): Set<string> | undefined {
    if (this.hasBody()) return new Set();
    const phases = this.successorPhases;
    for (let i = phases.length - 1; i >= 0; i--) {
      const phase = phases[i];
      if (phase !== undefined && phase.length > 0) return new Set(phase);
    }
    return undefined;
  }

  /** Keep only successors the predicate approves (others are finished); drops emptied adopted phases. */
  filterSuccessors(keep: (id: string) => boolean): void {
    if (this.#childIds.length > 0) this.#childIds = this.#childIds.filter(keep);
    if (this.#followOnIds.length > 0) this.#followOnIds = this.#followOnIds.filter(keep);
    if (this.#adoptedPhases.length > 0) this.#adoptedPhases = this.#adoptedPhases.map((p) => p.filter(keep)).filter((p) => p.length > 0);
  }

  /** Keep only service hosts the predicate approves (others are finished). */
  filterServiceHosts(keep: (id: string) => boolean): void {
    if (this.#serviceTree.size === 0) return;
    for (const id of [...this.#serviceTree.keys()]) if (!keep(id)) this.#serviceTree.delete(id);
    for (const [id, kids] of this.#serviceTree) this.#serviceTree.set(id, kids.filter(keep));
  }

  /** Drop references to successors and services that no longer exist (they completed). */
  clearNonexistentDependents(exists: (id: string) => boolean): void {
    this.filterSuccessors(exists);
    this.filterServiceHosts(exists);
  }

  /**
   * Move every successor and service of `other` to this job (used when a promised-requirements shell
   * hands its place in the graph to the real job). `other` is left with none.
   */
  adoptSuccessorsOf(other: JobDescription): void {
    this.#childIds = [...this.#childIds, ...other.#childIds];
    this.#followOnIds = [...this.#followOnIds, ...other.#followOnIds];
    this.#adoptedPhases = [...other.#adoptedPhases, ...this.#adoptedPhases];
    for (const [id, kids] of other.#serviceTree) this.#ownServiceTree().set(id, [...kids]);
    other.#childIds = NO_IDS;
    other.#followOnIds = NO_IDS;
    other.#adoptedPhases = NO_PHASES;
    other.#serviceTree = NO_SERVICE_TREE;
  }

  /** True when the job has run and every successor and service is finished and gone. */
  isSubtreeDone(): boolean {
    return !this.hasBody() && this.nextSuccessors() === undefined && this.#serviceTree.size === 0;
  }

  // ---------------------------------------------------------------- services

  /** Ids of the unfinished service hosts of this job. */
  get services(): string[] {
    return [...this.#serviceTree.keys()];
  }

  /** The service tree: host id -> ids of the sub-services that start after it. */
  get serviceTree(): ReadonlyMap<string, readonly string[]> {
    return this.#serviceTree;
  }

  /** Batches of service hosts that can start together, in start order (roots first). */
  *serviceHostIdsInBatches(): Generator<string[]> {
    const children = new Set<string>();
    for (const kids of this.#serviceTree.values()) for (const k of kids) children.add(k);
    let batch = [...this.#serviceTree.keys()].filter((id) => !children.has(id));
    while (batch.length > 0) {
      yield batch;
      batch = batch.flatMap((id) => this.#serviceTree.get(id) ?? []).filter((id) => this.#serviceTree.has(id));
    }
  }

  // ---------------------------------------------------------------- predecessors

  /** Record one more predecessor edge into this job. */
  addPredecessor(): void {
    this.predecessorNumber++;
  }

  /**
   * Leader bookkeeping: predecessor `id` has reached the phase containing this job. Returns true
   * when every predecessor has (the job may be issued).
   */
  markPredecessorFinished(id: string): boolean {
    this.predecessorsFinished.add(id);
    return this.predecessorsFinished.size >= this.predecessorNumber;
  }

  // ---------------------------------------------------------------- ids, chaining

  /** Apply id renames (temporary id -> real id) to every reference to other jobs (and to our own id). */
  renameReferences(renames: ReadonlyMap<string, string> | Readonly<Record<string, string>>): void {
    const get =
      renames instanceof Map
        ? (id: string) => renames.get(id) ?? id
        : (id: string) => (renames as Record<string, string>)[id] ?? id;
    const rename = (ids: string[]) => (ids.length === 0 ? ids : ids.map(get));
    this.#childIds = rename(this.#childIds);
    this.#followOnIds = rename(this.#followOnIds);
    if (this.#adoptedPhases.length > 0) this.#adoptedPhases = this.#adoptedPhases.map(rename);
    if (this.#serviceTree.size > 0) this.#serviceTree = new Map([...this.#serviceTree].map(([id, kids]) => [get(id), rename(kids)]));
  }

  /** The original id of this job (differs from {@link id} after it replaced another job by chaining). */
  get originalId(): string {
    return this.#originalId ?? this.id;
  }

  /**
   * Take on the id (and version) of `other`, which this job is being chained from: adopt its
   * remaining successor phases (except this job) below our own, its cleanup journal and its chain.
   */
  replace(other: JobDescription): void {
    const own = { jobName: this.jobName, unitName: this.unitName, displayName: this.displayName, id: this.originalId };
    const adopted = other.successorPhases.map((p) => p.filter((id) => id !== this.id && id !== own.id)).filter((p) => p.length > 0);
    this.#adoptedPhases = [...adopted, ...this.#adoptedPhases];
    this.filesToDelete = [...other.filesToDelete, ...this.filesToDelete];
    const chain = [...other.getChain(), ...this.#chain];
    const drop = Math.max(0, chain.length - MAX_CHAIN_LINKS_KEPT);
    this.#chain = drop > 0 ? chain.slice(drop) : chain;
    this.#chainDropped += other.#chainDropped + drop;
    this.#originalId = own.id;
    this.id = other.id;
    this.version = other.version;
    this.versionWriter = other.versionWriter;
  }

  /**
   * The jobs that ran in this job's chain, in execution order (a one-item list if it never chained).
   * A long chain keeps only its last {@link MAX_CHAIN_LINKS_KEPT} links before this job, so a chain
   * of a thousand links does not rewrite a thousand-entry list at every link; {@link chainLength}
   * counts every link.
   */
  getChain(): ChainLink[] {
    return [
      ...this.#chain,
      { jobName: this.jobName, unitName: this.unitName, displayName: this.displayName, id: this.originalId },
    ];
  }

  /** How many jobs ran in this job's chain, this one included. */
  get chainLength(): number {
    return this.#chainDropped + this.#chain.length + 1;
  }

  // ---------------------------------------------------------------- versions

  /** Called by the job store before every create/update: bumps the version. */
  preUpdateHook(writer?: string): void {
    this.version++;
    this.versionWriter = writer;
  }

  /** True if `other` is a distinct, newer version of this same job. */
  isUpdatedBy(other: JobDescription): boolean {
    return other.id === this.id && other.version > this.version;
  }

  /** Fail if this description is newer than `other` (a prospective new version of it). */
  assertIsNotNewerThan(other: JobDescription): void {
    if (this.version > other.version) {
      throw new JobVersionError(
        `Job ${this} is newer than the version it is being replaced with (v${other.version}${other.versionWriter ? ` by ${other.versionWriter}` : ""}).`,
      );
    }
  }

  // ---------------------------------------------------------------- retries

  #retryConfig(): JobDescriptionConfig {
    const c = this.#config as JobDescriptionConfig | undefined;
    if (c === undefined || typeof c.retryCount !== "number") {
      throw new JobUsageError(`Job ${this}: no configuration with retryCount was assigned; call assignConfig(config) first.`);
    }
    return c;
  }

  /** Tries left: the stored count, or `retryCount + 1` from the config. */
  get remainingTryCount(): number {
    return this.#remainingTryCount ?? this.#retryConfig().retryCount + 1;
  }
  /** Sets the tries left (stored with the description). */
  set remainingTryCount(n: number) {
    this.#remainingTryCount = n;
  }

  /** Forget the stored try count and backoff (back to the config's). Returns true if anything changed. */
  clearRemainingTryCount(): boolean {
    const changed = this.#remainingTryCount !== undefined || this.#retryBackoffSeconds !== undefined;
    this.#remainingTryCount = undefined;
    this.#retryBackoffSeconds = undefined;
    return changed;
  }

  /** Seconds to wait before the next retry (0 if the job has not failed yet). */
  get retryBackoffSeconds(): number {
    return this.#retryBackoffSeconds ?? 0;
  }

  /** Use up one try (never below 0) and grow the backoff. Returns the tries left. */
  chargeRetry(): number {
    const c = this.#retryConfig();
    this.#remainingTryCount = Math.max(0, this.remainingTryCount - 1);
    const base = c.retryBackoffSeconds ?? 2;
    const factor = c.retryBackoffFactor ?? 3;
    this.#retryBackoffSeconds = this.#retryBackoffSeconds === undefined ? base : this.#retryBackoffSeconds * factor;
    return this.#remainingTryCount;
  }

  /**
   * Prepare the job for another attempt after a failed one: charge a retry (unless unlimited
   * preemptible retries are on and it was lost), double memory after a memory-limit kill when
   * `doubleMem` is set, and raise memory and disk to at least the configured defaults.
   * `exitReason` is why the batch system says the last attempt stopped, if it knows.
   */
  setupJobAfterFailure(exitStatus?: number, exitReason?: BatchJobExitReason | null): void {
    void exitStatus;
    const c = this.#retryConfig();
    if (!(c.enableUnlimitedPreemptibleRetries === true && exitReason === BatchJobExitReason.LOST)) this.chargeRetry();
    if (exitReason === BatchJobExitReason.MEMLIMIT && c.doubleMem === true) this.#explicit.memory = this.memory * 2;
    this.#explicit.memory = Math.max(this.memory, c.defaultMemory);
    this.#explicit.disk = Math.max(this.disk, c.defaultDisk);
  }

  // ---------------------------------------------------------------- display & JSON

  /** `'<jobName>' <unitName> <id> v<version>`. */
  toString(): string {
    return `'${this.jobName}'${this.unitName ? ` ${this.unitName}` : ""} ${this.id} v${this.version}`;
  }

  /**
   * Versioned JSON (see {@link JobDescriptionJSON}); empty fields omitted. A body still held as its
   * stored text is parsed for the document (the description keeps the text).
   */
  toJSON(): JobDescriptionJSON {
    const j = this.toStoredJSON();
    if (j.body instanceof JobBodyText) j.body = j.body.parse();
    if (j.checkpointBody instanceof JobBodyText) j.checkpointBody = j.checkpointBody.parse();
    return j as JobDescriptionJSON;
  }

  /**
   * The document to store: {@link toJSON}'s, except that a body still held as the text it was
   * loaded as stays a {@link JobBodyText} (nothing is parsed; `jobDocumentData` writes it back
   * unchanged).
   */
  toStoredJSON(): StoredJobDescriptionJSON {
    const j: StoredJobDescriptionJSON = { format: JOB_DESCRIPTION_FORMAT, id: this.id, jobName: this.jobName, version: this.version };
    if (this.unitName) j.unitName = this.unitName;
    if (this.displayName !== this.jobName) j.displayName = this.displayName;
    if (Object.keys(this.#explicit).length > 0) j.requirements = structuredClone(this.#explicit);
    if (this.local) j.local = true;
    if (this.#body !== undefined) j.body = this.#body;
    if (this.#remainingTryCount !== undefined) j.remainingTryCount = this.#remainingTryCount;
    if (this.#retryBackoffSeconds !== undefined) j.retryBackoffSeconds = this.#retryBackoffSeconds;
    if (this.filesToDelete.length > 0) j.filesToDelete = freezeIds(this.filesToDelete);
    if (this.#chain.length > 0) j.chain = this.#chain.map((l) => ({ ...l }));
    if (this.#chainDropped > 0) j.chainDropped = this.#chainDropped;
    if (this.#originalId !== undefined) j.originalId = this.#originalId;
    if (this.predecessorNumber !== 0) j.predecessorNumber = this.predecessorNumber;
    if (this.#childIds.length > 0) j.childIds = freezeIds(this.#childIds);
    if (this.#followOnIds.length > 0) j.followOnIds = freezeIds(this.#followOnIds);
    if (this.#adoptedPhases.length > 0) j.adoptedPhases = this.#adoptedPhases.map(freezeIds);
    if (this.#serviceTree.size > 0) j.serviceTree = Object.fromEntries([...this.#serviceTree].map(([k, v]) => [k, [...v]]));
    if (this.logFileId !== undefined) j.logFileId = this.logFileId;
    if (this.versionWriter !== undefined) j.versionWriter = this.versionWriter;
    if (this.checkpoint) j.checkpoint = true;
    if (this.#checkpointBody !== undefined) j.checkpointBody = this.#checkpointBody;
    if (this.checkpointFilesToDelete.length > 0) j.checkpointFilesToDelete = [...this.checkpointFilesToDelete];
    if (this.isService) j.service = true;
    if (this.serviceFlags !== undefined) j.serviceFlags = { ...this.serviceFlags };
    return j;
  }

  /**
   * Rebuild from {@link toJSON}'s or {@link toStoredJSON}'s output: an object, a JSON string, or
   * UTF-8 JSON bytes (read by `readJobDocument`: a large document's bodies stay their text until used).
   */
  static fromJSON(input: unknown): JobDescription {
    const json = typeof input === "string" ? (JSON.parse(input) as unknown) : input instanceof Uint8Array ? readJobDocument(input) : input;
    const bad = (what: string): never => {
      throw new JobDescriptionFormatError(`Not a valid serialized JobDescription: ${what}.`);
    };
    if (json === null || typeof json !== "object") return bad("expected an object");
    const j = json as Partial<StoredJobDescriptionJSON> & { format?: unknown };
    if (j.format !== JOB_DESCRIPTION_FORMAT) {
      return bad(
        `unsupported format ${JSON.stringify(j.format)} (this version of @toil/job reads format ${JOB_DESCRIPTION_FORMAT}); ` +
          `the job store was written by a different toil-ts version`,
      );
    }
    if (typeof j.id !== "string" || j.id === "") bad("missing 'id'");
    if (typeof j.jobName !== "string") bad("missing 'jobName'");
    if (typeof j.version !== "number") bad("missing 'version'");
    const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === "string");
    for (const key of ["childIds", "followOnIds", "filesToDelete", "checkpointFilesToDelete"] as const) {
      if (j[key] !== undefined && !isStrings(j[key])) bad(`'${key}' must be a list of ids`);
    }
    if (j.adoptedPhases !== undefined && !(Array.isArray(j.adoptedPhases) && j.adoptedPhases.every(isStrings))) {
      bad("'adoptedPhases' must be a list of lists of ids");
    }
    const d = new JobDescription({
      id: j.id as string,
      jobName: j.jobName as string,
      unitName: j.unitName ?? "",
      displayName: j.displayName ?? (j.jobName as string),
      local: j.local === true,
      checkpoint: j.checkpoint === true,
    });
    d.#explicit = j.requirements ? structuredClone(j.requirements) : {};
    d.#body = j.body;
    d.#remainingTryCount = j.remainingTryCount;
    d.#retryBackoffSeconds = j.retryBackoffSeconds;
    d.filesToDelete = [...(j.filesToDelete ?? [])];
    d.#chain = (j.chain ?? []).map((l) => ({ ...l }));
    d.#chainDropped = j.chainDropped ?? 0;
    d.#originalId = j.originalId;
    d.predecessorNumber = j.predecessorNumber ?? 0;
    d.#childIds = [...(j.childIds ?? [])];
    d.#followOnIds = [...(j.followOnIds ?? [])];
    d.#adoptedPhases = (j.adoptedPhases ?? []).map((p) => [...p]);
    d.#serviceTree = new Map(Object.entries(j.serviceTree ?? {}).map(([k, v]) => [k, [...v]]));
    d.logFileId = j.logFileId;
    d.version = j.version as number;
    d.versionWriter = j.versionWriter;
    d.#checkpointBody = j.checkpointBody;
    d.checkpointFilesToDelete = [...(j.checkpointFilesToDelete ?? [])];
    d.isService = j.service === true;
    d.serviceFlags = j.serviceFlags;
    return d;
  }

  /** A deep copy (leader-only state such as predecessorsFinished is not copied; the config is). */
  clone(): JobDescription {
    // A body held as text is never changed in place, so the copy may share it.
    const { body, checkpointBody, ...rest } = this.toStoredJSON();
    const copyOf = (b: StoredJobBody | undefined) => (b instanceof JobBodyText ? b : structuredClone(b));
    const copy = JobDescription.fromJSON({ ...structuredClone(rest), body: copyOf(body), checkpointBody: copyOf(checkpointBody) });
    if (this.#config !== undefined) copy.assignConfig(this.#config);
    return copy;
  }
}
