/**
 * Reading the results jobs stored (what promises resolve to) from a job store: the worker rebuilding
 * a job's arguments, the leader reading the root job's return value.
 */
import type { PromiseResolver } from "./serialize.js";

/** The part of a job store that holds job results (implemented by @toil/filestore's `JobStore`). */
export interface StoredResults {
  /** Whether a result is stored for the job. */
  hasResult(jobId: string): Promise<boolean>;
  /** The job's stored result, as the text written for it. */
  readResult(jobId: string): Promise<string>;
  /**
   * A reader of the results stored now, for many reads in a row (a fan-in job's promised values):
   * the store looks for other processes' writes once, when the reader is made, not at every read.
   * It returns a result's text, or undefined when the job stored none. Optional: without it each
   * read asks {@link hasResult} and {@link readResult}.
   */
  resultReader?(): (jobId: string) => string | undefined;
}

/** A {@link PromiseResolver} that reads job results from `store` (undefined for a job that stored none). */
export function jobStoreResultResolver(store: StoredResults): PromiseResolver {
  // Made at the first promise resolved, once the job was issued: every value it was promised was
  // stored before that, so one look for new writes serves them all.
  let reader: ((jobId: string) => string | undefined) | undefined;
  return {
    async readResult(jobId: string): Promise<unknown> {
      if (store.resultReader) {
        reader ??= store.resultReader();
        const text = reader(jobId);
        return text === undefined ? undefined : (JSON.parse(text) as unknown);
      }
      if (!(await store.hasResult(jobId))) return undefined;
      return JSON.parse(await store.readResult(jobId)) as unknown;
    },
  };
}
