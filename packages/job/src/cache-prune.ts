/**
 * Keeps the cache of stripped sources and direct-import copies (`$XDG_CACHE_HOME/toil-ts`) from
 * growing without end: every entry is rebuilt on demand, so one that no process has used for
 * {@link IDLE_DAYS} days is removed. Pruning runs only in a process that has just added an entry
 * (a cache miss, rare by design) and at most once a day per cache, recorded by the time of a stamp
 * file, so a run that finds everything cached never pays for it.
 *
 * "Used" is the later of an entry's access and modification times. On the usual `relatime` mounts
 * a read moves the access time at most once a day, which is all this needs; on a `noatime` mount an
 * entry in use is removed after {@link IDLE_DAYS} days and stripped again by its next user.
 */
import { readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import path from "node:path";

/** An entry unused this long is removed. */
export const IDLE_DAYS = 30;
const DAY_MS = 86_400_000;
/** A temp file or directory of a writer this old was left by a process that died while writing. */
const ABANDONED_MS = 3_600_000;
/** The stamp whose modification time says when the cache was last pruned. */
export const PRUNE_STAMP = ".last-pruned";

function lastUse(p: string): number | undefined {
  try {
    const st = statSync(p);
    return Math.max(st.atimeMs, st.mtimeMs);
  } catch {
    return undefined;
  }
}

function isAbandonedTemp(name: string, used: number, now: number): boolean {
  return name.endsWith(".tmp") && now - used > ABANDONED_MS;
}

/** Files of `stripped/`: stripped sources and import records. */
function pruneFiles(dir: string, now: number): number {
  let removed = 0;
  for (const name of readdirSync(dir)) {
    const file = path.join(dir, name);
    const used = lastUse(file);
    if (used === undefined) continue;
    if (now - used > IDLE_DAYS * DAY_MS || isAbandonedTemp(name, used, now)) {
      rmSync(file, { force: true, recursive: true });
      removed++;
    }
  }
  return removed;
}

/**
 * Directories of `direct/`, one per module graph, judged by its entry module `m0.mjs` (what every
 * import of the graph reads first). Each is renamed away before it is removed, so no process ever
 * finds half of one: a process that already resolved it is the only one that could, and only if it
 * stayed unused for a month before that very moment.
 */
function pruneGraphs(dir: string, now: number): number {
  let removed = 0;
  for (const name of readdirSync(dir)) {
    const graph = path.join(dir, name);
    const used = name.endsWith(".tmp") ? lastUse(graph) : lastUse(path.join(graph, "m0.mjs")) ?? lastUse(graph);
    if (used === undefined) continue;
    if (now - used <= IDLE_DAYS * DAY_MS && !isAbandonedTemp(name, used, now)) continue;
    const doomed = name.endsWith(".tmp") ? graph : `${graph}.${process.pid}.pruned.tmp`;
    try {
      if (doomed !== graph) renameSync(graph, doomed);
      rmSync(doomed, { recursive: true, force: true });
      removed++;
    } catch {
      // Another process pruned it first.
    }
  }
  return removed;
}

/**
 * Remove the entries of the cache at `root` that no process has used for {@link IDLE_DAYS} days,
 * unless it was pruned less than a day ago. Never throws: a cache that cannot be pruned is left
 * as it is. Returns the number of entries removed (0 when it did not prune).
 */
export function pruneCache(root: string, now = Date.now()): number {
  const stamp = path.join(root, PRUNE_STAMP);
  const last = lastUse(stamp);
  if (last !== undefined && now - last < DAY_MS && last <= now) return 0;
  let removed = 0;
  try {
    // Stamp first: of processes that miss at the same moment, the others see a fresh stamp.
    writeFileSync(stamp, "", { mode: 0o600 });
    utimesSync(stamp, now / 1000, now / 1000);
    for (const [sub, prune] of [
      ["stripped", pruneFiles],
      ["direct", pruneGraphs],
    ] as const) {
      try {
        removed += prune(path.join(root, sub), now);
      } catch {
        // No such directory yet, or unreadable: nothing to prune there.
      }
    }
  } catch {
    // A read-only or full cache: it is used as it is.
  }
  return removed;
}
