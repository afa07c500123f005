/**
 * The job-state index (`index/jobs.log`): the state part of every job document, appended at every
 * job write, so tools (`toil status`) read one file instead of every document. It is a cache: the
 * documents are the truth, and the leader rewrites it from them at every restart.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { StoredJobDescriptionJSON } from "@toil/job/core";
import { appendRecords, readRecords } from "../internal/append-log.js";
import { FILE_MODE, asNoSpace, mkdirp, tempNameFor } from "../internal/fsx.js";
import type { JobStateRecord } from "../job-store.js";

/** A job-state index line: a state record, or a deletion. */
type IndexEntry = JobStateRecord | { id: string; deleted: true };

/** The state part of a job description's JSON document (what the job-state index keeps). */
export function jobStateRecordOf(doc: StoredJobDescriptionJSON): JobStateRecord {
  const r: JobStateRecord = { id: doc.id, jobName: doc.jobName, version: doc.version, hasBody: doc.body !== undefined };
  if (doc.unitName) r.unitName = doc.unitName;
  if (doc.displayName) r.displayName = doc.displayName;
  if (doc.remainingTryCount !== undefined) r.remainingTryCount = doc.remainingTryCount;
  if (doc.service) r.service = true;
  if (doc.checkpoint) r.checkpoint = true;
  if (doc.childIds?.length) r.childIds = doc.childIds;
  if (doc.followOnIds?.length) r.followOnIds = doc.followOnIds;
  if (doc.adoptedPhases?.some((p) => p.length > 0)) r.adoptedPhases = doc.adoptedPhases;
  if (doc.serviceTree && Object.keys(doc.serviceTree).length > 0) r.serviceTree = doc.serviceTree;
  if (doc.logFileId) r.logFileId = doc.logFileId;
  return r;
}

/** A job-state index line cut by a crash starts like every record; anything else is damage. */
function isTornIndexLine(line: string): boolean {
  return line.startsWith('{"id":');
}

/** The index file of one store. */
export class JobStateIndex {
  constructor(private readonly file: string) {}

  /** Append the states of written documents (one write). */
  appendStates(states: readonly JobStateRecord[]): void {
    if (states.length > 0) appendRecords(this.file, states);
  }

  /** Append a job's deletion. */
  appendDeletion(jobId: string): void {
    appendRecords(this.file, [{ id: jobId, deleted: true }]);
  }

  /**
   * The newest state of every job in the index; undefined when there is no index (an older store)
   * or it is damaged by something other than a crash (then the documents must be scanned).
   */
  readStates(): JobStateRecord[] | undefined {
    const damagedLines: string[] = [];
    const entries = readRecords<IndexEntry>(this.file, (line) => {
      if (!isTornIndexLine(line)) damagedLines.push(line);
    });
    if (entries === undefined || damagedLines.length > 0) return undefined;
    const latest = new Map<string, IndexEntry>();
    for (const e of entries) {
      if (typeof e?.id !== "string") continue;
      const prev = latest.get(e.id);
      if (prev !== undefined && ("deleted" in prev || ("version" in e && e.version < prev.version))) continue;
      latest.set(e.id, e);
    }
    const out: JobStateRecord[] = [];
    for (const e of latest.values()) if (!("deleted" in e)) out.push(e);
    return out;
  }

  /** Replace the index atomically with the states of `docs`; returns how many. */
  async rebuild(docs: Iterable<StoredJobDescriptionJSON> | AsyncIterable<StoredJobDescriptionJSON>): Promise<number> {
    mkdirp(path.dirname(this.file));
    const tmp = tempNameFor(this.file);
    let n = 0;
    const fd = fs.openSync(tmp, "wx", FILE_MODE);
    try {
      let chunk = "";
      for await (const doc of docs) {
        chunk += `${JSON.stringify(jobStateRecordOf(doc))}\n`;
        n++;
        if (chunk.length > 1 << 20) {
          fs.writeSync(fd, chunk);
          chunk = "";
        }
      }
      fs.writeSync(fd, chunk);
    } catch (err) {
      fs.closeSync(fd);
      fs.rmSync(tmp, { force: true });
      throw asNoSpace(err, this.file);
    }
    fs.closeSync(fd);
    fs.renameSync(tmp, this.file);
    return n;
  }
}
