/**
 * Folding: the entries of every commit log of the generations below the current one are written
 * into the store's files (job documents, results, the mailbox journal), then those logs are
 * deleted. Only the leader folds, and only generations whose writers are gone (a leader run is a
 * generation; the restart stopped the workers of the earlier ones). Each step can be cut by a crash:
 *
 * 1. every live document and result of the folded logs is written to its file (temp file + rename)
 *    unless the file already holds that version or a newer one, or a log of generation n or later
 *    holds a newer entry for it (deleted or rewritten since: that entry is what readers see once
 *    the folded logs are ignored, so a file would only be written to be removed later); the files
 *    of deleted jobs and results are removed; the folded logs' messages become
 *    `logs/journal-g<n>.jsonl`; the states of the folded documents are appended to the job-state
 *    index;
 * 2. all of it is synced, and so are the logs of generation n and later when a newer entry there
 *    stood in for a file (a machine crash must not lose the entry once the folded logs are ignored);
 * 3. the marker `log/folded-<n>` is created (and synced): from then on readers ignore the logs of
 *    generations below n;
 * 4. the folded logs and older markers are deleted.
 *
 * Before 3 the logs are still read, and they agree with what step 1 wrote (a reader takes the newest
 * version from either), so a crash before 3 changes nothing and the next fold does it again; after
 * 3 the files hold everything, and step 4 is finished by the next fold.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { appendRecords } from "../internal/append-log.js";
import { FILE_MODE, asNoSpace, fsyncDir, isErrno, syncPaths, tempNameFor } from "../internal/fsx.js";
import { EntryKind } from "../commit-log/record.js";
import { SlotFlag } from "../commit-log/slots.js";
import { LogView, foldMarkerName, generationOfLog, generationOfMarker } from "../commit-log/view.js";
import { dropOffersBelow } from "../commit-log/handover.js";
import { foldedVersion, parseFolded, writeFolded } from "./folded-files.js";
import { jobStateRecordOf } from "./job-index.js";
import { JOB_INDEX, LOG_DIR, type StoreLayout } from "./layout.js";
import { type StoredJobDescriptionJSON, readJobDocument } from "@toil/job/core";
import type { JobStateRecord } from "../job-store.js";

/** Steps of a fold, in order (a test hook may stop the fold at any of them). */
export type FoldStep = "files-written" | "synced" | "marked" | "logs-deleted";

/** What a fold did. */
export interface FoldReport {
  /** Logs folded (and deleted). */
  logs: number;
  /** Job documents written / removed. */
  jobsWritten: number;
  jobsRemoved: number;
  /** Results written / removed. */
  resultsWritten: number;
  resultsRemoved: number;
  /** Mailbox messages moved to the journal. */
  messages: number;
  /** Documents and results left unwritten: a log of a later generation holds a newer entry for them. */
  superseded: number;
}

/** Options of {@link foldLogs}. */
export interface FoldOptions {
  durable: boolean;
  /** Called after each step (tests stop the fold there to check a crash leaves a good store). */
  afterStep?: (step: FoldStep, detail?: string) => void;
  /** Called after each file written in step 1 (tests stop the fold half way through it). */
  afterFile?: (file: string) => void;
}

/** Version stored in a folded file (a format-1 document's own `version`), or undefined without one. */
function storedVersion(file: string, isDoc: boolean): number | undefined {
  const v = foldedVersion(file);
  if (v !== undefined || !isDoc) return v;
  try {
    const raw = fs.readFileSync(file);
    const doc = JSON.parse(parseFolded(raw, file).content.toString("utf8")) as { version?: unknown };
    return typeof doc.version === "number" ? doc.version : undefined;
  } catch (err) {
    if (isErrno(err, "ENOENT")) return undefined;
    return undefined;
  }
}

