import type { JobDescription } from "@toil/job/core";
import { FileStoreStateError } from "../errors.js";
import type { JobStore } from "../job-store.js";
import type { FileStoreOptions, LocalTempDir } from "./abstract.js";
import { CachingFileStore, type CachingFileStoreOptions } from "./caching.js";
import { NonCachingFileStore } from "./non-caching.js";

export {
  AbstractFileStore,
  duBytes,
  type FileStoreOptions,
  type LeaderLogLine,
  type LeaderLogMessage,
  type LocalTempDir,
} from "./abstract.js";
export { NonCachingFileStore } from "./non-caching.js";
export { CachingFileStore, type CachingFileStoreOptions } from "./caching.js";

/**
 * Make the file store for one job attempt (the seed's createFileStore): caching when `caching` is
 * true, or when it is undefined and the job store caches by default; else non-caching.
 */
export function createFileStore(
  jobStore: JobStore,
  jobDesc: JobDescription,
  localTempDir: LocalTempDir,
  options: FileStoreOptions & { caching?: boolean | undefined; cache?: Omit<CachingFileStoreOptions, keyof FileStoreOptions> },
): NonCachingFileStore | CachingFileStore {
  const caching = options.caching ?? jobStore.defaultCaching();
  if (caching) {
    if (!options.cache) throw new FileStoreStateError("createFileStore: caching needs options.cache with cacheDir and coordinationDir (node-local directories)");
    return new CachingFileStore(jobStore, jobDesc, localTempDir, { ...options, ...options.cache });
  }
  return new NonCachingFileStore(jobStore, jobDesc, localTempDir, options);
}
