import { readdirSync, readFileSync } from "node:fs";
import { setTimeout as delay } from "node:timers/promises";

/** One process as seen in /proc. */
interface ProcInfo {
  pid: number;
  ppid: number;
  pgrp: number;
  session: number;
  zombie: boolean;
}

const HAVE_PROC = (() => {
  try {
    readFileSync("/proc/self/stat", "utf8");
    return true;
  } catch {
    return false;
  }
})();

function readStat(pid: number): ProcInfo | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may contain spaces or parentheses.
  const close = text.lastIndexOf(")");
  const fields = text.slice(close + 2).split(" ");
  return {
    pid,
    zombie: fields[0] === "Z" || fields[0] === "X",
    ppid: Number(fields[1]),
    pgrp: Number(fields[2]),
    session: Number(fields[3]),
  };
}

/**
 * When `pid` started (field 22 of /proc/<pid>/stat, clock ticks since boot), or null when it is
 * gone. A pid and its start time name one process: a reused pid has another start time.
 */
export function processStartTime(pid: number): string | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  return text.slice(text.lastIndexOf(")") + 2).split(" ", 20)[19] ?? null;
}

/** Pids of all processes (from /proc). */
export function listPids(): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    const c = name.charCodeAt(0);
    if (c >= 48 && c <= 57) out.push(Number(name));
  }
  return out;
}

/** Whether `pid`'s environment contains `marker` (false when it cannot be read). */
export function environHas(pid: number, marker: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`).includes(marker);
  } catch {
    return false;
  }
}

/**
 * What identifies a job's processes: its process group / session leader pid (the job runs in
 * its own session), and an environment marker every descendant inherits unless it clears its
 * environment. Descendants by parent pid are included too.
 */
export interface ProcessTreeSelector {
  /** Pids whose process group, session and descendants belong to the tree. */
  roots: readonly number[];
  /** `NAME=value` text that marks the tree's processes in /proc/<pid>/environ (prefix match allowed). */
  envMarker?: string;
}

/** Live (non-zombie) processes belonging to the tree, excluding this process. */
export function findTreeProcesses(sel: ProcessTreeSelector): number[] {
  if (!HAVE_PROC) return sel.roots.filter(isAlive);
  const roots = new Set(sel.roots);
  const infos: ProcInfo[] = [];
  for (const pid of listPids()) {
    if (pid === process.pid) continue;
    const info = readStat(pid);
    if (info) infos.push(info);
  }
  const members = new Set<number>();
  for (const p of infos) {
    if (roots.has(p.pid) || roots.has(p.pgrp) || roots.has(p.session)) members.add(p.pid);
    else if (sel.envMarker && environHas(p.pid, sel.envMarker)) members.add(p.pid);
  }
  // Close over descendants (a child may have moved to a new session).
  const children = new Map<number, number[]>();
  for (const p of infos) {
    const list = children.get(p.ppid);
    if (list) list.push(p.pid);
    else children.set(p.ppid, [p.pid]);
  }
  const stack = [...members];
  while (stack.length) {
    const pid = stack.pop() as number;
    for (const c of children.get(pid) ?? []) {
      if (!members.has(c)) {
        members.add(c);
        stack.push(c);
      }
    }
  }
  const zombies = new Set(infos.filter((p) => p.zombie).map((p) => p.pid));
  return [...members].filter((pid) => !zombies.has(pid) && pid !== process.pid);
}

/** Whether a pid names a live, non-zombie process. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  if (!HAVE_PROC) return true;
  const info = readStat(pid);
  return info !== null && !info.zombie;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** Signal a whole process group (ignoring a group that is already gone). */
export function signalGroup(pgid: number, sig: NodeJS.Signals): void {
  signal(-pgid, sig);
}

/**
 * Take a process tree down: SIGTERM to everything in it, up to `graceSeconds` for it to exit,
 * then SIGKILL, repeated until nothing in the tree is left (processes that fork while being
 * killed, ignore SIGTERM, or moved to their own session are caught by the rescans).
 */
export async function killProcessTree(sel: ProcessTreeSelector, graceSeconds: number): Promise<void> {
  // Once found, a process is tracked by pid until it is gone: while it exits, its environment
  // and parentage may already be torn down, so a rescan alone could miss it.
  const known = new Set<number>();
  const rescan = (): number[] => {
    for (const pid of findTreeProcesses(sel)) known.add(pid);
    for (const pid of known) if (!isAlive(pid)) known.delete(pid);
    return [...known];
  };
  let targets = rescan();
  if (targets.length === 0) return;
  for (const root of sel.roots) signalGroup(root, "SIGTERM");
  for (const pid of targets) signal(pid, "SIGTERM");
  const deadline = Date.now() + graceSeconds * 1000;
  let wait = 5;
  while (Date.now() < deadline) {
    await delay(wait);
    wait = Math.min(wait * 2, 50);
    targets = rescan();
    if (targets.length === 0) return;
  }
  for (let round = 0; ; round++) {
    for (const root of sel.roots) signalGroup(root, "SIGKILL");
    for (const pid of targets) signal(pid, "SIGKILL");
    await delay(round === 0 ? 2 : 10);
    targets = rescan();
    if (targets.length === 0) return;
    if (round > 1000) throw new Error(`Processes ${targets.join(", ")} survive SIGKILL (uninterruptible sleep?)`);
  }
}
