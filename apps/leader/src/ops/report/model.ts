/**
 * The data a workflow report shows. Plain data, so a report can be built from any source: the job
 * store's statistics, a bus log, or a test fixture.
 */
import type { JobRecord } from "../records.js";

/** A job that failed, with the end of its log. */
export interface FailedJobInfo {
  id: string;
  name: string;
  kind: string;
  /** Failed for good (no tries left) rather than one failed attempt. */
  final: boolean;
  logTail?: string;
}

export interface ReportData {
  title: string;
  locator: string;
  /** Overall state (see `toil status`). */
  state: string;
  generatedAt: number;
  /** Job runs for the timeline and the tables (each attempt counts). */
  jobs: JobRecord[];
  failed: FailedJobInfo[];
  /** Where the data came from, and what is missing. */
  notes: string[];
}
