/**
 * The sbatch argument lists and batch scripts of the three ways jobs go to Slurm: one job per
 * `sbatch --wrap`, a job array whose task i runs the i-th job, and a job array whose task i runs
 * the i-th pack of jobs through the pack runner.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { escapeSlurmPattern, slurmJobName } from "./sbatch.js";
import { plainCommandWords, singleQuote } from "@toil/batch-core";
import type { TrackedJob } from "./tracked-job.js";

/** Where a job's stdout/stderr go, for a cluster id (a Slurm pattern such as `%j`, or a placeholder). */
export type LogPathOf = (job: TrackedJob, clusterId: string, std: "out" | "err") => string;

/** The file names of a workflow's batch logs. */
export interface LogNaming {
  /** The batch logs directory. */
  dir: string;
  /** The workflow id in file names. */
  workflowId: string;
  /** Logs are discarded (`--noStdOutErr`). */
  discard: boolean;
}

/** Slurm's own messages for array tasks (out-of-memory notices, ...): one file per task. */
export function arraySlurmLog(logs: LogNaming, kind = "array"): string {
  if (logs.discard) return "/dev/null";
  return `${escapeSlurmPattern(logs.dir)}/toil_${escapeSlurmPattern(logs.workflowId)}.${kind}_%A_%a.slurm.log`;
}

/** sbatch arguments of a single job (without the command): its Toil name, resources and log files. */
export function singleSbatchArgs(job: TrackedJob, logPath: LogPathOf): string[] {
  const out = escapeSlurmPattern(logPath(job, "%j", "out")).replace("%%j", "%j");
  const err = escapeSlurmPattern(logPath(job, "%j", "err")).replace("%%j", "%j");
  return ["--parsable", "-J", slurmJobName("toil_job", job.id, job.desc.jobKind), "--signal=B:INT@30", ...job.args, "-o", out, "-e", err];
}

/** What one `sbatch --array` call submits. */
export interface ArrayRequest {
  /** Job name prefix (`toil_array`, `toil_pack`, ...). */
  namePrefix: string;
  /** The id and kind the Slurm job name is made of. */
  nameId: number;
  /** The job kind in the name. */
  nameKind: string | undefined;
  /** Number of tasks. */
  tasks: number;
  /** Resource arguments shared by every task. */
  resourceArgs: readonly string[];
  /** Where Slurm writes the tasks' own output (a pattern with `%A`/`%a`). */
  slurmLog: string;
}

/** The sbatch arguments of a job array (the script comes on stdin). */
export function arraySbatchArgs(r: ArrayRequest): string[] {
  return [
    "--parsable",
    "-J",
    slurmJobName(r.namePrefix, r.nameId, r.nameKind),
    `--array=0-${r.tasks - 1}`,
    "--signal=B:INT@30",
    ...r.resourceArgs,
    "-o",
    r.slurmLog,
  ];
}

/** A batch script whose array task i runs `cases[i]` (shell lines). */
function taskSwitchScript(title: string, cases: readonly string[][], noTask: string): string {
  const lines = ["#!/bin/sh", `# ${title}`, 'case "$SLURM_ARRAY_TASK_ID" in'];
  cases.forEach((body, i) => lines.push(`${i})`, ...body.map((l) => `  ${l}`), "  ;;"));
  lines.push(`*) echo "${noTask} $SLURM_ARRAY_TASK_ID" >&2; exit 1 ;;`, "esac", "");
  return lines.join("\n");
}

/**
 * The batch script of a job array whose task i runs the i-th job's command, with its output in
 * the Toil-named log files (`formatStdOutErrPath` with the task's cluster id filled in by the shell).
 */
export function arrayScript(jobs: readonly TrackedJob[], logPathWithPlaceholder: ((job: TrackedJob, std: "out" | "err") => string) | null): string {
  const cases = jobs.map((job, i) => {
    const body: string[] = [];
    if (logPathWithPlaceholder) {
      // The Toil-named log files, with the array task's cluster id (<array id>_<task>) filled in by the shell.
      const path = (std: "out" | "err"): string => {
        const [before, after] = logPathWithPlaceholder(job, std).split("\0") as [string, string];
        return `${singleQuote(before)}"\${SLURM_ARRAY_JOB_ID}_${i}"${singleQuote(after)}`;
      };
      body.push(`exec >${path("out")} 2>${path("err")}`);
    }
    body.push(`exec ${job.command}`);
    return body;
  });
  return taskSwitchScript("Toil job array: task i runs the i-th Toil job.", cases, "Toil job array: no job for task");
}

/** A job pack array ready to submit: its script and the runner's directory. */
export interface PackArray {
  /** The groups of jobs, one per task. */
  groups: TrackedJob[][];
  /** The runner's status directory. */
  dir: string;
  /** The batch script. */
  script: string;
}

/**
 * Writes one manifest per task for the pack runner (in a new `toil_<wf>.pack-*` directory of the
 * batch logs directory) and builds the array's script: task i runs the i-th group of `per` jobs.
 */
export function packArray(
  jobs: readonly TrackedJob[],
  per: number,
  logs: LogNaming,
  logPath: LogPathOf,
  runner: { node: string; script: string },
): PackArray {
  const dir = mkdtempSync(join(logs.dir, `toil_${logs.workflowId}.pack-`));
  const groups: TrackedJob[][] = [];
  for (let i = 0; i < jobs.length; i += per) groups.push(jobs.slice(i, i + per));
  const cases = groups.map((group, i) => {
    const manifest = join(dir, `task-${i}.json`);
    const entries = group.map((job) => ({
      id: job.id,
      command: job.command,
      // The runner executes argv without a shell (warm when it can). A job issued as a shell line
      // without argv runs through sh -c, unless the line is plain words a shell would not expand.
      argv: job.argv ?? plainCommandWords(job.command),
      out: logPath(job, "%T", "out"),
      err: logPath(job, "%T", "err"),
    }));
    writeFileSync(manifest, JSON.stringify({ dir, jobs: entries }), { mode: 0o600 });
    return [`exec ${singleQuote(runner.node)} ${singleQuote(runner.script)} ${singleQuote(manifest)}`];
  });
  return { groups, dir, script: taskSwitchScript("Toil job pack array: task i runs the i-th group of Toil jobs.", cases, "Toil job pack array: no jobs for task") };
}
