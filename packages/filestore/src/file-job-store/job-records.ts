/**
 * Job records of a file job store: job descriptions, the results of finished jobs, the root job's
 * id, and the groups of writes (`batch`) a worker commits a job with.
 *
 * Every change is an entry in this process's commit log (`log/g<generation>-<writer>.log`); a group
 * of changes is one append, and it is committed when that append is synced (one fdatasync shared
 * by every group appended before it starts). Readers merge every log with the documents already
 * folded into files (`jobs/`, `results/`); see the README for the argument.
 * (Over 600 lines: one class over one view of the logs, whose reads and writes share its batch and
 * version state; the parts that stand alone are in job-index, folded-files, fold and restart-clean.)
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import {
  JobBodyText,
  JobDescription,
  type JobDescriptionJSON,
  type StoredJobDescriptionJSON,
  isTemporaryJobId,
  jobDocumentData,
  newJobId,
  readJobDocument,
} from "@toil/job/core";
import { DamagedJobError, DamagedJobStoreFileError, InvalidIdError, JobStoreError, NoSuchFileError, NoSuchJobError } from "../errors.js";
import { assertJobId } from "../ids.js";
import { isErrno, isTempName, readIfExists, writeFileAtomicSync } from "../internal/fsx.js";
import type { JobStateRecord } from "../job-store.js";
import { EntryKind, RECORD_TARGET_BYTES, type EntryInput, type ScannedEntry } from "../commit-log/record.js";
import { DELETED_VERSION, SlotFlag, type SlotEntry } from "../commit-log/slots.js";
import { LogView, hostTag } from "../commit-log/view.js";
import { currentProcessIdentity } from "../internal/process-info.js";
import { LogWriter, type AppendedGroup } from "../commit-log/writer.js";
import { claimOfferedLog, offerLog } from "../commit-log/handover.js";
import { foldedVersion, parseFolded } from "./folded-files.js";
import { JobStateIndex, jobStateRecordOf } from "./job-index.js";
import { JOB_INDEX, LOG_DIR, SHARDS, type StoreLayout } from "./layout.js";
import type { PendingFileSync } from "./pending-sync.js";

/**
 * The document, or what is wrong with it (for {@link DamagedJobError}). A large document's bodies
 * stay their stored text (see `readJobDocument`): the leader never reads them.
 */
function jobDocProblem(raw: Buffer, id?: string): { doc?: StoredJobDescriptionJSON; problem?: string } {
  if (raw.length === 0) return { problem: "is empty" };
  let doc: StoredJobDescriptionJSON;
  try {
    doc = readJobDocument(raw) as StoredJobDescriptionJSON;
  } catch (err) {
    // Only a format-1 store's new document can be incomplete (created in place, cut by a crash):
    // absent where nothing reaches it; clean() raises DamagedJobError for one the workflow still reaches.
    return { problem: `is not valid JSON (${raw.length} bytes; ${(err as Error).message})` };
  }
  if (typeof doc !== "object" || doc === null || typeof doc.id !== "string") return { problem: "is not a job description (no id)" };
  if (id !== undefined && doc.id !== id) return { problem: `holds job ${JSON.stringify(doc.id)} instead` };
  return { doc };
}

/** A stored document with every body parsed (what tools reading the documents get). */
function parsedDocument(doc: StoredJobDescriptionJSON): JobDescriptionJSON {
  const { body, checkpointBody } = doc;
  if (!(body instanceof JobBodyText) && !(checkpointBody instanceof JobBodyText)) return doc as JobDescriptionJSON;
  const parsed = { ...doc } as JobDescriptionJSON;
  if (body instanceof JobBodyText) parsed.body = body.parse();
  if (checkpointBody instanceof JobBodyText) parsed.checkpointBody = checkpointBody.parse();
  return parsed;
}

/** A group whose new job documents pass this many record sizes is written to the log in parts (see `streamed`). */
const STREAM_RECORDS = 4;

