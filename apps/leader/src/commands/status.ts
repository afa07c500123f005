import { existsSync } from "node:fs";
import { readBusLog, replayMessageBus, isRunning } from "@toil/bus";
import { NoSuchJobStoreError, openJobStore } from "@toil/filestore";
import { configFromJSON, configToJSON } from "@toil/job";
import { EXIT, type CliIO } from "../cli/program.js";
import { normalizeJobStoreLocator } from "../config/resolve.js";

/** `toil status <jobStore>`: jobs left in the store and running jobs from the message log. */
export async function statusCommand(locator: string, opts: { failIfNotComplete?: boolean; messages?: string }, io: CliIO): Promise<number> {
  const store = openJobStore(normalizeJobStoreLocator(locator, io.cwd));
  try {
    await store.resume();
  } catch (err) {
    if (err instanceof NoSuchJobStoreError) {
      io.stderr.write(`toil: job store ${locator} does not exist (the workflow may have finished and been cleaned up).\n`);
      return opts.failIfNotComplete ? EXIT.WORKFLOW_FAILED : EXIT.OK;
    }
    throw err;
  }
  let jobs = 0;
  let withBody = 0;
  let failed = 0;
  for await (const job of store.jobs()) {
    jobs++;
    if (job.hasBody()) withBody++;
    if (job.logFileId) failed++;
  }
  const root = await store.rootJobId();
  const rootExists = root !== undefined && (await store.jobExists(root));
  const done = await store.sharedFileExists("succeeded.log");
  io.stdout.write(
    rootExists
      ? `Of the ${jobs} jobs in ${store.locator}, ${withBody} have yet to run and ${failed} have a log from a failed attempt.\n`
      : `Root job is absent: the workflow ${done ? "completed successfully" : "may have completed"}.\n`,
  );
  const config = configFromJSON(configToJSON(store.config));
  const busFile = opts.messages ?? config.writeMessages;
  if (busFile) {
    if (!existsSync(busFile)) {
      io.stdout.write(`Message bus file ${busFile} is missing.\n`);
    } else {
      const statuses = await replayMessageBus(busFile);
      let running = 0;
      for (const s of statuses.values()) {
        if (!isRunning(s)) continue;
        running++;
        io.stdout.write(`Job ${s.jobId} (${s.jobName}) is running${s.batchSystem ? ` on ${s.batchSystem}` : ""}${s.externalBatchId ? ` as ${s.externalBatchId}` : ""}.\n`);
      }
      io.stdout.write(`${running} job(s) running according to ${busFile}.\n`);
    }
  }
  void readBusLog;
  return opts.failIfNotComplete && rootExists ? EXIT.WORKFLOW_FAILED : EXIT.OK;
}

/** `toil clean <jobStore>`. */
export async function cleanCommand(locator: string, io: CliIO): Promise<number> {
  const store = openJobStore(normalizeJobStoreLocator(locator, io.cwd));
  await store.destroy();
  io.stdout.write(`Deleted job store ${store.locator}.\n`);
  return EXIT.OK;
}

/** `toil kill <jobStore>`: set the kill flag the leader polls. */
export async function killCommand(locator: string, io: CliIO): Promise<number> {
  const store = openJobStore(normalizeJobStoreLocator(locator, io.cwd));
  try {
    await store.resume();
  } catch (err) {
    if (err instanceof NoSuchJobStoreError) {
      io.stderr.write(`toil: job store ${locator} does not exist.\n`);
      return EXIT.USAGE;
    }
    throw err;
  }
  await store.writeKillFlag(true);
  io.stdout.write(`Asked the workflow in ${store.locator} to stop.\n`);
  return EXIT.OK;
}
