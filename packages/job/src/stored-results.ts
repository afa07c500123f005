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
}

/** A {@link PromiseResolver} that reads job results from `store` (undefined for a job that stored none). */
export function jobStoreResultResolver(store: StoredResults): PromiseResolver {
  return {
    async readResult(jobId: string): Promise<unknown> {
      if (!(await store.hasResult(jobId))) return undefined;
      return JSON.parse(await store.readResult(jobId)) as unknown;
    },
  };
}
