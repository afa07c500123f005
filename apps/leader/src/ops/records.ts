/**
 * Per-job statistics records: what a worker reports about each job it ran (when the workflow runs
 * with `--stats`), as read back from the job store's logs/stats mailbox.
 *
 * A mailbox message is one JSON document per worker run. Its `stats` member (version 1) is:
 *
 * ```json
 * { "stats": { "host": "node1", "pid": 4242,
 *     "jobs": [ { "jobId": "Vx3…", "jobName": "sort", "kind": "sort",
 *                 "start": 1764100000000, "end": 1764100002500,     // ms since the epoch
 *                 "cpu": 1.9, "memory": 104857600, "disk": 1048576,  // CPU seconds, peak RSS and disk bytes
 *                 "requested": { "cores": 1, "memory": 2147483648, "disk": 2147483648 },
 *                 "failed": false, "logTail": "…" } ] } }
 * ```
 *
 * Only `jobId`/`jobName` and `start`/`end` are required; unknown fields are ignored.
 */

/** One job run (one attempt) as the report and `toil stats` see it. */
export interface JobRecord {
  id: string;
  name: string;
  /** The job's kind: its class or function name (groups the stats table). */
  kind: string;
  /** Machine it ran on, when known. */
  host?: string;
  /** Worker lane on that host (assigned by {@link assignSlots} when absent). */
  slot?: number;
  /** Start and end, ms since the epoch. */
  start: number;
  end: number;
  /** CPU seconds used (user + system), when measured. */
  cpuSeconds?: number;
  /** Peak memory in bytes, when measured. */
  peakMemory?: number;
  /** Disk used in bytes, when measured. */
  disk?: number;
  /** What the job asked for. */
  requested?: { cores: number; memory: number; disk: number };
  failed: boolean;
  /** Last lines of the job's log (failed jobs). */
  logTail?: string;
}

function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

/**
 * Build a record from an entry and the values already resolved from it (one allocation; the hot
 * path of `toil stats` on 100,000 messages).
 */
function makeRecord(
  e: Record<string, unknown>,
  id: string,
  name: string,
  start: number,
  end: number,
  cpu: number | undefined,
  mem: number | undefined,
  failed: boolean,
  host: string | undefined,
): JobRecord {
  const rec: JobRecord = { id, name, kind: str(e.kind) ?? name, start, end: end > start ? end : start, failed };
  const h = str(e.host) ?? host;
  if (h !== undefined) rec.host = h;
  const slot = num(e.slot);
  if (slot !== undefined) rec.slot = slot;
  if (cpu !== undefined) rec.cpuSeconds = cpu;
  if (mem !== undefined) rec.peakMemory = mem;
  const disk = num(e.disk);
  if (disk !== undefined) rec.disk = disk;
  const req = e.requested;
  if (req && typeof req === "object") {
    const r = req as Record<string, unknown>;
    rec.requested = { cores: num(r.cores) ?? 1, memory: num(r.memory) ?? 0, disk: num(r.disk) ?? 0 };
  }
  const tail = str(e.logTail);
  if (tail !== undefined) rec.logTail = tail;
  return rec;
}

/** Parse one stats entry; undefined if it lacks what every record needs. */
function parseJobEntry(entry: unknown, host?: string): JobRecord | undefined {
  if (!entry || typeof entry !== "object") return undefined;
  const e = entry as Record<string, unknown>;
  const id = str(e.jobId);
  const name = str(e.jobName) ?? id;
  const start = num(e.start);
  const end = num(e.end);
  if (id === undefined || name === undefined || start === undefined || end === undefined) return undefined;
  return makeRecord(e, id, name, start, end, num(e.cpu), num(e.memory), e.failed === true, host);
}

/**
 * The worker's own per-job entries (`jobs: [{ name, jobId, seconds, cpuSeconds, memoryKiB, succeeded }]`,
 * optionally with `start`, `kind`, `host`, `disk`, `requested`). Entries without a start are laid
 * end to end (a chain runs its jobs one after the other), ending when the message was written.
 * Visits them last first.
 */
