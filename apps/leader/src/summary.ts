import type { LeaderCounts } from "./leader/leader.js";
import { plural } from "./text.js";

/** The figures of a run's last line, as the JSON log keeps them. */
export interface RunFigures {
  outcome: "completed" | "failed" | "stopped";
  succeeded: number;
  retried: number;
  failed: number;
  wallSeconds: number;
  jobsPerSecond: number;
  logFile?: string;
}

/**
 * The line that ends every run, each figure once:
 * `Workflow completed: 8 jobs succeeded, 0 retried, 0 failed in 0.68 s (11.8 jobs/s). Log: /w/js.log`
 */
export function runSummary(
  outcome: RunFigures["outcome"],
  counts: LeaderCounts,
  seconds: number,
  logFile: string | undefined,
): { text: string; figures: RunFigures } {
  const jobsPerSecond = Number((counts.done / Math.max(seconds, 1e-3)).toFixed(1));
  const figures: RunFigures = {
    outcome,
    succeeded: counts.done,
    retried: counts.retried,
    failed: counts.failed,
    wallSeconds: Number(seconds.toFixed(2)),
    jobsPerSecond,
    ...(logFile ? { logFile } : {}),
  };
  const wall = seconds < 60 ? `${seconds.toFixed(2)} s` : `${Math.floor(seconds / 60)} min ${Math.floor(seconds % 60)} s`;
  const text =
    `Workflow ${outcome}: ${plural(counts.done, "job")} succeeded, ${counts.retried} retried, ${counts.failed} failed ` +
    `in ${wall} (${jobsPerSecond.toFixed(1)} jobs/s).${logFile ? ` Log: ${logFile}` : ""}`;
  return { text, figures };
}
