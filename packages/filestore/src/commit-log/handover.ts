/**
 * Handing a commit log over to the next process on the same machine, so that a store keeps about
 * as many logs as processes wrote it at once, not one per process that ever did. Every process
 * that opens a store reads every log of its generation; a batch system that starts a process per
 * job (Slurm without worker hosts, a plugin without warm workers) would otherwise give its N-th job
 * N logs to read.
 *
 * 1. A process that closes its store cleanly appends a `Release` entry to its log (instead of a
 *    `Seal`), syncs the log, then creates the empty file `log/free/<log name>`: the offer.
 * 2. A process that is about to append its first entry looks for offers of its generation made on
 *    its machine and takes one by deleting it: `unlink` succeeds for exactly one of the processes
 *    that try (the others get ENOENT), so a log never has two writers.
 * 3. It reads the log to its end (the `Release` last), opens it for appending at that size, and
 *    appends an `Owner` entry naming itself. Readers that see the `Owner` check the new writer's
 *    liveness from then on.
 *
 * Readers never seal a log whose last entry they read is a `Release` (a process may continue it),
 * so they keep looking at it (one read per refresh). A process killed before step 1 leaves its log
 * without an offer: readers seal it once they see its writer is gone, as before, and nobody
 * appends to a log that may end in a torn record. An offer whose log is gone (folded, or cleaned)
 * is dropped by whoever finds it.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { FILE_MODE, isErrno, listIfExists } from "../internal/fsx.js";
import { generationOfLog } from "./view.js";

/** The directory of offers, inside the log directory. */
export const OFFER_DIR = "free";

/** Whether `dir` is a directory of its own (not a symbolic link: offers name files to delete). */
function isOwnDirectory(dir: string): boolean {
  try {
    return fs.lstatSync(dir).isDirectory();
  } catch {
    return false;
  }
}

/** Offer log `name` (in `logDir`) to the next process; its Release entry is appended and synced. */
export function offerLog(logDir: string, name: string): void {
  const dir = path.join(logDir, OFFER_DIR);
  try {
    if (!isOwnDirectory(dir)) fs.mkdirSync(dir, { mode: 0o700 });
    if (!isOwnDirectory(dir)) return;
    fs.closeSync(fs.openSync(path.join(dir, name), "wx", FILE_MODE));
  } catch {
    // Without an offer the log is only never continued.
  }
}

/**
 * Take an offered log of `generation` written on machine `host` (the suffix of its name), or
 * undefined if there is none. The caller owns the log from here: it continues it or, if it cannot,
 * leaves it (readers then see it as a released log nobody writes).
 */
export function claimOfferedLog(logDir: string, generation: number, host: string): string | undefined {
  const dir = path.join(logDir, OFFER_DIR);
  if (!isOwnDirectory(dir)) return undefined;
  const names = listIfExists(dir) ?? [];
  const suffix = `-${host}.log`;
  for (const name of names) {
    if (generationOfLog(name) !== generation || !name.endsWith(suffix)) continue;
    try {
      fs.unlinkSync(path.join(dir, name));
    } catch (err) {
      if (isErrno(err, "ENOENT")) continue; // another process took it
      throw err;
    }
    if (fs.existsSync(path.join(logDir, name))) return name;
  }
  return undefined;
}

/** Drop the offers of logs of generations below `generation` (the fold deleted those logs). */
export function dropOffersBelow(logDir: string, generation: number): void {
  const dir = path.join(logDir, OFFER_DIR);
  if (!isOwnDirectory(dir)) return;
  for (const name of listIfExists(dir) ?? []) {
    const g = generationOfLog(name);
    if (g === undefined || g < generation) fs.rmSync(path.join(dir, name), { force: true });
  }
}
