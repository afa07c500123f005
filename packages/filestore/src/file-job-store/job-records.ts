/**
 * Job records of a file job store: one JSON document per job, the results of finished jobs, the
 * root job's id, and the groups of writes (`batch`) a worker commits a job with. The order of every
 * group's steps is what makes a crash at any point restartable (see the README).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { JobDescription, type JobDescriptionJSON, isTemporaryJobId, newJobId } from "@toil/job";
import { DamagedJobError, DamagedJobStoreFileError, InvalidIdError, NoSuchFileError, NoSuchJobError } from "../errors.js";
import { assertJobId } from "../ids.js";
import { asNoSpace, failIfDiskFullInjected, FILE_MODE, isErrno, isTempName, readIfExists, syncPathsAsync, tempNameFor, writeFileAtomicSync } from "../internal/fsx.js";
import type { JobStateRecord } from "../job-store.js";
import { JobStateIndex, jobStateRecordOf } from "./job-index.js";
import { JOB_INDEX, SHARDS, type StoreLayout } from "./layout.js";
import type { PendingFileSync } from "./pending-sync.js";

/** Create `file` exclusively (EEXIST if it exists) holding `data`. */
export function writeNew(file: string, data: string): void {
  let fd: number;
  try {
    failIfDiskFullInjected(file);
    fd = fs.openSync(file, "wx", FILE_MODE);
  } catch (err) {
    throw asNoSpace(err, file);
  }
  try {
    const buf = Buffer.from(data, "utf8");
    let off = 0;
    while (off < buf.length) off += fs.writeSync(fd, buf, off, buf.length - off);
  } catch (err) {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
    throw asNoSpace(err, file);
  }
  fs.closeSync(fd);
}

function parseJobDoc(raw: Buffer): JobDescriptionJSON | undefined {
  return jobDocProblem(raw).doc;
}

/** The document, or what is wrong with it (for {@link DamagedJobError}). */
function jobDocProblem(raw: Buffer, id?: string): { doc?: JobDescriptionJSON; problem?: string } {
  if (raw.length === 0) return { problem: "is empty" };
  let doc: JobDescriptionJSON;
  try {
    doc = JSON.parse(raw.toString("utf8")) as JobDescriptionJSON;
  } catch (err) {
    // Only a new job's document can be incomplete (created in place, cut by a crash): absent where
    // nothing reaches it; clean() raises DamagedJobError for one the workflow still reaches.
    return { problem: `is not valid JSON (${raw.length} bytes; ${(err as Error).message})` };
  }
  if (typeof doc !== "object" || doc === null || typeof doc.id !== "string") return { problem: "is not a job description (no id)" };
  if (id !== undefined && doc.id !== id) return { problem: `holds job ${JSON.stringify(doc.id)} instead` };
  return { doc };
}

interface JobWrite {
  id: string;
  data: string;
  /** A new job: written in place with an exclusive create, no temp file. */
  create: boolean;
  state: JobStateRecord;
}

/** A job's result written inside a batch. */
interface ResultWrite {
  id: string;
  value: string;
}

/** Job documents, results and the root job id of one store. */
export class JobRecords {
  private readonly index: JobStateIndex;
  private batchDepth = 0;
  private batchOps: JobWrite[] = [];
  private batchResults: ResultWrite[] = [];
  /** Group writes run one after another (each is ordered inside; two must not interleave). */
  private groupWrites: Promise<void> = Promise.resolve();

  constructor(
    private readonly layout: StoreLayout,
    private readonly durable: boolean,
    private readonly pending: PendingFileSync,
    /** Who writes (recorded in each description by its pre-update hook). */
    private readonly writer: string,
  ) {
    this.index = new JobStateIndex(layout.p(...JOB_INDEX));
  }

  // ------------------------------------------------------------------ group writes

  /**
   * Write job documents (and the results of a batch). New jobs are created in place (O_EXCL: a fresh
   * id never names an existing document); results and updates go to temp files. Then one durability
   * flush of all of them (and of the new entries' directories; the syncs are issued together), then
   * the results' renames, then the updates' renames in call order, then one append to the
   * job-state index. A crash leaves every update whole (old or
   * new), and each new document whole or incomplete; readers treat an incomplete one as absent, and
   * no update that references a new job is renamed before all new documents are complete (and durable).
   */
  private writeJobDocs(ops: readonly JobWrite[], results: readonly ResultWrite[] = []): Promise<void> {
    if (ops.length === 0 && results.length === 0) return Promise.resolve();
    const run = this.groupWrites.then(() => this.writeGroup(ops, results));
    this.groupWrites = run.catch(() => undefined);
    return run;
  }

