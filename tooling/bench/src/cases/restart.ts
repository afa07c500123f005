/** Restart and status: a fanout killed half way, `toil status` on it, then `toil run --restart`. */
import { existsSync, mkdirSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { CLI, countEntries, failureNote, killPids, runToil, timeCommand } from "../run.js";
import { isAlive } from "../proc.js";
import { type Ctx, MB, summarize, toilRunArgs, partialNote, caseDir, timeoutFor } from "./common.js";

async function committedJobs(store: string, jobIds: readonly string[]): Promise<Set<string> | undefined> {
  try {
    const { openJobStore } = (await import("@toil/filestore")) as typeof import("@toil/filestore");
    const js = openJobStore(store) as unknown as { resume(): Promise<void>; hasResult(id: string): Promise<boolean> };
    await js.resume();
    const out = new Set<string>();
    for (const id of jobIds) if (await js.hasResult(id)) out.add(id);
    return out;
  } catch (err) {
    return undefined;
  }
}

function readCounters(dir: string): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const name of readdirSync(dir)) {
    out.set(Number(name), readFileSync(join(dir, name), "utf8").split("\n").filter(Boolean));
  }
  return out;
}

function firstIssued(busLog: string): number | undefined {
  if (!existsSync(busLog)) return undefined;
  const text = readFileSync(busLog, "utf8");
  const at = text.indexOf('"type":"JobIssued"');
  if (at < 0) return undefined;
  const start = text.lastIndexOf("\n", at) + 1;
  const end = text.indexOf("\n", at);
  try {
    return (JSON.parse(text.slice(start, end < 0 ? undefined : end)) as { time: number }).time;
  } catch {
    return undefined;
  }
}

async function statusCommands(ctx: Ctx, store: string, dir: string, which: "killed" | "finished", countJobsLabel: string): Promise<void> {
  const available = (cmd: string): boolean => {
    try {
      timeCommand(process.execPath, [CLI, cmd, "--help"]);
      return true;
    } catch {
      return false;
    }
  };
  const n = `${countJobsLabel}-job`;
  const commands = which === "killed" ? ["status"] : ["status", "stats"];
  for (const cmd of commands) {
    const id = `status.${which}.${cmd}Seconds`;
    const figure = `\`toil ${cmd}\` on the ${n} store, ${which === "killed" ? "killed half way" : "finished (--stats, --clean never)"}`;
    const published = cmd === "status" ? "Toil: 83 min on a 145,000-job store" : "Toil: ≈50 min for 100,000 jobs (its own log message)";
    if (!available(cmd)) {
      ctx.figures.push({ id, case: "status", figure, value: null, unit: "s", target: { op: "<=", value: 5 }, published, note: `not available yet: \`toil ${cmd}\` is not a command of this build` });
      continue;
    }
    const r = await runToil({ args: [cmd, store], logDir: dir, label: `${cmd}-${which}`, timeoutMs: 600_000 });
    const ok = r.code === 0 || (cmd === "status" && r.code === 1 && !r.stderr.includes("Error"));
    const note = ok ? undefined : failureNote(r);
    ctx.runs.push(summarize(r, ok, note));
    ctx.log(`  toil ${cmd} (${which}): ${ok ? "ok" : `FAILED (${note})`} in ${(r.wallMs / 1000).toFixed(2)} s`);
    ctx.figures.push({
      id,
      case: "status",
      figure,
      value: ok ? r.wallMs / 1000 : null,
      unit: "s",
      ...(ctx.floorMs ? { baseline: { value: ctx.floorMs / 1000, unit: "s", label: "floor" }, ratio: r.wallMs / ctx.floorMs } : {}),
      target: { op: "<=", value: 5 },
      published,
      note: `${note ? `${note}; ` : ""}peak RSS ${(r.tree.rootPeakRssBytes / MB).toFixed(0)} MB`,
    });
  }
}