/** Fold every log of a generation below `below` into the store's files. */
export async function foldLogs(layout: StoreLayout, below: number, options: FoldOptions): Promise<FoldReport> {
  // Yield to the event loop now and then: the leader folds while it runs the workflow.
  let sinceYield = 0;
  const breathe = async () => {
    if (++sinceYield < 256) return;
    sinceYield = 0;
    await new Promise((resolve) => setImmediate(resolve));
  };
  const logDir = layout.p(LOG_DIR);
  const report: FoldReport = { logs: 0, jobsWritten: 0, jobsRemoved: 0, resultsWritten: 0, resultsRemoved: 0, messages: 0, superseded: 0 };
  let names: string[];
  try {
    names = fs.readdirSync(logDir);
  } catch (err) {
    if (isErrno(err, "ENOENT")) return report;
    throw err;
  }
  const alreadyFolded = Math.max(0, ...names.map((n) => generationOfMarker(n) ?? 0));
  const folded = names.filter((n) => {
    const g = generationOfLog(n);
    return g !== undefined && g < below;
  });
  if (folded.length === 0 && alreadyFolded >= below) return report;

  const view = new LogView(logDir, below, below);
  view.forgetFolded(alreadyFolded);
  view.refresh();
  const messages = view.collectMessages();
  // The logs of the later generations (the current run's, when the leader folds at its end): what
  // they rewrote or deleted since needs no file.
  const later = new LogView(logDir, below);
  later.forgetFolded(below);
  later.refresh();
  const supersedes = (table: "docs" | "results", id: string, version: number): boolean => {
    const newer = later[table].versionOf(id);
    if (newer === undefined || newer <= version) return false;
    report.superseded++;
    return true;
  };
  const written: string[] = [];
  const touchedDirs = new Set<string>();
  const states: unknown[] = [];
  const afterFile = (file: string) => {
    written.push(file);
    touchedDirs.add(path.dirname(file));
    options.afterFile?.(file);
  };

  // 1. Documents, results, messages, index.
  for (const [id, slot] of view.docs.entries()) {
    if (view.logGeneration(slot.log) < alreadyFolded) continue;
    const file = layout.jobPath(id);
    if ((slot.flags & SlotFlag.Deleted) !== 0) {
      // Files a crash left behind after the deletion's group landed.
      fs.rmSync(layout.jobFilesDir(id), { recursive: true, force: true });
      if (fs.existsSync(file)) {
        fs.rmSync(file, { force: true });
        touchedDirs.add(path.dirname(file));
        states.push({ id, deleted: true });
        report.jobsRemoved++;
      }
      continue;
    }
    if (supersedes("docs", id, slot.version)) continue;
    const entry = view.read(slot, `the description of job ${JSON.stringify(id)}`);
    const have = storedVersion(file, true);
    if (have !== undefined && have > slot.version) continue;
    // The index gets the state even when an interrupted fold already wrote the file.
    // The entry carries its state record; a document without one is read with its bodies left as text.
    states.push(entry.aux.length > 0 ? (JSON.parse(entry.aux.toString("utf8")) as JobStateRecord) : jobStateRecordOf(readJobDocument(entry.data) as StoredJobDescriptionJSON));
    if (have === slot.version) continue;
    writeFolded(file, entry.data, slot.version);
    afterFile(file);
    report.jobsWritten++;
    await breathe();
  }
  for (const [id, slot] of view.results.entries()) {
    if (view.logGeneration(slot.log) < alreadyFolded) continue;
    const file = layout.resultPath(id);
    if ((slot.flags & SlotFlag.Deleted) !== 0) {
      if (fs.existsSync(file)) {
        fs.rmSync(file, { force: true });
        touchedDirs.add(path.dirname(file));
        report.resultsRemoved++;
      }
      continue;
    }
    if (supersedes("results", id, slot.version)) continue;
    const entry = view.read(slot, `the result of job ${JSON.stringify(id)}`);
    const have = storedVersion(file, false);
    if (have !== undefined && have >= slot.version) continue;
    writeFolded(file, entry.data, slot.version);
    afterFile(file);
    report.resultsWritten++;
    await breathe();
  }
  if (messages.length > 0) {
    let text = "";
    for (const m of messages) {
      const entry = view.readAt(m.log, m.offset, m.length, "a mailbox message");
      if (entry.kind !== EntryKind.Message) continue;
      const data = entry.data;
      const t = Number(entry.aux.toString("latin1")) || 0;
      const asText = data.toString("utf8");
      text += `${JSON.stringify(Buffer.from(asText, "utf8").equals(data) ? { t, m: asText } : { t, b: data.toString("base64") })}\n`;
      report.messages++;
    }
    const journal = layout.p("logs", `journal-g${below}.jsonl`);
    fs.mkdirSync(path.dirname(journal), { recursive: true });
    const tmp = tempNameFor(journal);
    try {
      fs.writeFileSync(tmp, text, { mode: FILE_MODE, flag: "wx" });
      fs.renameSync(tmp, journal);
    } catch (err) {
      fs.rmSync(tmp, { force: true });
      throw asNoSpace(err, journal);
    }
    afterFile(journal);
  }
  if (states.length > 0) {
    appendRecords(layout.p(...JOB_INDEX), states, true);
    written.push(layout.p(...JOB_INDEX));
  }
  if (report.superseded > 0) {
    for (let i = 0; i < later.logCount; i++) if (later.logGeneration(i) >= below) written.push(later.logPath(i));
  }
  view.close();
  later.close();
  options.afterStep?.("files-written");

  // 2. Durable.
  if (options.durable) {
    for (const d of [...touchedDirs]) touchedDirs.add(path.dirname(d));
    syncPaths(written.filter((f) => fs.existsSync(f)), [...touchedDirs].filter((d) => fs.existsSync(d)));
  }
  options.afterStep?.("synced", `${written.length} files`);

  // 3. The marker: readers stop reading the folded logs.
  const marker = path.join(logDir, foldMarkerName(below));
  if (!fs.existsSync(marker)) {
    fs.writeFileSync(marker, "", { mode: FILE_MODE });
    if (options.durable) fsyncDir(logDir);
  }
  options.afterStep?.("marked");

  // 4. The folded logs and older markers go.
  for (const n of fs.readdirSync(logDir)) {
    const g = generationOfLog(n);
    const m = generationOfMarker(n);
    if ((g !== undefined && g < below) || (m !== undefined && m < below)) {
      fs.rmSync(path.join(logDir, n), { force: true });
      if (g !== undefined) report.logs++;
    }
  }
  dropOffersBelow(logDir, below);
  options.afterStep?.("logs-deleted");
  return report;
}
