/**
 * The operating commands of the `toil` CLI: status, stats, report, kill, clean, debug-job.
 * `registerOpsCommands(program, io, setExit)` adds them to the program.
 */
import { Command, InvalidArgumentError, Option } from "commander";
import type { OpsIO } from "./exit-codes.js";

const EXIT_CODES = `
Exit codes:
  0  success
  1  the answer is "not OK" (see above)
  2  a mistake in the input: bad arguments, no job store at the path, a store written by a newer toil-ts, an unknown job
  3  refused because a leader is running the workflow
  4  internal error (rerun with --logDebug for the stack trace)`;

function withErrors(name: string, io: OpsIO, setExit: (code: number) => void, fn: (...args: unknown[]) => Promise<number>) {
  return async (...args: unknown[]): Promise<void> => {
    const cmd = args[args.length - 1] as Command;
    const logDebug = Boolean(cmd.opts().logDebug);
    try {
      setExit(await fn(...args));
    } catch (err) {
      const { reportOpsError } = await import("./common.js");
      setExit(reportOpsError(err, io, name, logDebug));
    }
  };
}

function base(name: string, description: string): Command {
  return new Command(name)
    .description(description)
    .showSuggestionAfterError(true)
    .addOption(new Option("--logDebug", "print stack traces of errors (for bug reports)"));
}

