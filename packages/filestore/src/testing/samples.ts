/** What the job-store conformance suites are made of: temp dirs, sample jobs and configs, checksums. */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { JobDescription, defaultConfig, prepareStart, type Config } from "@toil/job";
import type { JobStore } from "../job-store.js";

/**
 * Makes a store object for a location. Called several times with the same location, it must return
 * independent instances on the same stored data (the suite checks what one instance sees of another's writes).
 * `location` is a fresh, non-existent path under the OS temp dir; a non-file store may use it as a prefix.
 */
export type JobStoreFactoryForTests = (location: string) => JobStore;

/** A fresh temp dir (removed after the test file). */
export function makeTempDir(prefix = "toil-js-test-"): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A description with a body, the way a job is saved. */
export function sampleJob(name = "job", data: unknown = { n: 1 }): JobDescription {
  const job = new JobDescription({ jobName: name, requirements: { cores: 1, memory: "1Mi", disk: "2Mi" } });
  job.attachBody({ kind: "function", module: "file:///flows/example.js", exportName: name.replace(/\W/g, "_"), data });
  return job;
}

/** Hex MD5 of `data` (to compare file contents in tests). */
export function md5(data: Uint8Array | string): string {
  return createHash("md5").update(data).digest("hex");
}

/** A config as the leader would initialize a store with. */
export function sampleConfig(location: string, overrides: Record<string, unknown> = {}): Config {
  return prepareStart(defaultConfig({ jobStore: location, ...overrides }));
}
