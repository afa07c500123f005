/**
 * Fanout of 1,000,000 (full suite only): one run to the end with `--clean never` (throughput,
 * leader peak RSS, what the store needs on disk, `toil status` on the finished store), and one run
 * SIGKILLed half way (`toil status` on that store). Skipped, with the figure saying why, when the
 * disk holding the temp dir has less free space than the run needs.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, statfsSync } from "node:fs";
import { join } from "node:path";
import type { Ctx } from "./common.js";
import { toilRunArgs } from "./common.js";
import { failureNote, killPids, runToil } from "../run.js";

const N = 1_000_000;
const MB = 1e6;

function duBytes(dir: string): number {
  let total = 0;
  for (const rel of readdirSync(dir, { recursive: true }) as string[]) {
    try {
      const st = statSync(join(dir, rel));
      if (st.isFile()) total += st.size;
    } catch {
      // deleted meanwhile
    }
  }
  return total;
}

/** The latest "Progress: done/total" of a run's stderr file. */
function progressOf(file: string): number {
  if (!existsSync(file)) return 0;
  const text = readFileSync(file, "utf8");
  const all = [...text.matchAll(/Progress: (\d+)\/(\d+) jobs done/g)];
  return all.length > 0 ? Number(all.at(-1)![1]) : 0;
}

async function status(ctx: Ctx, store: string, dir: string, which: string): Promise<void> {
  const r = await runToil({ args: ["status", store], logDir: dir, label: `status-1m-${which}`, timeoutMs: 600_000 });
  const ok = r.code === 0 || (r.code === 1 && !r.stderr.includes("Error"));
  ctx.figures.push({
    id: `million.status.${which}Seconds`,
    case: "million",
    figure: `fanout 1,000,000: \`toil status\` on the store ${which === "killed" ? "killed half way" : "finished (--clean never)"}`,
    value: ok ? r.wallMs / 1000 : null,
    unit: "s",
    target: { op: "<=", value: 10 },
    published: "Toil: 83 min on a 145,000-job store",
    note: `${ok ? "" : `${failureNote(r)}; `}peak RSS ${(r.tree.rootPeakRssBytes / MB).toFixed(0)} MB`,
  });
  ctx.log(`  toil status (${which}): ${ok ? "ok" : "FAILED"} in ${(r.wallMs / 1000).toFixed(2)} s`);
}

export async function millionCase(ctx: Ctx, bytesPerJob: number | undefined): Promise<void> {
  const need = (bytesPerJob ?? 2000) * N * 1.5;
  const free = (() => {
    const st = statfsSync(ctx.tmp);
    return st.bavail * st.bsize;
  })();
  if (free < need) {
    ctx.figures.push({
      id: "million.completes",
      case: "million",
      figure: "fanout 1,000,000: completes",
      value: null,
      unit: "yes/no",
      target: { op: ">=", value: 1 },
      note: `skipped: the run needs about ${(need / 1e9).toFixed(1)} GB on the temp dir's disk, ${(free / 1e9).toFixed(1)} GB are free`,
    });
    return;
  }
  const dir = mkdtempSync(join(ctx.tmp, "million-"));
  const store = join(dir, "store");
  const out = join(dir, "sum");
  ctx.log("fanout 1,000,000 (to the end, --clean never)...");
  const r = await runToil({ args: toilRunArgs("fanout", store, ["--clean", "never"], [String(N), out]), logDir: dir, label: "fanout-1m", timeoutMs: 7_200_000 });
  killPids(r.survivors);
  const got = existsSync(out) ? readFileSync(out, "utf8") : undefined;
  const ok = r.code === 0 && got === String((N * (N - 1)) / 2);
  ctx.log(`  ${ok ? "ok" : `FAILED (${failureNote(r)})`} in ${(r.wallMs / 1000).toFixed(1)} s`);
  const storeBytes = existsSync(store) ? duBytes(store) : 0;
  ctx.figures.push({
    id: "million.completes",
    case: "million",
    figure: "fanout 1,000,000: completes with the right sum",
    value: ok ? 1 : 0,
    unit: "yes/no",
    target: { op: ">=", value: 1 },
    note: ok ? `store left on disk: ${(storeBytes / 1e9).toFixed(2)} GB (${(storeBytes / N).toFixed(0)} bytes per job)` : failureNote(r),
  });
  ctx.figures.push({ id: "million.jobsPerSecond", case: "million", figure: "fanout 1,000,000: throughput, end to end", value: ok ? (N + 2) / (r.wallMs / 1000) : null, unit: "jobs/s" });
  ctx.figures.push({
    id: "million.leaderPeakRssMB",
    case: "million",
    figure: "fanout 1,000,000: leader peak RSS",
    value: r.tree.rootPeakRssBytes / MB,
    unit: "MB",
    target: { op: "<=", value: 600 },
    note: `summed peak RSS of all processes ${(r.tree.summedPeakRssBytes / MB).toFixed(0)} MB`,
  });
  if (ok) await status(ctx, store, dir, "finished");
  rmSync(store, { recursive: true, force: true });

  ctx.log("fanout 1,000,000 (SIGKILL half way)...");
  const killed = join(dir, "killed");
  const errFile = join(dir, "fanout-1m-killed.stderr");
  const r2 = await runToil({
    args: toilRunArgs("fanout", killed, ["--clean", "never"], [String(N), join(dir, "sum2")]),
    logDir: dir,
    label: "fanout-1m-killed",
    timeoutMs: 7_200_000,
    killWhen: () => progressOf(errFile) >= N / 2,
  });
  killPids(r2.survivors);
  if (r2.killedHalfway) await status(ctx, killed, dir, "killed");
  else ctx.figures.push({ id: "million.status.killedSeconds", case: "million", figure: "fanout 1,000,000: `toil status` on the store killed half way", value: null, unit: "s", target: { op: "<=", value: 10 }, note: `the run was not killed half way: ${failureNote(r2)}` });
  ctx.cleanup.push(dir);
}