  private async writeGroup(ops: readonly JobWrite[], results: readonly ResultWrite[]): Promise<void> {
    this.pending.flush();
    const temps: string[] = [];
    const synced: string[] = [];
    const renames: [string, string][] = [];
    const createdDirs = new Set<string>();
    // Results: temp files renamed before any job document, so no document that marks its job as
    // run is ever visible without the job's result.
    for (const r of results) {
      const target = this.layout.resultPath(r.id);
      const tmp = tempNameFor(target);
      temps.push(tmp);
      writeNew(tmp, r.value);
      synced.push(tmp);
      renames.push([tmp, target]);
    }
    // One document: create it in place, or (an update, or a re-created id) write a temp file to rename.
    const writeOne = (op: JobWrite): void => {
      const target = this.layout.jobPath(op.id);
      if (op.create) {
        try {
          writeNew(target, op.data);
          synced.push(target);
          createdDirs.add(path.dirname(target));
          return;
        } catch (err) {
          if (!isErrno(err, "EEXIST")) throw err;
        }
      }
      const tmp = tempNameFor(target);
      temps.push(tmp);
      writeNew(tmp, op.data);
      synced.push(tmp);
      renames.push([tmp, target]);
    };
    try {
      for (const op of ops) writeOne(op);
      try {
        if (this.durable) await syncPathsAsync(synced, renames.length > 0 ? [...createdDirs] : []);
      } catch (err) {
        throw asNoSpace(err, synced[0] ?? this.layout.root);
      }
      for (const [tmp, target] of renames) {
        try {
          fs.renameSync(tmp, target);
        } catch (err) {
          throw asNoSpace(err, target);
        }
      }
      temps.length = 0;
      // No directory fsync after the renames: what reaches the disk in order is already safe (every
      // file's data was synced before it was named); the renames themselves are made durable by the
      // next synced write, like deletions (see "Durability" in the README).
    } finally {
      for (const t of temps) fs.rmSync(t, { force: true });
    }
    if (ops.length > 0) this.index.appendStates(ops.map((op) => op.state));
  }

  private enqueue(job: JobDescription, create: boolean): Promise<void> | undefined {
    assertJobId(job.id);
    if (isTemporaryJobId(job.id)) {
      throw new InvalidIdError("job id", job.id, "the job still has a temporary id: call assignJobId(job) first");
    }
    job.preUpdateHook(this.writer);
    const doc = job.toJSON();
    const op: JobWrite = { id: job.id, data: JSON.stringify(doc), create, state: jobStateRecordOf(doc) };
    if (this.batchDepth > 0) this.batchOps.push(op);
    else return this.writeJobDocs([op]);
  }

  async batch<T>(fn: () => Promise<T>): Promise<T> {
    this.batchDepth++;
    let result: T;
    try {
      result = await fn();
    } catch (err) {
      this.batchDepth--;
      if (this.batchDepth === 0) {
        this.batchOps = [];
        this.batchResults = [];
      }
      throw err;
    }
    this.batchDepth--;
    if (this.batchDepth === 0) {
      const ops = this.batchOps;
      const results = this.batchResults;
      this.batchOps = [];
      this.batchResults = [];
      await this.writeJobDocs(ops, results);
    }
    return result;
  }

  // ------------------------------------------------------------------ jobs

  assignJobId(job: JobDescription): void {
    job.id = newJobId();
  }

  async createJob(job: JobDescription): Promise<JobDescription> {
    await this.enqueue(job, true);
    return job;
  }

  async createJobs(jobs: Iterable<JobDescription>): Promise<void> {
    await this.batch(async () => {
      for (const j of jobs) this.enqueue(j, true);
    });
  }

  async updateJob(job: JobDescription): Promise<void> {
    await this.enqueue(job, false);
  }