/** The entries just appended, as a scan of the log would find them. */
function scannedOf(entries: readonly EntryInput[], offsets: readonly number[], lengths: readonly number[]): ScannedEntry[] {
  const out: ScannedEntry[] = new Array(entries.length);
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    out[i] = { kind: e.kind, flags: e.create ? 1 : 0, id: e.id, version: e.version, offset: offsets[i]!, length: lengths[i]! };
  }
  return out;
}

/** Placeholder version of a result until its group is committed (see {@link settleResultVersions}). */
const RESULT_VERSION_PENDING = -1;

/**
 * A result's version orders it against another result of the same job (a checkpoint runs again
 * and stores a new one): above the highest description version its group commits (or, for a job
 * the group deletes, the version it had) and above the result this process can see, so a later
 * write always carries a higher version than every earlier one it could have read.
 */
function settleResultVersions(
  entries: EntryInput[],
  docVersion: (id: string) => number | undefined,
  resultVersion: (id: string) => number | undefined,
): void {
  const live = (v: number | undefined) => (v === undefined || v === DELETED_VERSION ? 0 : v);
  let max = 0;
  for (const e of entries) {
    if (e.kind === EntryKind.JobPut) max = Math.max(max, e.version);
    else if (e.kind === EntryKind.JobDelete) max = Math.max(max, live(docVersion(e.id)) + 1);
  }
  for (const e of entries) {
    if (e.kind !== EntryKind.ResultPut || e.version !== RESULT_VERSION_PENDING) continue;
    e.version = Math.max(max, live(docVersion(e.id)), live(resultVersion(e.id)) + 1, 1);
  }
}

/**
 * This process in its log's name: `<pid>.<start ticks>.<boot id prefix>-<random>-<host>`, so a
 * reader on the same machine can tell the log's writer has exited (see `LogView`).
 */
function writerTag(): string {
  const me = currentProcessIdentity();
  return `${me.pid}.${me.startTicks}.${me.bootId.replace(/[^0-9a-f]/g, "").slice(0, 8)}-${randomBytes(4).toString("hex")}-${hostTag()}`;
}

/** Job documents, results and the root job id of one store. */
export class JobRecords {
  private readonly index: JobStateIndex;
  private view: LogView;
  private writer: LogWriter | undefined;
  private generation = 0;
  private batchDepth = 0;
  private batchEntries: EntryInput[] = [];
  /** What a batch does once its group is in the log (removing the files of jobs it deleted). */
  private afterBatch: (() => void)[] = [];
  /**
   * Entries of the open batch already written to the log: a group larger than {@link STREAM_BYTES}
   * (a job that creates a million children) goes out in parts as it is built, the last part with
   * the rest of the group; they take effect (here too) only when it is complete.
   */
  private streamed: { log: string; entries: ScannedEntry[] } | undefined;
  /** Bytes of new job documents in `batchEntries` not yet streamed out. */
  private pendingCreateBytes = 0;
  private readonly streamBytes: number;
  /** This process in its log's name. */
  private readonly tag = writerTag();

  constructor(
    private readonly layout: StoreLayout,
    private readonly durable: boolean,
    private readonly pending: PendingFileSync,
    /** Who writes (recorded in each description by its pre-update hook). */
    private readonly writer_: string,
    private readonly recordBytes?: number,
  ) {
    this.streamBytes = STREAM_RECORDS * (recordBytes ?? RECORD_TARGET_BYTES);
    this.index = new JobStateIndex(layout.p(...JOB_INDEX));
    this.view = new LogView(layout.p(LOG_DIR), 0);
  }

  /**
   * Whether documents and results may be in files of their own: a fold finished (its marker is in
   * the log directory), or the store was written in format 1. Until then everything is in the logs,
   * and lookups that miss them need not look for a file.
   */
  private mayHaveFiles(): boolean {
    return this.formatOneFiles || this.view.foldedGeneration > 0;
  }

  /** The store holds (or held) format-1 files: see {@link mayHaveFiles}. */
  setFormatOneFiles(value: boolean): void {
    this.formatOneFiles = value;
  }

  private formatOneFiles = false;

  /** The generation this process writes and reads in (set when the store is opened, and by the leader lock). */
  setGeneration(generation: number): void {
    this.generation = generation;
    if (this.writer) this.writer.closeSync();
    this.writer = undefined;
    this.view.close();
    this.view = new LogView(this.layout.p(LOG_DIR), generation);
  }