export async function restartCase(ctx: Ctx, withStatus: boolean, size?: number): Promise<void> {
  const n = size ?? (ctx.quick ? 1000 : 100_000);
  const label = `restart ${n.toLocaleString("en-US")}`;
  const dir = caseDir(ctx, "restart");
  const store = join(dir, "store");
  const counters = join(dir, "counters");
  mkdirSync(counters);
  const out = join(dir, "sum");
  ctx.log(`${label}: first run, SIGKILL at half way...`);
  const extra = ["--clean", "never", "--stats"];
  const r1 = await runToil({
    args: toilRunArgs("fanout", store, extra, [String(n), out, counters]),
    logDir: dir,
    label: "restart-first",
    timeoutMs: timeoutFor(ctx, n),
    killWhen: () => countEntries(counters) >= n / 2,
  });
  ctx.runs.push(summarize(r1, r1.killedHalfway, r1.killedHalfway ? "killed half way (intended)" : failureNote(r1)));
  const doneAtKill = countEntries(counters);
  const orphansAtKill = r1.survivors;
  await new Promise((res) => setTimeout(res, 1000));
  const orphansAfter1s = orphansAtKill.filter(isAlive);
  ctx.log(`  killed=${r1.killedHalfway} after ${(r1.wallMs / 1000).toFixed(1)} s with ${doneAtKill} children run; ${orphansAtKill.length} descendants alive at kill, ${orphansAfter1s.length} after 1 s`);
  if (!r1.killedHalfway) {
    ctx.figures.push({
      id: "restart.firstJobIssuedSeconds",
      case: "restart",
      figure: `${label}: restart, time from start to first job issued`,
      value: null,
      unit: "s",
      target: { op: "<=", value: 5 },
      note: `the first run was not killed half way: ${failureNote(r1)}`,
    });
    killPids(orphansAfter1s);
    return;
  }
  // Which children had committed (result stored) at the kill?
  const before = readCounters(counters);
  const ranIds = [...before.values()].flat();
  const committed = await committedJobs(store, ranIds);

  if (withStatus) await statusCommands(ctx, store, dir, "killed", n.toLocaleString("en-US"));

  ctx.log(`${label}: --restart...`);
  const busLog = join(dir, "restart-messages.jsonl");
  let firstCounterMs: number | undefined;
  const r2 = await runToil({
    args: toilRunArgs("fanout", store, ["--restart", "--clean", "never", "--stats", "--writeMessages", busLog], [String(n), out, counters]),
    logDir: dir,
    label: "restart-second",
    timeoutMs: timeoutFor(ctx, n),
    onTick: (ms) => {
      if (firstCounterMs === undefined && countEntries(counters) > doneAtKill) firstCounterMs = ms;
    },
  });
  const expected = String((n * (n - 1)) / 2);
  const got = existsSync(out) ? readFileSync(out, "utf8") : undefined;
  const ok = r2.code === 0 && got === expected;
  const note = ok ? undefined : r2.code === 0 ? `exited 0 but the sum file holds ${got ?? "nothing"}` : `${failureNote(r2)}${partialNote(r2)}`;
  ctx.runs.push(summarize(r2, ok, note));
  killPids(r2.survivors);
  const orphansAtEnd = orphansAtKill.filter(isAlive);
  killPids(orphansAtEnd); // leave nothing behind
  ctx.log(`  ${ok ? "ok" : `FAILED (${note})`} in ${(r2.wallMs / 1000).toFixed(2)} s`);

  const issuedAt = firstIssued(busLog);
  const firstIssuedS = issuedAt !== undefined ? (issuedAt - r2.startedAt) / 1000 : firstCounterMs !== undefined ? firstCounterMs / 1000 : null;
  ctx.figures.push({
    id: "restart.firstJobIssuedSeconds",
    case: "restart",
    figure: `${label}: restart, time from start to first job issued`,
    value: firstIssuedS,
    unit: "s",
    ...(ctx.emptyWallMs !== null ? { baseline: { value: ctx.emptyWallMs / 1000, unit: "s", label: "whole 2-job workflow" } } : {}),
    target: { op: "<=", value: 3 },
    published: "Toil stalls 60–75 s on workers the dead leader left running",
    note:
      issuedAt !== undefined
        ? "first JobIssued message of the restarted leader's --writeMessages log"
        : firstCounterMs !== undefined
          ? "no JobIssued message in the bus log: time to the first new child run instead (an upper bound)"
          : "no job issued seen",
  });
  ctx.figures.push({ id: "restart.totalSeconds", case: "restart", figure: `${label}: restart, wall until the workflow finished`, value: ok ? r2.wallMs / 1000 : null, unit: "s", ...(note ? { note } : {}) });
  ctx.figures.push({ id: "restart.killedAfterSeconds", case: "restart", figure: `${label}: first run killed after (children run by then)`, value: r1.wallMs / 1000, unit: "s", note: `${doneAtKill} of ${n} children had run at the SIGKILL` });

  const after = readCounters(counters);
  let twice = 0;
  let committedTwice = 0;
  for (const [, ids] of after) {
    if (ids.length > 1) {
      twice++;
      if (committed?.has(ids[0] as string)) committedTwice++;
    }
  }
  const missing = n - after.size;
  ctx.figures.push({
    id: "restart.jobsRunTwice",
    case: "restart",
    figure: `${label}: children that ran twice`,
    value: twice,
    unit: "jobs",
    note: `jobs running at the kill may rerun legitimately (their commit had not landed); children never run: ${missing}`,
  });
  ctx.figures.push({
    id: "restart.committedJobsRerun",
    case: "restart",
    figure: `${label}: committed children that ran again`,
    value: committed === undefined ? null : committedTwice,
    unit: "jobs",
    target: { op: "<=", value: 0 },
    note:
      committed === undefined
        ? "could not open the job store with @toil/filestore to tell committed jobs (is it built?)"
        : `${committed.size} of the ${ranIds.length} children that had run before the kill had a stored result (committed)`,
  });
  ctx.figures.push({
    id: "restart.orphansLeft",
    case: "restart",
    figure: `${label}: processes of the killed leader still alive when the restart finished`,
    value: orphansAtEnd.length,
    unit: "processes",
    target: { op: "<=", value: 0 },
    note: `${orphansAtKill.length} descendants alive right after the SIGKILL, ${orphansAfter1s.length} one second later (killed by the harness at the end)`,
  });
  if (withStatus && ok) await statusCommands(ctx, store, dir, "finished", n.toLocaleString("en-US"));
  if (ok) ctx.cleanup.push(dir);
}
