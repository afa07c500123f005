/**
 * `toil kill <jobStore>`: stop the workflow running on a job store. The kill flag in the store
 * reaches the leader wherever it runs (it polls it, kills its batch jobs and exits); a leader on
 * this machine that has not stopped after a grace period also gets SIGTERM. `--force` sends SIGKILL
 * at once. The store is kept: `toil run … --restart` continues the workflow.
 */
import { OPS_EXIT, leaderInfo, openExistingStore, type OpenedStore, type OpsIO } from "./common.js";

export interface KillOptions {
  /** SIGKILL the leader at once (its batch jobs may be left running). */
  force?: boolean;
  /** Seconds to wait for the leader to stop (default 60; 0 = don't wait). */
  timeout?: number;
  /** Seconds to wait for the leader to react to the kill flag before signalling it (default 10). */
  grace?: number;
}

const POLL_MS = 200;

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** Wait until the leader is gone; true if it stopped within `timeoutMs`. */
async function waitForLeaderExit(opened: OpenedStore, pid: number, timeoutMs: number, onTick?: (elapsed: number) => Promise<void>): Promise<boolean> {
  const started = Date.now();
  for (;;) {
    const info = await leaderInfo(opened);
    if (!info || info.pid !== pid || info.alive === false) return true;
    const elapsed = Date.now() - started;
    if (elapsed >= timeoutMs) return false;
    await onTick?.(elapsed);
    await sleep(POLL_MS);
  }
}

export async function killCommand(locator: string, opts: KillOptions, io: OpsIO): Promise<number> {
  const opened = await openExistingStore(locator, io.cwd);
  const leader = await leaderInfo(opened);
  const where = opened.store.locator;
  if (!leader || leader.alive === false) {
    io.stdout.write(
      `No leader is running the workflow in ${where}: nothing to stop. ` +
        `Continue it with \`toil run … --jobStore ${locator} --restart\`, or delete it with \`toil clean ${locator}\`.\n`,
    );
    return OPS_EXIT.OK;
  }
  await opened.store.writeKillFlag(true);
  const who = `leader pid ${leader.pid} on ${leader.host}`;
  if (opts.force && leader.local) {
    try {
      process.kill(leader.pid, "SIGKILL");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
    }
    io.stdout.write(`Sent SIGKILL to the ${who}. Its batch jobs may still be running; \`toil run … --restart\` continues the workflow.\n`);
    await waitForLeaderExit(opened, leader.pid, 5_000);
    return OPS_EXIT.OK;
  }
  io.stdout.write(`Set the kill flag of ${where}; the ${who} stops its jobs and exits.\n`);
  const timeoutMs = (opts.timeout ?? 60) * 1000;
  if (timeoutMs <= 0) return OPS_EXIT.OK;
  const graceMs = (opts.grace ?? 10) * 1000;
  let signalled = false;
  const started = Date.now();
  const stopped = await waitForLeaderExit(opened, leader.pid, timeoutMs, async (elapsed) => {
    if (!signalled && leader.local && elapsed >= graceMs) {
      signalled = true;
      try {
        process.kill(leader.pid, "SIGTERM");
        io.stdout.write(`The leader has not stopped after ${Math.round(elapsed / 1000)} s: sent it SIGTERM.\n`);
      } catch {
        /* exited meanwhile */
      }
    }
  });
  if (stopped) {
    io.stdout.write(
      `The workflow stopped after ${((Date.now() - started) / 1000).toFixed(1)} s. Continue it with ` +
        `\`toil run … --jobStore ${locator} --restart\`.\n`,
    );
    return OPS_EXIT.OK;
  }
  io.stderr.write(
    `toil kill: the ${who} is still running after ${Math.round(timeoutMs / 1000)} s. ` +
      (leader.local ? `Use \`toil kill ${locator} --force\` to SIGKILL it.\n` : `It runs on another host: stop it there.\n`),
  );
  return OPS_EXIT.NOT_OK;
}