  async jobExists(jobId: string): Promise<boolean> {
    return this.readJobDoc(assertJobId(jobId)) !== undefined;
  }

  /** A job's document; undefined if missing or incomplete (a creation cut by a crash). */
  private readJobDoc(jobId: string): JobDescriptionJSON | undefined {
    const raw = readIfExists(this.layout.jobPath(jobId));
    return raw === undefined ? undefined : parseJobDoc(raw);
  }

  async loadJob(jobId: string): Promise<JobDescription> {
    const raw = readIfExists(this.layout.jobPath(assertJobId(jobId)));
    if (raw === undefined) throw new NoSuchJobError(jobId);
    const { doc, problem } = jobDocProblem(raw, jobId);
    if (doc === undefined) throw new DamagedJobError(jobId, this.layout.jobPath(jobId), problem!);
    return this.descriptionOf(doc);
  }

  /** Rebuild a description; a document that parses but is not a valid description names its file. */
  private descriptionOf(doc: JobDescriptionJSON): JobDescription {
    try {
      return JobDescription.fromJSON(doc);
    } catch (err) {
      throw new DamagedJobError(doc.id, this.layout.jobPath(doc.id), `is not a valid job description (${(err as Error).message})`);
    }
  }

  /** Why a job's stored document cannot be read; undefined if it is missing or readable. */
  damage(jobId: string): string | undefined {
    const raw = readIfExists(this.layout.jobPath(jobId));
    return raw === undefined ? undefined : jobDocProblem(raw, jobId).problem;
  }

  async deleteJob(jobId: string): Promise<void> {
    assertJobId(jobId);
    // Files tied to the job first, then the description: a crash in between leaves the description,
    // and deleting it again (clean() on restart) finishes the job.
    fs.rmSync(this.layout.jobFilesDir(jobId), { recursive: true, force: true });
    const file = this.layout.jobPath(jobId);
    try {
      fs.unlinkSync(file);
    } catch (err) {
      if (!isErrno(err, "ENOENT")) throw err;
      return;
    }
    // No fsync here: a deletion carries no data, and the filesystem commits metadata changes in order,
    // so it reaches the disk with the next synced write (see "Durability" in the README).
    this.index.appendDeletion(jobId);
  }

  /** Ids of every stored job (cheap: no parsing); may name a creation cut short (see the facade). */
  async *jobIds(): AsyncIterable<string> {
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

  async *jobs(): AsyncIterable<JobDescription> {
    for await (const doc of this.jobDocuments()) yield this.descriptionOf(doc);
  }

  async *jobDocuments(): AsyncIterable<JobDescriptionJSON> {
    for await (const id of this.jobIds()) {
      const doc = this.readJobDoc(id);
      if (doc !== undefined) yield doc;
    }
  }

  async *jobStates(): AsyncIterable<JobStateRecord> {
    const states = this.index.readStates();
    // No index (an older store), or one damaged by something other than a crash: the documents
    // are the truth, so scan them (clean() at the next restart rewrites the index).
    if (states === undefined) {
      for await (const doc of this.jobDocuments()) yield jobStateRecordOf(doc);
      return;
    }
    yield* states;
  }

  async rebuildJobIndex(docs?: Iterable<JobDescriptionJSON>): Promise<number> {
    return this.index.rebuild(docs ?? this.jobDocuments());
  }

  // ------------------------------------------------------------------ root job and results

  async setRootJob(jobId: string): Promise<void> {
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
    if (this.batchDepth > 0) {
      this.batchResults.push({ id: assertJobId(jobId), value });
      return;
    }
    this.pending.flush();
    writeFileAtomicSync(this.layout.resultPath(assertJobId(jobId)), value, { durable: this.durable });
  }

  async readResult(jobId: string): Promise<string> {
    const raw = readIfExists(this.layout.resultPath(assertJobId(jobId)));
    if (raw === undefined) throw new NoSuchFileError(`result of job ${jobId}`, "the job has not stored a return value");
    return raw.toString("utf8");
  }

  async hasResult(jobId: string): Promise<boolean> {
    return fs.existsSync(this.layout.resultPath(assertJobId(jobId)));
  }

  async deleteResult(jobId: string): Promise<void> {
    fs.rmSync(this.layout.resultPath(assertJobId(jobId)), { force: true });
  }
}
