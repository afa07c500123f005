/**
 * Stopping what a job left behind. A cold job's process group is killed when its process exits, but
 * a daemon it started in a new session or process group (and anything a job in a warm host started)
 * lives on: a sweep shortly after the job ended kills every process still carrying the job's marker.
 */
import { readFileSync } from "node:fs";
import { listPids, processStartTime, signalGroup } from "./process-tree.js";

/** How long after a job ends its escaped processes are swept (sweeps of many ending jobs are batched). */
const SWEEP_DELAY_MS = 100;

/** A process a sweep has looked at: when it started, and the job whose marker it carries (null: none of ours). */
export interface SeenProcess {
  owner: number | null;
  start: string;
}

/** The job id in `pid`'s marker (`<prefix><job id>`), or null when it carries no job marker of ours. */
function jobIdInEnviron(pid: number, prefix: Buffer): number | null {
  let env: Buffer;
  try {
    env = readFileSync(`/proc/${pid}/environ`);
  } catch {
    return null;
  }
  const at = env.indexOf(prefix);
  if (at < 0 || (at > 0 && env[at - 1] !== 0)) return null;
  let id = 0;
  let i = at + prefix.length;
  for (; i < env.length && env[i]! >= 48 && env[i]! <= 57; i++) id = id * 10 + (env[i]! - 48);
  // Warm hosts carry `<token>.h<n>`: not a job's.
  return i > at + prefix.length && (i === env.length || env[i] === 0) ? id : null;
}

/**
 * Sweeps are batched (one every {@link SWEEP_DELAY_MS} at most) and read only processes that
 * appeared since the previous sweep, so a busy workflow pays a directory listing per sweep, not a
 * scan of every process per job.
 */
export class EscapedProcessSweeper {
  private readonly endedSinceSweep = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  private readonly prefix: Buffer;

  /**
   * @param markerPrefix what a job's marker variable starts with, up to the job id (`NAME=<token>.`)
   * @param isRunning whether a job id is running again (its processes are then not escaped)
   * @param seen the processes already looked at, by pid (a sweep keeps it up to date)
   */
  constructor(
    markerPrefix: string,
    private readonly isRunning: (jobId: number) => boolean,
    private readonly seen = new Map<number, SeenProcess>(),
  ) {
    this.prefix = Buffer.from(markerPrefix);
  }

  /** A job ended: its escaped processes go with the next sweep, soon. */
  jobEnded(jobId: number): void {
    this.endedSinceSweep.add(jobId);
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.sweep();
    }, SWEEP_DELAY_MS);
    this.timer.unref();
  }

  /** No more sweeps (at shutdown). */
  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Kill every process carrying the marker of a job that ended since the last sweep; returns their pids. */
  sweep(): number[] {
    const ended = new Set(this.endedSinceSweep);
    this.endedSinceSweep.clear();
    const live = new Set<number>();
    const doomed: number[] = [];
    let pids: number[];
    try {
      pids = listPids();
    } catch {
      return []; // no /proc: escaped processes are left to the job's process group kill
    }
    for (const pid of pids) {
      live.add(pid);
      // A pid seen before is the same process only if it started at the same time: a reused pid
      // is read again, so an unrelated process is never killed for a job's marker it never had.
      const start = processStartTime(pid);
      if (start === null) continue;
      let seen = this.seen.get(pid);
      if (seen === undefined || seen.start !== start) {
        seen = { owner: jobIdInEnviron(pid, this.prefix), start };
        this.seen.set(pid, seen);
      }
      const owner = seen.owner;
      if (owner !== null && ended.has(owner) && !this.isRunning(owner)) doomed.push(pid);
    }
    for (const pid of this.seen.keys()) if (!live.has(pid)) this.seen.delete(pid);
    // A process group leader's group goes with it (its children may not carry the marker yet).
    for (const pid of doomed) {
      signalGroup(pid, "SIGKILL");
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone already
      }
    }
    return doomed;
  }
}