function visitWorkerEntries(entries: unknown[], writtenAt: number | undefined, host: string | undefined, visit: (r: JobRecord) => void): void {
  let end = writtenAt;
  for (let i = entries.length - 1; i >= 0; i--) {
    const e = entries[i];
    if (!e || typeof e !== "object") continue;
    const r = e as Record<string, unknown>;
    const seconds = num(r.seconds) ?? 0;
    let start = num(r.start);
    if (start === undefined) {
      if (end === undefined) continue; // cannot place it in time
      start = end - seconds * 1000;
    }
    end = start;
    const id = str(r.jobId);
    const name = str(r.jobName) ?? str(r.name) ?? id;
    if (id === undefined || name === undefined) continue;
    const memKiB = num(r.memoryKiB);
    const failed = r.failed !== undefined && r.failed !== null ? r.failed === true : r.succeeded === false;
    visit(
      makeRecord(r, id, name, start, num(r.end) ?? start + seconds * 1000, num(r.cpu) ?? num(r.cpuSeconds), num(r.memory) ?? (memKiB !== undefined ? memKiB * 1024 : undefined), failed, host),
    );
  }
}

/**
 * Hand each job record of one mailbox message to `visit` (none if it carries no stats), without
 * collecting them. `writtenAt` (ms) places entries that carry only durations. Returns true when
 * the records were visited last first (a worker's chain), false when in the order they ran.
 */
export function visitRecordsOfMessage(raw: string | Buffer, writtenAt: number | undefined, visit: (r: JobRecord) => void): boolean {
  let doc: unknown;
  try {
    doc = JSON.parse(typeof raw === "string" ? raw : raw.toString("utf8"));
  } catch {
    return false;
  }
  if (!doc || typeof doc !== "object") return false;
  const d = doc as { stats?: unknown; jobs?: unknown; host?: unknown; time?: unknown };
  if (Array.isArray(d.jobs)) {
    visitWorkerEntries(d.jobs, num(d.time) ?? writtenAt, str(d.host), visit);
    return true;
  }
  const stats = d.stats;
  if (!stats || typeof stats !== "object") return false;
  const s = stats as { host?: unknown; jobs?: unknown };
  if (!Array.isArray(s.jobs)) return false;
  const host = str(s.host);
  for (const e of s.jobs) {
    const rec = parseJobEntry(e, host);
    if (rec) visit(rec);
  }
  return false;
}

/**
 * The job records of one mailbox message (none if it carries no stats), in the order they ran.
 * `writtenAt` (ms) places entries that carry only durations.
 */
export function recordsOfMessage(raw: string, writtenAt?: number): JobRecord[] {
  const out: JobRecord[] = [];
  if (visitRecordsOfMessage(raw, writtenAt, (r) => out.push(r))) out.reverse();
  return out;
}

/** Wall-clock seconds of a record. */
export function wallSeconds(r: JobRecord): number {
  return (r.end - r.start) / 1000;
}

/** Seconds the job's reserved cores sat idle: wall × cores − CPU, never negative (Toil's "wait"). */
export function waitSeconds(r: JobRecord): number | undefined {
  if (r.cpuSeconds === undefined) return undefined;
  return Math.max(0, wallSeconds(r) * (r.requested?.cores ?? 1) - r.cpuSeconds);
}

/**
 * Give each record a worker lane: per host, jobs sorted by start take the lowest-numbered lane that
 * is free at their start. The number of lanes is the peak concurrency on that host. Records that
 * already carry a slot keep it. Returns the number of lanes per host.
 */
export function assignSlots(records: JobRecord[]): Map<string, number> {
  const byHost = new Map<string, JobRecord[]>();
  for (const r of records) {
    const h = r.host ?? "";
    let list = byHost.get(h);
    if (!list) byHost.set(h, (list = []));
    list.push(r);
  }
  const lanes = new Map<string, number>();
  for (const [host, list] of byHost) {
    list.sort((a, b) => a.start - b.start || a.end - b.end);
    const laneEnd: number[] = [];
    for (const r of list) {
      if (r.slot !== undefined) {
        while (laneEnd.length <= r.slot) laneEnd.push(-Infinity);
        laneEnd[r.slot] = Math.max(laneEnd[r.slot]!, r.end);
        continue;
      }
      let lane = laneEnd.findIndex((end) => end <= r.start);
      if (lane < 0) {
        lane = laneEnd.length;
        laneEnd.push(r.end);
      } else laneEnd[lane] = r.end;
      r.slot = lane;
    }
    lanes.set(host, laneEnd.length);
  }
  return lanes;
}