  /** The merged view of the logs (refreshed). */
  refreshedView(): LogView {
    this.view.refresh();
    return this.view;
  }

  /** The view without reading new entries (for callers that just refreshed it). */
  get currentView(): LogView {
    return this.view;
  }

  private logWriter(): LogWriter {
    if (!this.writer || this.writer.isBroken) {
      const first = this.writer === undefined;
      this.writer =
        (first ? this.continueOfferedLog() : undefined) ??
        new LogWriter(this.layout.p(LOG_DIR), `g${this.generation}-${this.tag}.log`, this.durable, this.recordBytes);
    }
    return this.writer;
  }

  /**
   * A log that an earlier process on this machine released, continued after an `Owner` entry naming
   * this process (see commit-log/handover.ts); undefined if none is offered or the one taken cannot
   * be continued (then it stays as its writer left it).
   */
  private continueOfferedLog(): LogWriter | undefined {
    const dir = this.layout.p(LOG_DIR);
    let writer: LogWriter | undefined;
    try {
      // Anything wrong with the offers only means a log of its own.
      const name = claimOfferedLog(dir, this.generation, hostTag());
      if (name === undefined) return undefined;
      const size = fs.statSync(path.join(dir, name)).size;
      // Every entry of the log must be in this process's view before the view counts it as its own.
      this.view.refresh();
      if (!this.view.releasedAt(name, size)) return undefined;
      writer = LogWriter.continuing(dir, name, this.durable, size, this.recordBytes);
      const owner: EntryInput = { kind: EntryKind.Owner, id: `g${this.generation}-${this.tag}.log`, version: 0 };
      const appended = writer.append([owner]);
      this.view.applyOwn(name, scannedOf([owner], appended.offsets, appended.lengths), writer.length);
      return writer;
    } catch {
      writer?.closeSync();
      return undefined;
    }
  }

  // ------------------------------------------------------------------ group writes

  /**
   * Append `entries` as one group: file data written since the last group is made durable first
   * (no record may reach the disk before a file it names), then one append. With `sync`, wait until
   * the log is synced (group commit); without, the group is visible at once and durable with the
   * next sync.
   */
  private async commit(entries: EntryInput[], sync: boolean): Promise<void> {
    const streamed = this.streamed;
    this.streamed = undefined;
    if (entries.length === 0 && !streamed) {
      if (sync) await this.sync();
      return;
    }
    await this.pending.flushAsync();
    if (entries.some((e) => e.kind === EntryKind.ResultPut)) {
      this.view.refresh();
      // Versions held only by folded files count too: a result must outrank the folded one.
      settleResultVersions(
        entries,
        (id) => this.view.docs.versionOf(id) ?? (this.mayHaveFiles() ? foldedVersion(this.layout.jobPath(id)) : undefined),
        (id) => this.view.results.versionOf(id) ?? (this.mayHaveFiles() ? foldedVersion(this.layout.resultPath(id)) : undefined),
      );
    }
    const writer = this.logWriter();
    if (streamed && streamed.log !== writer.name) {
      throw new JobStoreError(`The commit log ${streamed.log} failed in the middle of a group; the group was not committed.`);
    }
    let appended: AppendedGroup;
    try {
      appended = writer.append(entries);
    } catch (err) {
      // The first parts of the group are in the log: drop them, or stop using this log.
      if (streamed) {
        try {
          writer.abortGroup();
        } catch {
          writer.retire();
        }
      }
      throw err;
    }
    const scanned = scannedOf(entries, appended.offsets, appended.lengths);
    this.view.applyOwn(appended.log, streamed ? streamed.entries.concat(scanned) : scanned, writer.length);
    if (sync) await writer.sync();
  }

