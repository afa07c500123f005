/**
 * Inter-process mutual exclusion for small bookkeeping files on one node, built on proper-lockfile
 * (an atomic mkdir of `<file>.lock`, kept fresh by its holder; a holder that died stops refreshing
 * it and the lock is taken over once it is `staleMs` old). Contenders in the same process queue in
 * memory first, so only one of them at a time polls the lock directory.
 */
import type { lock } from "proper-lockfile";
import { FileStoreStateError } from "../errors.js";

/** Default age after which a lock whose holder stopped refreshing it is taken over. */
export const DEFAULT_LOCK_STALE_MS = 10_000;

/** Give up waiting for a lock after this long (a live holder keeps it only for milliseconds). */
const ACQUIRE_TIMEOUT_MS = 5 * 60_000;

/**
 * proper-lockfile, loaded on the first lock: it loads graceful-fs (which patches node:fs) and
 * signal-exit, which would cost every process start several milliseconds, and most never lock.
 */
let properLockfile: Promise<{ lock: typeof lock }> | undefined;
const loadLockfile = (): Promise<{ lock: typeof lock }> => (properLockfile ??= import("proper-lockfile").then((m) => m.default));

const queues = new Map<string, Promise<unknown>>();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One attempt at a time, with our own backoff (proper-lockfile's `retries` option precomputes its
 * whole schedule on every call, which is slow for long waits).
 */
async function acquire(file: string, staleMs: number, onCompromised: (err: Error) => void): Promise<() => Promise<void>> {
  const deadline = Date.now() + ACQUIRE_TIMEOUT_MS;
  let wait = 1;
  const lockfile = await loadLockfile();
  for (;;) {
    try {
      return await lockfile.lock(file, { realpath: false, stale: staleMs, retries: 0, onCompromised });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ELOCKED") {
        throw new FileStoreStateError(`Could not lock ${file}: ${(err as Error).message}`);
      }
      if (Date.now() > deadline) {
        throw new FileStoreStateError(
          `Gave up waiting for the lock ${file}.lock after ${ACQUIRE_TIMEOUT_MS / 1000} s: a live process holds it. ` +
            `Check for a hung worker on this node.`,
        );
      }
    }
    await sleep(wait * (0.5 + Math.random()));
    wait = Math.min(wait * 1.5, 50);
  }
}

/**
 * Run `fn` while holding the node-wide lock on `file` (the file itself need not exist). Keep `fn`
 * short and free of long awaits: the lock is refreshed on a timer, which a blocked event loop delays.
 */
export async function withFileLock<T>(file: string, fn: () => T | Promise<T>, staleMs = DEFAULT_LOCK_STALE_MS): Promise<T> {
  const previous = queues.get(file) ?? Promise.resolve();
  let done!: () => void;
  const mine = new Promise<void>((r) => (done = r));
  const tail = previous.then(() => mine);
  queues.set(file, tail);
  try {
    await previous;
    let compromised: Error | undefined;
    const release = await acquire(file, staleMs, (err) => (compromised = err));
    try {
      const result = await fn();
      if (compromised) {
        throw new FileStoreStateError(
          `The lock on ${file} was taken over while held (${compromised.message}); the process was stalled for ` +
            `longer than the stale threshold. Retry the operation.`,
        );
      }
      return result;
    } finally {
      await release().catch(() => {});
    }
  } finally {
    done();
    if (queues.get(file) === tail) queues.delete(file);
  }
}
