/** Identity of a process that survives pid reuse: pid + host + boot id + kernel start time. */
import * as fs from "node:fs";
import * as os from "node:os";

export interface ProcessIdentity {
  pid: number;
  host: string;
  /** Kernel boot id (Linux), so a pid from before a reboot is never taken for a live one. */
  bootId: string;
  /** Process start time in clock ticks since boot (field 22 of /proc/<pid>/stat), "" if unknown. */
  startTicks: string;
}

let bootIdCache: string | undefined;
export function bootId(): string {
  if (bootIdCache === undefined) {
    try {
      bootIdCache = fs.readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    } catch {
      bootIdCache = "";
    }
  }
  return bootIdCache;
}

export function startTicksOf(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return rest[19]; // field 22 overall = index 19 after pid and comm
  } catch {
    return undefined;
  }
}

export function currentProcessIdentity(): ProcessIdentity {
  return { pid: process.pid, host: os.hostname(), bootId: bootId(), startTicks: startTicksOf(process.pid) ?? "" };
}

/**
 * Whether the process described is still running. Only answerable for this host: for another host the
 * answer is "alive" (we cannot know, so we never take over its locks).
 */
export function isProcessAlive(id: ProcessIdentity): boolean {
  if (id.host !== os.hostname()) return true;
  if (id.bootId !== "" && bootId() !== "" && id.bootId !== bootId()) return false;
  try {
    process.kill(id.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ESRCH") return false;
  }
  const ticks = startTicksOf(id.pid);
  if (ticks === undefined) return !fs.existsSync("/proc/self/stat") || fs.existsSync(`/proc/${id.pid}`);
  return id.startTicks === "" || ticks === id.startTicks;
}