  /**
   * Write the new job documents collected so far as the next part of the open batch's group (see
   * {@link streamed}). Results and updates stay for the last part (their versions are settled there).
   */
  private async streamOut(): Promise<void> {
    const creates = this.batchEntries.filter((e) => e.kind === EntryKind.JobPut && e.create);
    if (creates.length === 0) return;
    this.batchEntries = this.batchEntries.filter((e) => !(e.kind === EntryKind.JobPut && e.create));
    this.pendingCreateBytes = 0;
    // File data the documents may name is durable before any of them is in the log.
    await this.pending.flushAsync();
    const writer = this.logWriter();
    const appended = writer.append(creates, true);
    const scanned = scannedOf(creates, appended.offsets, appended.lengths);
    if (this.streamed) for (const e of scanned) this.streamed.entries.push(e);
    else this.streamed = { log: appended.log, entries: scanned };
  }

  /**
   * Release this process's log for the next process on this machine to continue (see
   * commit-log/handover.ts), sync it and close every log file. A log in the middle of a group is
   * sealed instead: readers stop looking at it.
   */
  async close(): Promise<void> {
    let offered: string | undefined;
    if (this.writer && !this.writer.isBroken && this.writer.length > 0) {
      if (this.streamed) {
        this.writer.append([{ kind: EntryKind.Seal, id: "s", version: 0 }]);
      } else {
        this.writer.append([{ kind: EntryKind.Release, id: "r", version: 0 }]);
        offered = this.writer.name;
      }
    }
    await this.sync();
    this.writer?.closeSync();
    this.writer = undefined;
    this.view.close();
    if (offered !== undefined) offerLog(this.layout.p(LOG_DIR), offered);
  }

  /** fdatasync the log holding a job's newest entry (written by another process, maybe not yet synced). */
  async syncLogHolding(jobId: string): Promise<void> {
    const slot = this.refreshedView().docs.get(assertJobId(jobId));
    if (!slot || !this.durable) return;
    await this.view.syncLog(slot.log);
  }

  /** Make every change this process appended durable. */
  async sync(): Promise<void> {
    await this.pending.flushAsync();
    if (this.writer) await this.writer.sync();
  }

  private entryOf(job: JobDescription, create: boolean): EntryInput {
    assertJobId(job.id);
    if (isTemporaryJobId(job.id)) {
      throw new InvalidIdError("job id", job.id, "the job still has a temporary id: call assignJobId(job) first");
    }
    job.preUpdateHook(this.writer_);
    // A body the description still holds as its stored text is written back byte for byte.
    const doc = job.toStoredJSON();
    return { kind: EntryKind.JobPut, id: job.id, version: job.version, aux: JSON.stringify(jobStateRecordOf(doc)), data: jobDocumentData(doc), create };
  }

  private async write(entry: EntryInput, sync: boolean): Promise<void> {
    if (this.batchDepth > 0) this.batchEntries.push(entry);
    else await this.commit([entry], sync);
  }

  async batch<T>(fn: () => Promise<T>, options: { sync?: boolean } = {}): Promise<T> {
    this.batchDepth++;
    let result: T;
    try {
      result = await fn();
    } catch (err) {
      this.batchDepth--;
      if (this.batchDepth === 0) {
        this.batchEntries = [];
        this.afterBatch = [];
        this.pendingCreateBytes = 0;
        if (this.streamed) {
          // Part of the group is in the log: tell readers to drop it (or, failing that, stop using this log).
          this.streamed = undefined;
          const writer = this.logWriter();
          try {
            writer.abortGroup();
          } catch {
            writer.retire();
          }
        }
      }
      throw err;
    }
    this.batchDepth--;
    if (this.batchDepth === 0) {
      const entries = this.batchEntries;
      const after = this.afterBatch;
      this.batchEntries = [];
      this.afterBatch = [];
      await this.commit(entries, options.sync ?? true);
      for (const step of after) step();
    }
    return result;
  }

  // ------------------------------------------------------------------ jobs

  assignJobId(job: JobDescription): void {
    job.id = newJobId();
  }

  async createJob(job: JobDescription): Promise<JobDescription> {
    await this.write(this.entryOf(job, true), true);
    return job;
  }

