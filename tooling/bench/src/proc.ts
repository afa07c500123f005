/**
 * Memory (and CPU) of a process tree, sampled from /proc.
 *
 * Every `intervalMs` the sampler walks the tree under the root pid through
 * `/proc/<pid>/task/<tid>/children` (every thread of every process, since a child belongs to the
 * thread that forked it) and reads `/proc/<pid>/status` (VmRSS, VmHWM) and `/proc/<pid>/stat`
 * (utime + stime) of each process. From that it keeps:
 *
 * - the root's peak RSS: the largest VmHWM read (VmHWM is the kernel's own high-water mark, so a
 *   short peak between two samples is still seen, as long as the process is sampled once after it);
 * - per process, its largest VmHWM; their sum is the "summed peak RSS of all processes" (an upper
 *   bound on memory in use at once, since processes may peak at different times);
 * - the largest sum of VmRSS over the tree in one sample ("peak concurrent RSS");
 * - CPU seconds per process at its last sample (a lower bound: the tail after the last sample is lost).
 *
 * A process that starts and exits between two samples is missed; warm workers live for the whole
 * run, so at 50 ms this only loses short helper processes.
 */
import { readFileSync, readdirSync } from "node:fs";

const CLOCK_TICKS = 100; // USER_HZ on Linux

export interface ProcessRecord {
  pid: number;
  ppid: number;
  command: string;
  peakRssBytes: number;
  cpuSeconds: number;
  firstSeenMs: number;
  lastSeenMs: number;
}

export interface TreeStats {
  rootPeakRssBytes: number;
  summedPeakRssBytes: number;
  peakConcurrentRssBytes: number;
  processes: number;
  cpuSeconds: number;
  samples: number;
  records: ProcessRecord[];
}

function readStatus(pid: number): { rss: number; hwm: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, "latin1");
  } catch {
    return undefined;
  }
  const kb = (key: string): number => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text);
    return m ? Number(m[1]) * 1024 : 0;
  };
  return { rss: kb("VmRSS"), hwm: kb("VmHWM") };
}

function readCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS; // utime, stime (fields 14, 15)
  } catch {
    return undefined;
  }
}

function readCommand(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "latin1").split("\0").filter(Boolean).join(" ").slice(0, 300);
  } catch {
    return "?";
  }
}

/** Direct children of a process (all its threads). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, "latin1").trim();
      if (text) for (const c of text.split(" ")) out.push(Number(c));
    } catch {
      // thread exited
    }
  }
  return out;
}

/** The root and all its descendants, root first. */
function processTree(root: number): { pid: number; ppid: number }[] {
  const out = [{ pid: root, ppid: 0 }];
  for (let i = 0; i < out.length; i++) {
    const p = out[i] as { pid: number };
    for (const c of childrenOf(p.pid)) out.push({ pid: c, ppid: p.pid });
  }
  return out;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

export class TreeSampler {
  readonly #root: number;
  readonly #records = new Map<number, ProcessRecord>();
  readonly #timer: NodeJS.Timeout;
  #peakConcurrent = 0;
  #rootPeak = 0;
  #samples = 0;

  constructor(root: number, intervalMs = 50) {
    this.#root = root;
    this.sample();
    this.#timer = setInterval(() => this.sample(), intervalMs);
    this.#timer.unref();
  }

  /** Take one sample now (also called by the timer). */
  sample(): void {
    const now = Date.now();
    let concurrent = 0;
    for (const { pid, ppid } of processTree(this.#root)) {
      const st = readStatus(pid);
      if (st === undefined || st.hwm === 0) continue; // gone, or a zombie
      concurrent += st.rss;
      let rec = this.#records.get(pid);
      if (rec === undefined) {
        rec = { pid, ppid, command: readCommand(pid), peakRssBytes: 0, cpuSeconds: 0, firstSeenMs: now, lastSeenMs: now };
        this.#records.set(pid, rec);
      }
      rec.lastSeenMs = now;
      rec.peakRssBytes = Math.max(rec.peakRssBytes, st.hwm);
      rec.cpuSeconds = readCpuSeconds(pid) ?? rec.cpuSeconds;
      if (pid === this.#root) this.#rootPeak = Math.max(this.#rootPeak, st.hwm);
    }
    this.#peakConcurrent = Math.max(this.#peakConcurrent, concurrent);
    this.#samples++;
  }

  /** Pids seen so far (root included). */
  pids(): number[] {
    return [...this.#records.keys()];
  }

  stop(): TreeStats {
    clearInterval(this.#timer);
    const records = [...this.#records.values()];
    return {
      rootPeakRssBytes: this.#rootPeak,
      summedPeakRssBytes: records.reduce((s, r) => s + r.peakRssBytes, 0),
      peakConcurrentRssBytes: this.#peakConcurrent,
      processes: records.length,
      cpuSeconds: records.reduce((s, r) => s + r.cpuSeconds, 0),
      samples: this.#samples,
      records,
    };
  }
}
