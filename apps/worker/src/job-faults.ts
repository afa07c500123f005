/**
 * Errors nobody handled in a job's code: a promise rejection no one awaited or caught, an exception
 * thrown from a timer or an event handler. Node would print its crash dump and kill the process,
 * naming no job; here each such error is traced to the job whose code created it (the async context
 * of a job's run carries its scope into every promise and timer it makes):
 *
 * - while that job runs, it fails with the error (its log holds the error and its stack);
 * - after it committed (a timer that fires later), the error is reported to the leader under that
 *   job's name and never fails whichever job runs next in the process;
 * - either way the process is marked unfit for more jobs (a warm host is replaced).
 *
 * An unhandled error outside any job's code (the worker's own) ends the process, as it would
 * without these handlers.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { ToilError } from "@toil/job/core";
import { userStack } from "./user-stack.js";

/** What kind of unhandled error it was, as people call it. */
export type FaultKind = "unhandled promise rejection" | "uncaught exception";

/** A job's failure caused by an error its code left unhandled. */
export class UnhandledJobError extends ToilError {
  static override readonly code: string = "WORKER_UNHANDLED_ERROR";
  constructor(
    /** What kind of unhandled error it was. */
    readonly kind: FaultKind,
    /** The error (or value) that was thrown or rejected. */
    readonly error: unknown,
  ) {
    super(`${kind === "unhandled promise rejection" ? "An unhandled promise rejection (a promise nobody awaited or caught)" : "An uncaught exception (thrown from a timer, event handler or callback)"} in the job's code:\n${userStack(error)}`);
    // The stack users need is the one of the error their code raised, printed in the message.
    this.stack = `${this.name}: ${this.message}`;
  }
}

/** The job a piece of code belongs to, for as long as any of its promises or timers live. */
export interface JobScope {
  /** Display name and id of the job, for reports. */
  readonly label: string;
  /** True once the job's run has returned: later errors are reported, not turned into its failure. */
  ended: boolean;
  /** Fail the running job with the error (set by {@link runInJobScope}). */
  fail(err: UnhandledJobError): void;
  /** Report an error raised after the job ended. */
  reportLate(err: UnhandledJobError): void;
}

const scopes = new AsyncLocalStorage<JobScope>();
let installed = false;
let unfit: string | undefined;
const unfitListeners = new Set<(reason: string) => void>();

/** Why this process must run no more jobs (an unhandled error happened in it), or undefined. */
export function processUnfitReason(): string | undefined {
  return unfit;
}

/** Call `listener` (once) when the process becomes unfit for more jobs; at once if it already is. */
export function onProcessUnfit(listener: (reason: string) => void): void {
  if (unfit !== undefined) listener(unfit);
  else unfitListeners.add(listener);
}

function markUnfit(reason: string): void {
  if (unfit !== undefined) return;
  unfit = reason;
  for (const l of unfitListeners) {
    try {
      l(reason);
    } catch {
      // a listener's failure must not hide the fault
    }
  }
  unfitListeners.clear();
}

function onFault(kind: FaultKind, error: unknown): void {
  const fault = new UnhandledJobError(kind, error);
  const scope = scopes.getStore();
  markUnfit(scope ? `${kind} in job ${scope.label}` : kind);
  if (scope && !scope.ended) scope.fail(fault);
  else if (scope) scope.reportLate(fault);
  else {
    // Not from a job's code: the worker's own. Its state is unknown, so end the process as Node
    // would (the batch system then reports the job it was running as failed).
    process.stderr.write(`toil-worker: ${kind} outside any job's code: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  }
}

/**
 * Handle unhandled rejections and uncaught exceptions of this process as the faults of the jobs
 * they come from (once per process; not in the leader's own process).
 */
export function installJobFaultHandlers(): void {
  if (installed) return;
  installed = true;
  process.on("unhandledRejection", (reason) => onFault("unhandled promise rejection", reason));
  process.on("uncaughtException", (err) => onFault("uncaught exception", err));
}

/**
 * Run `fn` (a job's run) in `scope`: resolves or rejects as `fn` does, or rejects with the first
 * unhandled error the job's code raises while it runs. Marks the scope ended when it settles.
 */
export function runInJobScope<T>(scope: JobScope, fn: () => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    scope.fail = (err) => {
      scope.ended = true;
      reject(err);
    };
    scopes.run(scope, () => {
      fn().then(
        (v) => {
          scope.ended = true;
          resolve(v);
        },
        (e) => {
          scope.ended = true;
          reject(e);
        },
      );
    });
  });
}