  async createJobs(jobs: Iterable<JobDescription>): Promise<void> {
    await this.batch(async () => {
      for (const j of jobs) {
        const entry = this.entryOf(j, true);
        this.batchEntries.push(entry);
        this.pendingCreateBytes += (entry.data?.length ?? 0) + (entry.aux?.length ?? 0);
        if (this.pendingCreateBytes > this.streamBytes) await this.streamOut();
      }
    });
  }

  async updateJob(job: JobDescription): Promise<void> {
    await this.write(this.entryOf(job, false), true);
  }

  /** The newest log entry of a job, if the logs have one (a deletion included). */
  private docSlot(jobId: string): SlotEntry | undefined {
    return this.refreshedView().docs.get(jobId);
  }

  private docFromLog(jobId: string, slot: SlotEntry): StoredJobDescriptionJSON {
    const entry = this.view.read(slot, `the description of job ${JSON.stringify(jobId)}`);
    const { doc, problem } = jobDocProblem(entry.data, jobId);
    if (doc === undefined) throw new DamagedJobError(jobId, `${this.view.logPath(slot.log)} (byte ${slot.offset})`, problem!);
    return doc;
  }

  /** A folded document's bytes (checked), or undefined if there is none. */
  private fileDoc(jobId: string): Buffer | undefined {
    if (!this.mayHaveFiles()) return undefined;
    const file = this.layout.jobPath(jobId);
    const raw = readIfExists(file);
    return raw === undefined ? undefined : parseFolded(raw, file).content;
  }

  async jobExists(jobId: string): Promise<boolean> {
    assertJobId(jobId);
    const slot = this.docSlot(jobId);
    if (slot) return (slot.flags & SlotFlag.Deleted) === 0;
    const raw = this.fileDoc(jobId);
    return raw !== undefined && jobDocProblem(raw).doc !== undefined;
  }

  /** A job's document; undefined if missing or (format 1) an incomplete creation. */
  private readJobDoc(jobId: string): StoredJobDescriptionJSON | undefined {
    const slot = this.view.docs.get(jobId);
    if (slot) return (slot.flags & SlotFlag.Deleted) !== 0 ? undefined : this.docFromLog(jobId, slot);
    const raw = this.fileDoc(jobId);
    return raw === undefined ? undefined : jobDocProblem(raw).doc;
  }

  async loadJob(jobId: string): Promise<JobDescription> {
    assertJobId(jobId);
    const slot = this.docSlot(jobId);
    if (slot) {
      if ((slot.flags & SlotFlag.Deleted) !== 0) throw new NoSuchJobError(jobId);
      return this.descriptionOf(this.docFromLog(jobId, slot), () => `${this.view.logPath(slot.log)} (byte ${slot.offset})`);
    }
    const raw = this.fileDoc(jobId);
    if (raw === undefined) throw new NoSuchJobError(jobId);
    const { doc, problem } = jobDocProblem(raw, jobId);
    if (doc === undefined) throw new DamagedJobError(jobId, this.layout.jobPath(jobId), problem!);
    return this.descriptionOf(doc, () => this.layout.jobPath(jobId));
  }

  /**
   * Rebuild a description; a document that parses but is not a valid description names where it is
   * (`where` is worked out only then: a restart rebuilds every description).
   */
  private descriptionOf(doc: StoredJobDescriptionJSON, where: () => string): JobDescription {
    try {
      return JobDescription.fromJSON(doc);
    } catch (err) {
      throw new DamagedJobError(doc.id, where(), `is not a valid job description (${(err as Error).message})`);
    }
  }

  /** Why a job's stored document cannot be read; undefined if it is missing or readable. */
  damage(jobId: string): { where: string; problem: string } | undefined {
    const slot = this.view.docs.get(jobId);
    if (slot) {
      if ((slot.flags & SlotFlag.Deleted) !== 0) return undefined;
      try {
        this.docFromLog(jobId, slot);
        return undefined;
      } catch (err) {
        if (err instanceof DamagedJobError) return { where: err.path, problem: err.detail };
        throw err;
      }
    }
    const raw = this.fileDoc(jobId);
    const problem = raw === undefined ? undefined : jobDocProblem(raw, jobId).problem;
    return problem === undefined ? undefined : { where: this.layout.jobPath(jobId), problem };
  }

