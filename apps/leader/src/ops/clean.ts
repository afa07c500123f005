/**
 * `toil clean <jobStore>`: delete a job store. Idempotent (nothing to delete is not an error); refuses
 * while a leader holds the store's leader lock, unless `--force`. It never contacts the leader or its jobs.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { LeaderLockedError, openJobStore, parseLocator, type LeaderLock } from "@toil/filestore";
import { LeaderRunningError, OPS_EXIT, OpsUsageError, leaderInfo, type OpsIO } from "./common.js";

export interface CleanOptions {
  /** Delete even while a leader is running the workflow. */
  force?: boolean;
}

export async function cleanCommand(locator: string, opts: CleanOptions, io: OpsIO): Promise<number> {
  const parsed = parseLocator(locator, io.cwd);
  const store = openJobStore(parsed.canonical);
  if (parsed.kind === "file") {
    const root = parsed.rest;
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(root);
    } catch {
      st = undefined;
    }
    if (!st) {
      io.stdout.write(`Nothing to delete: there is no job store at ${root}.\n`);
      return OPS_EXIT.OK;
    }
    if (!st.isDirectory()) {
      throw new OpsUsageError(`${root} is a file, not a job store; nothing was deleted. Check the path.`);
    }
    if (!fs.existsSync(path.join(root, "format.json")) && !fs.existsSync(path.join(root, "meta"))) {
      const entries = fs.readdirSync(root);
      if (entries.length === 0) {
        fs.rmdirSync(root);
        io.stdout.write(`Removed the empty directory ${root} (it held no job store).\n`);
        return OPS_EXIT.OK;
      }
      throw new OpsUsageError(
        `${root} is not a job store (no format.json); nothing was deleted. Check the path: toil clean only deletes job stores.`,
      );
    }
  }
  // Hold the leader lock while deleting, so no leader can start on a half-deleted store.
  let lock: LeaderLock | undefined;
  try {
    lock = await store.acquireLeaderLock();
  } catch (err) {
    if (!(err instanceof LeaderLockedError)) {
      if (!opts.force) throw err;
    } else if (!opts.force) {
      const info = await leaderInfo({ store, root: parsed.kind === "file" ? parsed.rest : undefined });
      throw new LeaderRunningError(
        `A leader is running the workflow in ${store.locator} (pid ${err.pid} on ${err.host}${info?.alive === undefined ? ", another host" : ""}). ` +
          `Stop it first with \`toil kill ${locator}\`, or delete the store anyway with \`toil clean ${locator} --force\`.`,
      );
    } else {
      io.stderr.write(`Warning: deleting the store under a running leader (pid ${err.pid} on ${err.host}); it will fail.\n`);
    }
  }
  try {
    await store.destroy();
  } finally {
    // The lock file went with the store; release() is a no-op then.
    await lock?.release().catch(() => undefined);
  }
  io.stdout.write(`Deleted the job store ${store.locator}.\n`);
  return OPS_EXIT.OK;
}
