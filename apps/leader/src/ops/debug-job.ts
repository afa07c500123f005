/**
 * `toil debug-job <jobStore> <jobId|jobName>`: rerun one job of a stopped workflow in the foreground,
 * inside this process, with its output on the terminal, exactly as a worker would run it (its results
 * are committed to the store). `--printJobInfo` only prints the job's stored description.
 */
import { runWorker } from "@toil/worker";
import type { JobDescriptionJSON } from "@toil/job";
import { escapeControl } from "../text.js";
import { LeaderRunningError, OPS_EXIT, OpsUsageError, leaderInfo, openExistingStore, scanJobDocuments, type OpenedStore, type OpsIO } from "./common.js";

export interface DebugJobOptions {
  printJobInfo?: boolean;
  /** Run even while a leader is running the workflow. */
  force?: boolean;
  env?: Record<string, string | undefined>;
}

function nameOf(doc: JobDescriptionJSON): string {
  return escapeControl(doc.displayName || doc.unitName || doc.jobName, { singleLine: true });
}

/** Find a job by id, or by job/unit/display name (preferring one that failed). */
async function findJob(opened: OpenedStore, ref: string): Promise<JobDescriptionJSON> {
  if (/^[A-Za-z0-9_-]{1,64}$/.test(ref) && (await opened.store.jobExists(ref))) {
    return (await opened.store.loadJob(ref)).toJSON();
  }
  const matches: JobDescriptionJSON[] = [];
  for await (const doc of scanJobDocuments(opened)) {
    if (doc.id === ref || doc.jobName === ref || doc.unitName === ref || doc.displayName === ref) matches.push(doc);
  }
  if (matches.length === 0) {
    throw new OpsUsageError(
      `No job with id or name ${JSON.stringify(ref)} is in ${opened.store.locator} (finished jobs are removed). ` +
        `List the remaining jobs with \`toil status ${opened.store.locator} --perJob\`.`,
    );
  }
  const rank = (d: JobDescriptionJSON): number => (d.remainingTryCount === 0 ? 2 : d.logFileId ? 1 : 0);
  matches.sort((a, b) => rank(b) - rank(a));
  const best = matches[0]!;
  if (matches.length > 1 && rank(matches[1]!) === rank(best)) {
    throw new OpsUsageError(
      `${matches.length} jobs are named ${JSON.stringify(ref)}; give one id: ${matches.slice(0, 10).map((d) => d.id).join(", ")}${matches.length > 10 ? ", …" : ""}.`,
    );
  }
  return best;
}

export async function debugJobCommand(locator: string, ref: string, opts: DebugJobOptions, io: OpsIO): Promise<number> {
  const opened = await openExistingStore(locator, io.cwd);
  const doc = await findJob(opened, ref);
  if (opts.printJobInfo) {
    io.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
    return OPS_EXIT.OK;
  }
  if (doc.body === undefined) {
    throw new OpsUsageError(`Job ${nameOf(doc)} (${doc.id}) has already run (it only waits for its successors): there is nothing to rerun.`);
  }
  const leader = await leaderInfo(opened);
  if (leader && leader.alive !== false && !opts.force) {
    throw new LeaderRunningError(
      `A leader (pid ${leader.pid} on ${leader.host}) is running this workflow and may run the job too. ` +
        `Stop it with \`toil kill ${locator}\` first, or pass --force.`,
    );
  }
  io.stderr.write(`Running job ${nameOf(doc)} (${doc.id}) in the foreground; its results are committed to ${opened.store.locator}.\n`);
  const code = await runWorker([opened.store.locator, doc.id], {
    env: opts.env ?? process.env,
    cwd: io.cwd,
    inProcess: true,
  });
  if (code === 0) {
    io.stderr.write(`Job ${nameOf(doc)} succeeded.\n`);
    return OPS_EXIT.OK;
  }
  // The worker running in this process has already printed the failure (the error and its stack)
  // above; the same text is kept with the job as its log.
  io.stderr.write(`Job ${nameOf(doc)} failed (worker exit code ${code}); \`toil status ${locator} --logs\` shows its log again.\n`);
  return OPS_EXIT.NOT_OK;
}
