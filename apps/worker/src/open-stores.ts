/** The job stores this process opened: a warm worker reuses them between jobs of one workflow. */
import { openJobStore, type JobStore } from "@toil/filestore";

const openStores = new Map<string, JobStore>();

/** The job store at `locator`, opened (and resumed) the first time this process asks for it. */
export async function openStoreOnce(locator: string): Promise<JobStore> {
  const cached = openStores.get(locator);
  if (cached) return cached;
  const store = openJobStore(locator);
  await store.resume();
  openStores.set(locator, store);
  return store;
}

/** Close every job store this process opened (a worker process about to exit). */
export async function closeOpenStores(): Promise<void> {
  for (const store of openStores.values()) await store.close();
  openStores.clear();
}
