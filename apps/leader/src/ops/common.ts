/**
 * Shared plumbing of the operating commands (`toil status`, `stats`, `kill`, `clean`, `debug-job`,
 * `report`): exit codes, the error type for user mistakes, opening an existing job store with an
 * error that says what to do, and read-only scans through the job store's tool APIs.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import {
  FileJobStore,
  JobStoreVersionError,
  NoSuchJobStoreError,
  openJobStore,
  parseLocator,
  type JobStore,
} from "@toil/filestore";
import { isToilError, JOB_DESCRIPTION_FORMAT, ToilError, type JobDescriptionJSON } from "@toil/job";

import { oneLine } from "../cli/errors.js";
import { opsExitCode } from "../cli/exit-codes.js";

export { OPS_EXIT, type OpsIO } from "./exit-codes.js";
import type { OpsIO } from "./exit-codes.js";
import { escapeControl } from "../text.js";

/** A mistake the user can fix (no stack trace unless `--logDebug`); exit 2. */
export class OpsUsageError extends ToilError {
  static override readonly code: string = "LEADER_OPS_USAGE";
}

/** The command was refused because a leader is running the workflow; exit 3. */
export class LeaderRunningError extends ToilError {
  static override readonly code: string = "LEADER_RUNNING";
}

/**
 * Exit code and message for an error thrown by an operating command. Every toil-ts error (a missing
 * store, a bad locator, a newer version, an unknown job id) is about input; the exit code follows
 * from its code (cli/exit-codes.ts).
 */
export function describeOpsError(err: unknown): { exitCode: number; message: string; user: boolean } {
  const exitCode = opsExitCode(err);
  if (isToilError(err)) return { exitCode, message: err.message, user: true };
  const message = err instanceof Error ? err.message : String(err);
  return { exitCode, message: `internal error: ${message}`, user: false };
}

/** Print an error the way every operating command does; returns the exit code. */
export function reportOpsError(err: unknown, io: OpsIO, command: string, logDebug = false): number {
  const { exitCode, message, user } = describeOpsError(err);
  // Same form as every `toil` error: `toil <command>: error [<ErrorClass>]: <message>`.
  const name = err instanceof Error ? (err.name && err.name !== "Error" ? err.name : err.constructor?.name || "Error") : "Error";
  io.stderr.write(`toil ${command}: error [${name}]: ${escapeControl(oneLine(message))}\n`);
  if (logDebug && err instanceof Error && err.stack) io.stderr.write(`${err.stack}\n`);
  else if (!user) io.stderr.write(`Rerun with --logDebug for the stack trace, and report it if it persists.\n`);
  return exitCode;
}

/** A job store opened by an operating command. */
export interface OpenedStore {
  store: JobStore;
  /** The store's directory when it is a file job store (names the report). */
  root: string | undefined;
}

/**
 * Explain what is at a file-store path that is not a usable job store, or undefined if it looks
 * like one. Gives `toil <cmd>` errors that say what to do.
 */
function fileStoreProblem(root: string, locator: string): string | undefined {
  let st: fs.Stats;
  try {
    st = fs.statSync(root);
  } catch {
    return `No job store exists at ${locator}: nothing is at ${root}. Check the path (it is the --jobStore the workflow was started with); a workflow that finished may have deleted its store.`;
  }
  if (!st.isDirectory()) {
    return `${root} is a file, not a job store. Give the directory passed as --jobStore to \`toil run\`.`;
  }
  if (!fs.existsSync(path.join(root, "format.json"))) {
    return `${root} is a directory but not a job store (it has no format.json). Give the directory passed as --jobStore to \`toil run\`.`;
  }
  return undefined;
}

/** Parse and resume an existing job store, with errors that say what to do. */
export async function openExistingStore(locator: string, cwd: string): Promise<OpenedStore> {
  const parsed = parseLocator(locator, cwd);
  if (parsed.kind === "file") {
    const problem = fileStoreProblem(parsed.rest, locator);
    if (problem) throw new OpsUsageError(problem);
  }
  const store = openJobStore(parsed.canonical);
  try {
    await store.resume();
  } catch (err) {
    if (err instanceof JobStoreVersionError) {
      throw new OpsUsageError(
        `The job store at ${locator} was written by a newer toil-ts (layout version ${JSON.stringify(err.found)}; ` +
          `this one reads up to ${err.supported}). Run this command with the toil-ts release that ran the workflow.`,
      );
    }
    if (err instanceof NoSuchJobStoreError) throw new OpsUsageError(err.message);
    throw err;
  }
  return { store, root: store instanceof FileJobStore ? store.root : undefined };
}

/** The leader that holds the workflow's leader lock, as far as this machine can tell. */
export interface LeaderInfo {
  pid: number;
  host: string;
  since: number | undefined;
  /** True: running here; false: not running; undefined: runs on another host (cannot tell). */
  alive: boolean | undefined;
  local: boolean;
}

/**
 * Who leads the workflow: the holder of the store's leader lock (`readLeaderLock()`, which also
 * checks whether a holder on this machine is alive); undefined when nobody holds it.
 */
export async function leaderInfo(opened: OpenedStore): Promise<LeaderInfo | undefined> {
  const lock = await opened.store.readLeaderLock();
  if (!lock) return undefined;
  return { pid: lock.pid, host: lock.host, since: lock.since, local: lock.local, alive: lock.alive };
}

/** Refuse a job description written by a newer toil-ts. */
function checkJobFormat(doc: JobDescriptionJSON): JobDescriptionJSON {
  if (typeof doc.format === "number" && doc.format > JOB_DESCRIPTION_FORMAT) {
    throw new OpsUsageError(
      `Job ${doc.id} in the store uses description format ${doc.format}, newer than this toil-ts reads (${JOB_DESCRIPTION_FORMAT}). Use the toil-ts release that ran the workflow.`,
    );
  }
  return doc;
}

/** Every stored job description as its JSON document (no job bodies are rebuilt): `jobDocuments()`. */
export async function* scanJobDocuments(opened: OpenedStore): AsyncIterable<JobDescriptionJSON> {
  for await (const doc of opened.store.jobDocuments()) yield checkJobFormat(doc);
}
