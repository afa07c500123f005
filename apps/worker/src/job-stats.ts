/** What a worker measures of each job it runs: the stats records and the CPU over-use warning. */
import type { LeaderLogLine } from "@toil/filestore";
import type { Config, JobDescription } from "@toil/job/core";

/** One job run, in the stats format `toil stats` and the report read (see the README). */
export interface JobStat {
  jobId: string;
  jobName: string;
  kind: string;
  start: number;
  end: number;
  cpu: number;
  memory: number;
  requested: { cores: number; memory: number; disk: number };
  failed: boolean;
  logTail?: string;
}

/** CPU seconds beyond cores x wall (+5%) a job may use before the leader is warned. */
const CPU_OVERUSE_MARGIN_S = 1;

/**
 * The warning for the leader when a job used more CPU than cores x wall time (+5%) by at least a
 * second, else undefined.
 */
export function cpuOveruseWarning(ran: JobDescription, stat: JobStat): LeaderLogLine | undefined {
  const wall = (stat.end - stat.start) / 1000;
  // Over-use: more CPU than cores x wall time (+5%) by at least a second. The job's CPU is counted
  // from just before its run() (its module already imported), but a process that has just started
  // still compiles and collects garbage on background threads while a short job runs: a job that
  // does nothing can show a few tenths of a second, which is no reason to ask for more cores.
  const allowed = wall * stat.requested.cores * 1.05;
  if (!(wall > 0 && stat.requested.cores > 0 && stat.cpu - allowed >= CPU_OVERUSE_MARGIN_S)) return undefined;
  const cores = `${stat.requested.cores} core${stat.requested.cores === 1 ? "" : "s"}`;
  return {
    text: `Job ${ran.displayName} used ${stat.cpu.toFixed(2)} s of CPU in ${wall.toFixed(2)} s with ${cores} requested: it may need more cores`,
    level: "warning",
    jobId: ran.originalId,
    jobName: ran.displayName,
  };
}

/** The stats record of one run of `desc`, started at `started` with the process's CPU use then `cpu`; `ran` is when and how much CPU it had used when it ended (default: now). */
export function statOf(
  desc: JobDescription,
  started: number,
  cpu: NodeJS.CpuUsage,
  failed: boolean,
  config: Config,
  ran?: { end: number; cpu: NodeJS.CpuUsage },
): JobStat {
  const used = ran?.cpu ?? process.cpuUsage(cpu);
  let requested = { cores: 0, memory: 0, disk: 0 };
  try {
    const r = desc.resolvedRequirements(config);
    requested = { cores: r.cores, memory: r.memory, disk: r.disk };
  } catch {
    // requirements unknown
  }
  return {
    jobId: desc.originalId,
    jobName: desc.displayName,
    kind: desc.jobName,
    start: started,
    end: ran?.end ?? Date.now(),
    cpu: (used.user + used.system) / 1e6,
    // Reading the resident set size costs a /proc read: only runs that keep stats (--stats) report it.
    memory: config.stats ? process.memoryUsage.rss() : 0,
    requested,
    failed,
  };
}