  /** Delete a job: the files tied to it first, then (an entry) its description; durable with the next sync. */
  async deleteJob(jobId: string): Promise<void> {
    assertJobId(jobId);
    if (this.batchDepth > 0) {
      // Inside a batch the deletion takes effect with the group (a worker deletes its job in the
      // same group that stores its result): the job's files and folded document go only once the
      // group is in the log, or a group that never lands would lose the job with its result.
      this.batchEntries.push({ kind: EntryKind.JobDelete, id: jobId, version: DELETED_VERSION });
      this.afterBatch.push(() => this.removeJobFiles(jobId));
      return;
    }
    // Files tied to the job first, then the description: a crash in between leaves the description,
    // and deleting it again (clean() on restart) finishes the job.
    this.removeJobFiles(jobId);
    if (!(await this.jobExists(jobId))) return;
    // No sync of its own: a deletion carries no data; losing it in a power cut only leaves a
    // finished job that clean() deletes at the restart.
    await this.commit([{ kind: EntryKind.JobDelete, id: jobId, version: DELETED_VERSION }], false);
  }

  /** The files tied to a job, and its folded document (the deletion entry hides that from readers anyway). */
  private removeJobFiles(jobId: string): void {
    fs.rmSync(this.layout.jobFilesDir(jobId), { recursive: true, force: true });
    if (this.mayHaveFiles()) fs.rmSync(this.layout.jobPath(jobId), { force: true });
  }

  /** Ids of folded documents (the `jobs/` shards). */
  private *fileJobIds(): IterableIterator<string> {
    if (!this.mayHaveFiles()) return;
    for (const s of SHARDS) {
      let names: string[];
      try {
        names = fs.readdirSync(this.layout.p("jobs", s));
      } catch (err) {
        if (isErrno(err, "ENOENT")) continue;
        throw err;
      }
      for (const n of names) if (n.endsWith(".json") && !isTempName(n)) yield n.slice(0, -5);
    }
  }

  /** Ids of every stored job: the logs' live ones, then folded documents the logs do not mention. */
  async *jobIds(): AsyncIterable<string> {
    const view = this.refreshedView();
    const live: string[] = [];
    for (const [id, slot] of view.docs.entries()) if ((slot.flags & SlotFlag.Deleted) === 0) live.push(id);
    yield* live;
    for (const id of this.fileJobIds()) if (!view.docs.has(id)) yield id;
  }

  async *jobs(): AsyncIterable<JobDescription> {
    for await (const id of this.jobIds()) {
      const doc = this.readJobDoc(id);
      if (doc !== undefined) yield this.descriptionOf(doc, () => this.layout.jobPath(doc.id));
    }
  }

  async *jobDocuments(): AsyncIterable<JobDescriptionJSON> {
    for await (const id of this.jobIds()) {
      const doc = this.readJobDoc(id);
      if (doc !== undefined) yield parsedDocument(doc);
    }
  }

  async *jobStates(): AsyncIterable<JobStateRecord> {
    const view = this.refreshedView();
    const live: [string, SlotEntry][] = [];
    for (const [id, slot] of view.docs.entries()) if ((slot.flags & SlotFlag.Deleted) === 0) live.push([id, slot]);
    for (const [id, slot] of live) {
      const entry = view.read(slot, `the description of job ${JSON.stringify(id)}`);
      yield JSON.parse(entry.aux.toString("utf8")) as JobStateRecord;
    }
    const states = this.index.readStates();
    // No index (an older store), or one damaged by something other than a crash: the documents
    // are the truth, so scan them (clean() at the next restart rewrites the index).
    if (states === undefined) {
      for (const id of this.fileJobIds()) {
        if (view.docs.has(id)) continue;
        const raw = this.fileDoc(id);
        const doc = raw === undefined ? undefined : jobDocProblem(raw).doc;
        if (doc) yield jobStateRecordOf(doc);
      }
      return;
    }
    for (const s of states) if (!view.docs.has(s.id)) yield s;
  }

