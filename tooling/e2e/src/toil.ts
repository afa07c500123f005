import { readdirSync, readFileSync } from "node:fs";

export {
  collect,
  REPO_ROOT,
  requireBuild,
  type RunOptions,
  type RunResult,
  runToil,
  startToil,
  TOIL_CLI,
  tempDir,
  until,
} from "@toil/test-support";

/** Pids of live processes whose command line contains `needle` (read from /proc). */
export function processesMatching(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ");
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // A zombie has exited; its parent just has not reaped it yet.
      if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) continue;
      if (cmdline.includes(needle) && Number(entry) !== process.pid) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}
