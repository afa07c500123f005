/**
 * The leader lock: a file holding the identity of the leader process that runs the workflow. It is
 * created with link(2) from a complete temp file, so it appears atomically and whole. A second leader
 * reads it: if that process is alive (same host: pid + start time + boot id; another host: assumed
 * alive) it gets LeaderLockedError naming pid and host; if it is dead the lock is stale and taken over.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import { LeaderLockedError } from "./errors.js";
import { FILE_MODE, isErrno, tempNameFor } from "./internal/fsx.js";
import { currentProcessIdentity, isProcessAlive, type ProcessIdentity } from "./internal/process-info.js";
import type { LeaderLock, LeaderLockInfo } from "./job-store.js";
import * as os from "node:os";

interface LockRecord extends ProcessIdentity {
  token: string;
  since: number;
}

function readRecord(file: string): LockRecord | undefined {
  try {
    const rec = JSON.parse(fs.readFileSync(file, "utf8")) as LockRecord;
    return typeof rec.pid === "number" && typeof rec.token === "string" ? rec : undefined;
  } catch (err) {
    if (isErrno(err, "ENOENT")) return undefined;
    // Unreadable content cannot come from our link-based creation; treat it as stale.
    return { pid: -1, host: "", bootId: "", startTicks: "", token: "corrupt", since: 0 };
  }
}

export function acquireLeaderLockFile(lockFile: string, locator: string): LeaderLock {
  const me: LockRecord = { ...currentProcessIdentity(), token: randomBytes(12).toString("hex"), since: Date.now() };
  const tmp = tempNameFor(lockFile);
  fs.writeFileSync(tmp, JSON.stringify(me), { mode: FILE_MODE, flag: "wx" });
  try {
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        fs.linkSync(tmp, lockFile);
        return makeHandle(lockFile, me);
      } catch (err) {
        if (!isErrno(err, "EEXIST")) throw err;
      }
      const holder = readRecord(lockFile);
      if (holder === undefined) continue; // released meanwhile
      const corrupt = holder.token === "corrupt";
      if (!corrupt && isProcessAlive(holder)) {
        throw new LeaderLockedError(locator, holder.pid, holder.host, holder.since);
      }
      // Stale: move it aside under a private name, then check we moved the stale record we judged.
      const aside = `${lockFile}.stale-${me.token}`;
      try {
        fs.renameSync(lockFile, aside);
      } catch (err) {
        if (isErrno(err, "ENOENT")) continue;
        throw err;
      }
      const moved = readRecord(aside);
      if (moved && moved.token !== holder.token) {
        // A concurrent leader replaced the stale lock first: put its lock back and yield to it.
        try {
          fs.linkSync(aside, lockFile);
        } catch {
          /* a third party took it; it will be judged on its own */
        }
        fs.rmSync(aside, { force: true });
        throw new LeaderLockedError(locator, moved.pid, moved.host, moved.since);
      }
      fs.rmSync(aside, { force: true });
    }
    throw new LeaderLockedError(locator, -1, "unknown (the lock kept changing)", Date.now());
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

function makeHandle(lockFile: string, me: LockRecord): LeaderLock {
  return {
    pid: me.pid,
    host: me.host,
    async isHeld() {
      return readRecord(lockFile)?.token === me.token;
    },
    async release() {
      if (readRecord(lockFile)?.token === me.token) fs.rmSync(lockFile, { force: true });
    },
  };
}

/** Who holds the lock in `lockFile` (undefined when nobody does). */
export function readLeaderLockFile(lockFile: string): LeaderLockInfo | undefined {
  const rec = readRecord(lockFile);
  if (rec === undefined || rec.token === "corrupt") return undefined;
  const local = rec.host === os.hostname();
  return { pid: rec.pid, host: rec.host, since: rec.since, local, alive: local ? isProcessAlive(rec) : undefined };
}
