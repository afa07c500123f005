/**
 * Where the CWL job module is, as a `file:` URL a worker can import: `cwl-jobs.js` next to the
 * built code (the package's `dist/`, or the leader's standalone bundle), `index.ts` next to this
 * file when running from source.
 */
import { registerModule } from "@toil/job";
import * as jobs from "./index.js";

/** The URL workers import CWL job classes from. */
export function cwlJobModuleUrl(): string {
  const here = import.meta.url;
  return /\.[cm]?ts$/.test(here) ? new URL("./index.ts", here).href : new URL("./cwl-jobs.js", here).href;
}

let registered = false;

/**
 * Register the CWL job classes under {@link cwlJobModuleUrl} so jobs can be saved and found again
 * by workers (and so the leader tells workers to trust that module's directory). Idempotent.
 */
export function registerCwlJobs(): void {
  if (registered) return;
  registerModule(cwlJobModuleUrl(), jobs);
  registered = true;
}