  /**
   * Rewrite the job-state index of the folded documents: of `docs` (clean() passes every reachable
   * job) those the logs do not hold; without `docs`, every folded document.
   */
  async rebuildJobIndex(docs?: Iterable<StoredJobDescriptionJSON>): Promise<number> {
    const view = this.refreshedView();
    const self = this;
    async function* folded(): AsyncIterable<StoredJobDescriptionJSON> {
      if (docs) {
        for (const d of docs) if (!view.docs.has(d.id)) yield d;
        return;
      }
      for (const id of self.fileJobIds()) {
        if (view.docs.has(id)) continue;
        const raw = self.fileDoc(id);
        const doc = raw === undefined ? undefined : jobDocProblem(raw).doc;
        if (doc) yield doc;
      }
    }
    return this.index.rebuild(folded());
  }

  // ------------------------------------------------------------------ root job and results

  async setRootJob(jobId: string): Promise<void> {
    await this.pending.flushAsync();
    writeFileAtomicSync(this.layout.p("meta", "root-job"), assertJobId(jobId), { durable: this.durable });
  }

  async rootJobId(): Promise<string | undefined> {
    const file = this.layout.p("meta", "root-job");
    const raw = readIfExists(file);
    if (raw === undefined) return undefined;
    try {
      return assertJobId(raw.toString("utf8").trim());
    } catch (err) {
      throw new DamagedJobStoreFileError(file, `it should hold the root job's id (${(err as Error).message})`);
    }
  }

  async writeResult(jobId: string, value: string): Promise<void> {
    assertJobId(jobId);
    await this.write({ kind: EntryKind.ResultPut, id: jobId, version: RESULT_VERSION_PENDING, data: value }, true);
  }

  /** The result's bytes, or undefined if none is stored. */
  private resultBytes(jobId: string): Buffer | undefined {
    this.view.refresh();
    return this.resultBytesInView(jobId);
  }

  /** A result's bytes as the view holds them now (no look for other processes' writes). */
  private resultBytesInView(jobId: string): Buffer | undefined {
    assertJobId(jobId);
    const slot = this.view.results.get(jobId);
    if (slot) {
      if ((slot.flags & SlotFlag.Deleted) !== 0) return undefined;
      return this.view.read(slot, `the result of job ${JSON.stringify(jobId)}`).data;
    }
    if (!this.mayHaveFiles()) return undefined;
    const file = this.layout.resultPath(jobId);
    const raw = readIfExists(file);
    return raw === undefined ? undefined : parseFolded(raw, file).content;
  }

  /** Results as stored now, read without a refresh each (see `StoredResults.resultReader` of @toil/job). */
  resultReader(): (jobId: string) => string | undefined {
    this.view.refresh();
    return (jobId) => this.resultBytesInView(jobId)?.toString("utf8");
  }

  async readResult(jobId: string): Promise<string> {
    const raw = this.resultBytes(jobId);
    if (raw === undefined) throw new NoSuchFileError(`result of job ${jobId}`, "the job has not stored a return value");
    return raw.toString("utf8");
  }

  async hasResult(jobId: string): Promise<boolean> {
    assertJobId(jobId);
    const slot = this.refreshedView().results.get(jobId);
    if (slot) return (slot.flags & SlotFlag.Deleted) === 0;
    return this.mayHaveFiles() && fs.existsSync(this.layout.resultPath(jobId));
  }

  async deleteResult(jobId: string): Promise<void> {
    assertJobId(jobId);
    await this.write({ kind: EntryKind.ResultDelete, id: jobId, version: DELETED_VERSION }, false);
  }

  // ------------------------------------------------------------------ mailbox entries

  /** Append a mailbox message (durable with the next sync). */
  async writeMessage(message: Buffer): Promise<void> {
    await this.write({ kind: EntryKind.Message, id: "m", version: 0, aux: String(Date.now()), data: message }, false);
  }

  /** Record that the leader took every message of `log` up to byte `upTo`. */
  async claimMessages(log: string, upTo: number): Promise<void> {
    await this.commit([{ kind: EntryKind.MessageClaim, id: log, version: 0, data: String(upTo) }], false);
  }

  /** Path of the log directory. */
  get logDir(): string {
    return path.join(this.layout.root, LOG_DIR);
  }
}
