/** The leader's bookkeeping files in `meta/`: the leader lock, the leader's pid, the kill flag. */
import * as os from "node:os";
import { readIfExists, writeFileAtomicSync } from "../internal/fsx.js";
import type { LeaderLock, LeaderLockInfo } from "../job-store.js";
import { acquireLeaderLockFile, readLeaderLockFile } from "../leader-lock.js";
import type { StoreLayout } from "./layout.js";

/** Who the last recorded leader is. */
export interface LeaderPid {
  /** Process id of the leader. */
  pid: number;
  /** Host name of the leader. */
  host: string;
}

/** The leader files of one store. */
export class LeaderFiles {
  constructor(
    private readonly layout: StoreLayout,
    private readonly durable: boolean,
  ) {}

  async acquireLeaderLock(): Promise<LeaderLock> {
    return acquireLeaderLockFile(this.layout.p("meta", "leader.lock"), this.layout.locator);
  }

  async readLeaderLock(): Promise<LeaderLockInfo | undefined> {
    return readLeaderLockFile(this.layout.p("meta", "leader.lock"));
  }

  async writeLeaderPid(): Promise<void> {
    writeFileAtomicSync(this.layout.p("meta", "leader.pid"), JSON.stringify({ pid: process.pid, host: os.hostname() }), {
      durable: false,
    });
  }

  async readLeaderPid(): Promise<LeaderPid | undefined> {
    const raw = readIfExists(this.layout.p("meta", "leader.pid"));
    if (raw === undefined) return undefined;
    const doc = JSON.parse(raw.toString("utf8")) as LeaderPid;
    return { pid: doc.pid, host: doc.host };
  }

  async writeKillFlag(kill = true): Promise<void> {
    writeFileAtomicSync(this.layout.p("meta", "kill-flag"), kill ? "YES" : "NO", { durable: this.durable });
  }

  async readKillFlag(): Promise<boolean> {
    return readIfExists(this.layout.p("meta", "kill-flag"))?.toString("utf8") === "YES";
  }
}