function positiveNumber(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${flag} needs a number of seconds >= 0, not ${JSON.stringify(value)}`);
    return n;
  };
}

/** Add the operating commands to the `toil` program. */
export function registerOpsCommands(program: Command, io: OpsIO, setExit: (code: number) => void): void {
  const status = base("status", "Show a workflow's overall state and its remaining jobs by state.")
    .argument("<jobStore>", "the job store (--jobStore of `toil run`)")
    .option("--failIfNotComplete", "exit 1 unless the workflow completed (no jobs left)")
    .option("--logs", "print the logs of jobs that failed")
    .option("--status", "list the jobs running now, from the workflow's bus log (--writeMessages)")
    .option("--perJob", "list every remaining job with its state")
    .option("--dot", "print the remaining job graph in GraphViz format (edges: child, follow-on)")
    .option("--json", "print everything as JSON (for scripts)")
    .addHelpText(
      "after",
      `
States: QUEUED (not started), RUNNING (a leader holds the store), COMPLETED, FAILED (jobs failed for
good), STOPPED (stopped by \`toil kill\`, Ctrl-C or SIGTERM, or crashed: \`toil run ... --restart\`
continues it).

Examples:
  $ toil status ./js
  $ toil status ./js --status --logs
  $ toil status ./js --json | jq .counts
  $ toil status ./js --dot | dot -Tsvg > graph.svg
  $ toil status ./js --failIfNotComplete || echo "still work to do"
${EXIT_CODES.replace('the answer is "not OK" (see above)', "--failIfNotComplete and the workflow has not completed")}`,
    )
    .action(
      withErrors("status", io, setExit, async (jobStore, opts) => {
        const { statusCommand } = await import("./status.js");
        return statusCommand(jobStore as string, opts as Record<string, boolean>, io);
      }),
    );

  const stats = base("stats", "Summarize the per-job statistics of a workflow run with --stats: per job kind and overall.")
    .argument("<jobStore>", "the job store (--jobStore of `toil run`)")
    .option("--raw", "print the aggregates as JSON")
    .option("--categories <list>", "comma-separated categories to show: wall,cpu,wait,memory,disk")
    .addOption(new Option("--sortCategory <category>", "sort job kinds by this").choices(["wall", "cpu", "wait", "memory", "disk", "count", "alpha"]).default("wall"))
    .addOption(new Option("--sortField <field>", "field of the category to sort by").choices(["min", "median", "mean", "max", "total"]).default("total"))
    .addOption(new Option("--sort <order>", "sort order (default: desc; alpha: asc)").choices(["asc", "desc"]))
    .addHelpText(
      "after",
      `
Categories: wall (seconds from start to end), cpu (CPU seconds), wait (reserved core-seconds left
idle: wall x cores - cpu), memory (peak), disk. Each shows min, median, mean, max and total.

Examples:
  $ toil run flow.ts --jobStore ./js --stats
  $ toil stats ./js
  $ toil stats ./js --sortCategory memory --sortField max
  $ toil stats ./js --raw > stats.json
${EXIT_CODES.replace(/\n  1 [^\n]*/, "").replace(/\n  3 [^\n]*/, "")}`,
    )
    .action(
      withErrors("stats", io, setExit, async (jobStore, opts) => {
        const { statsCommand } = await import("./stats.js");
        return statsCommand(jobStore as string, opts as Record<string, never>, io);
      }),
    );

  const report = base("report", "Write a self-contained HTML report of a workflow: timeline, job kinds, failures, resource use.")
    .argument("<jobStore>", "the job store (--jobStore of `toil run`)")
    .option("-o, --output <file>", "where to write the report", "toil-report.html")
    .addHelpText(
      "after",
      `
The file embeds its charting library (Apache ECharts) and data: open it anywhere, offline. Run the
workflow with --stats for CPU, memory and disk use; with only --writeMessages the timeline comes
from the bus log.

Examples:
  $ toil report ./js
  $ toil report ./js -o /tmp/run-42.html && xdg-open /tmp/run-42.html
${EXIT_CODES.replace(/\n  1 [^\n]*/, "").replace(/\n  3 [^\n]*/, "")}`,
    )
    .action(
      withErrors("report", io, setExit, async (jobStore, opts) => {
        const { reportCommand } = await import("./report/index.js");
        return reportCommand(jobStore as string, opts as { output?: string }, io);
      }),
    );

  const kill = base("kill", "Stop the workflow running on a job store (its leader kills its jobs and exits; --restart continues it).")
    .argument("<jobStore>", "the job store (--jobStore of `toil run`)")
    .option("--force", "SIGKILL the leader at once (its batch jobs may keep running)")
    .option("--timeout <seconds>", "how long to wait for the leader to stop (0: don't wait)", positiveNumber("--timeout"), 60)
    .option("--grace <seconds>", "how long a leader on this machine gets to obey the kill flag before SIGTERM", positiveNumber("--grace"), 10)
    .addHelpText(
      "after",
      `
The kill flag in the job store reaches the leader wherever it runs; a leader on this machine that
has not stopped after --grace seconds also gets SIGTERM.

Examples:
  $ toil kill ./js
  $ toil kill ./js --timeout 0        # set the flag and return
  $ toil kill ./js --force
${EXIT_CODES.replace('the answer is "not OK" (see above)', "the leader was still running after --timeout")}`,
    )
    .action(
      withErrors("kill", io, setExit, async (jobStore, opts) => {
        const { killCommand } = await import("./kill.js");
        return killCommand(jobStore as string, opts as Record<string, never>, io);
      }),
    );

  const clean = base("clean", "Delete a job store and everything in it.")
    .argument("<jobStore>", "the job store (--jobStore of `toil run`)")
    .option("--force", "delete even while a leader is running the workflow")
    .addHelpText(
      "after",
      `
Deleting a store that does not exist is not an error. A directory that is not a job store is never
deleted.

Examples:
  $ toil clean ./js
  $ toil clean ./js --force
${EXIT_CODES.replace(/\n  1 [^\n]*/, "")}`,
    )
    .action(
      withErrors("clean", io, setExit, async (jobStore, opts) => {
        const { cleanCommand } = await import("./clean.js");
        return cleanCommand(jobStore as string, opts as { force?: boolean }, io);
      }),
    );

  const debugJob = base("debug-job", "Rerun one job of a stopped workflow in the foreground, with its output on the terminal.")
    .argument("<jobStore>", "the job store (--jobStore of `toil run`)")
    .argument("<job>", "job id, or job name (a failed job is preferred)")
    .option("--printJobInfo", "only print the job's stored description")
    .option("--force", "run even while a leader is running the workflow")
    .addHelpText(
      "after",
      `
The job runs exactly as a worker runs it, inside this process (attach a debugger with
NODE_OPTIONS=--inspect-brk), and its results are committed to the job store.

Examples:
  $ toil status ./js --perJob
  $ toil debug-job ./js explode
  $ toil debug-job ./js Vx3kq9-2LwH0mZt1aB7cd --printJobInfo
${EXIT_CODES.replace('the answer is "not OK" (see above)', "the job failed")}`,
    )
    .action(
      withErrors("debug-job", io, setExit, async (jobStore, job, opts) => {
        const { debugJobCommand } = await import("./debug-job.js");
        return debugJobCommand(jobStore as string, job as string, opts as Record<string, boolean>, io);
      }),
    );

  for (const cmd of [status, stats, report, kill, clean, debugJob]) {
    cmd.copyInheritedSettings(program); // exit override and output streams of the program
    program.addCommand(cmd);
  }
}

;
