/** Fanout: a root adds N trivial children whose promised values one follow-on sums. */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { failureNote, killPids, runToil } from "../run.js";
import { type Ctx, MB, summarize, toilRunArgs, partialNote, cpuFigures, caseDir, perJobMs, timeoutFor } from "./common.js";

export async function fanoutCase(ctx: Ctx, sizes: number[]): Promise<void> {
  const perJobKB = new Map<number, number>();
  for (const n of sizes) {
    const dir = caseDir(ctx, `fanout-${n}`);
    const store = join(dir, "store");
    const out = join(dir, "sum");
    ctx.log(`fanout ${n}...`);
    const r = await runToil({
      args: toilRunArgs("fanout", store, [], [String(n), out]),
      logDir: dir,
      label: `fanout-${n}`,
      timeoutMs: timeoutFor(ctx, n),
      ...(ctx.nodeArgs ? { nodeArgs: ctx.nodeArgs } : {}),
      ...(ctx.env ? { env: ctx.env } : {}),
    });
    const expected = String((n * (n - 1)) / 2);
    const got = existsSync(out) ? readFileSync(out, "utf8") : undefined;
    const ok = r.code === 0 && got === expected;
    const note = ok ? undefined : r.code === 0 ? `the run exited 0 but the sum file holds ${got ?? "nothing"}, expected ${expected}` : `${failureNote(r)}${partialNote(r)}`;
    ctx.runs.push(summarize(r, ok, note));
    killPids(r.survivors);
    ctx.log(`  ${ok ? "ok" : `FAILED (${note})`} in ${(r.wallMs / 1000).toFixed(2)} s`);
    const jobs = n + 2;
    if (ok && n > 0) ctx.figures.push(...cpuFigures(ctx, `fanout.${n}`, `fanout ${n.toLocaleString("en-US")}`, r, jobs));
    const label = `fanout ${n.toLocaleString("en-US")}`;
    if (n === 0) {
      ctx.emptyWallMs = ok ? r.wallMs : null;
      ctx.emptyLeaderPeakBytes = ok ? r.tree.rootPeakRssBytes : null;
      ctx.figures.push({
        id: "fixed.emptyWorkflowSeconds",
        case: "fanout",
        figure: "fixed cost: a 2-job workflow (fanout 0), wall",
        value: ok ? r.wallMs / 1000 : null,
        unit: "s",
        ...(ctx.floorMs ? { baseline: { value: ctx.floorMs / 1000, unit: "s", label: "floor" }, ratio: r.wallMs / ctx.floorMs } : {}),
        ...(note ? { note } : {}),
      });
      continue;
    }
    const rate = ok ? jobs / (r.wallMs / 1000) : null;
    const ceiling = ctx.floorMs ? 2000 / ctx.floorMs : undefined;
    ctx.figures.push({
      id: `fanout.${n}.jobsPerSecond`,
      case: "fanout",
      figure: `${label}: throughput, end to end`,
      value: rate,
      unit: "jobs/s",
      ...(ceiling && rate !== null ? { baseline: { value: ceiling, unit: "jobs/s", label: "spawn-per-job ceiling" }, ratio: rate / ceiling } : {}),
      ...(n === 10_000 ? { target: { op: ">=", value: 1000 } } : n === 100_000 ? { target: { op: ">=", value: 1200 } } : {}),
      published:
        n === 1000 ? "Toil 6.9 jobs/s; Snakemake ≈120 jobs/s" : n === 10_000 ? "Toil ≈5 jobs/s; Snakemake does not finish" : "",
      ...(note ? { note } : {}),
    });
    ctx.figures.push({
      id: `fanout.${n}.wallSeconds`,
      case: "fanout",
      figure: `${label}: wall`,
      value: ok ? r.wallMs / 1000 : null,
      unit: "s",
      ...(n === 100_000 ? {} : {}),
    });
    if (ok) {
      const ms = r.wallMs / jobs;
      ctx.figures.push({ id: `fanout.${n}.msPerJob`, case: "fanout", figure: `${label}: wall per job`, value: ms, unit: "ms", ...perJobMs(ctx, ms), published: n === 1000 ? "Toil ≈145 ms" : "" });
      if (ctx.emptyWallMs !== null) {
        const marginal = (r.wallMs - ctx.emptyWallMs) / n;
        ctx.figures.push({
          id: `fanout.${n}.marginalMsPerJob`,
          case: "fanout",
          figure: `${label}: marginal wall per job (fixed cost removed)`,
          value: marginal,
          unit: "ms",
          ...perJobMs(ctx, marginal),
        });
      }
    }
    if (n === 100_000) {
      ctx.figures.push({
        id: "fanout.100000.completes",
        case: "fanout",
        figure: `${label}: completes with the right sum`,
        value: ok ? 1 : 0,
        unit: "yes/no",
        target: { op: ">=", value: 1 },
      });
    }
    ctx.figures.push({
      id: `fanout.${n}.leaderPeakRssMB`,
      case: "fanout",
      figure: `${label}: leader peak RSS`,
      value: r.tree.rootPeakRssBytes / MB,
      unit: "MB",
      ...(ctx.emptyLeaderPeakBytes ? { baseline: { value: ctx.emptyLeaderPeakBytes / MB, unit: "MB", label: "leader of fanout 0" }, ratio: r.tree.rootPeakRssBytes / ctx.emptyLeaderPeakBytes } : {}),
      ...(n === 100_000 ? { target: { op: "<=", value: 300 } } : {}),
    });
    ctx.figures.push({
      id: `fanout.${n}.summedPeakRssMB`,
      case: "fanout",
      figure: `${label}: summed peak RSS of all processes (${r.tree.processes} seen)`,
      value: r.tree.summedPeakRssBytes / MB,
      unit: "MB",
      note: `peak RSS in use at one time (one sample): ${(r.tree.peakConcurrentRssBytes / MB).toFixed(0)} MB; CPU of the tree ≈ ${r.tree.cpuSeconds.toFixed(1)} s for ${(r.wallMs / 1000).toFixed(1)} s of wall.`,
    });
    if (ok && ctx.emptyLeaderPeakBytes !== null) {
      const kb = (r.tree.rootPeakRssBytes - ctx.emptyLeaderPeakBytes) / n / 1000;
      perJobKB.set(n, kb);
      const base = perJobKB.get(10_000);
      ctx.figures.push({
        id: `fanout.${n}.leaderKBPerJob`,
        case: "fanout",
        figure: `${label}: leader memory per job (peak minus fanout-0 peak, / N)`,
        value: kb,
        unit: "kB/job",
        ...(n === 100_000 && base !== undefined
          ? { baseline: { value: base, unit: "kB/job", label: "fanout 10,000" }, ratio: kb / base, target: { op: "<=", value: base } }
          : {}),
      });
    }
    if (ok) rmSync(dir, { recursive: true, force: true });
  }
}
