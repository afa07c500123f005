/** Chain: jobs each adding the next as a follow-on, with chaining and with --disableChaining. */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { failureNote, killPids, runToil } from "../run.js";
import { type Ctx, summarize, toilRunArgs, partialNote, cpuFigures, caseDir, perJobMs, timeoutFor } from "./common.js";

export async function chainCase(ctx: Ctx, chained: number, unchained: number): Promise<void> {
  for (const disable of [false, true]) {
    const n = disable ? unchained : chained;
    const dir = caseDir(ctx, `chain-${disable ? "nochain" : "chain"}`);
    const out = join(dir, "out");
    const label = `chain ${n.toLocaleString("en-US")}, ${disable ? "--disableChaining" : "chaining on"}`;
    ctx.log(`${label}...`);
    const r = await runToil({
      args: toilRunArgs("chain", join(dir, "store"), disable ? ["--disableChaining"] : [], [String(n), out]),
      logDir: dir,
      label: `chain-${n}-${disable ? "nochain" : "chain"}`,
      timeoutMs: timeoutFor(ctx, n * 5),
      ...(ctx.nodeArgs ? { nodeArgs: ctx.nodeArgs } : {}),
      ...(ctx.env ? { env: ctx.env } : {}),
    });
    const got = existsSync(out) ? readFileSync(out, "utf8") : undefined;
    const ok = r.code === 0 && got === String(n);
    const note = ok ? undefined : r.code === 0 ? `exited 0 but the last link wrote ${got ?? "nothing"}` : `${failureNote(r)}${partialNote(r)}`;
    ctx.runs.push(summarize(r, ok, note));
    if (ok) ctx.figures.push(...cpuFigures(ctx, `chain.${n}.${disable ? "unchained" : "chained"}`, label, r, n));
    killPids(r.survivors);
    ctx.log(`  ${ok ? "ok" : `FAILED (${note})`} in ${(r.wallMs / 1000).toFixed(2)} s`);
    const rate = ok ? n / (r.wallMs / 1000) : null;
    const seqCeiling = ctx.floorMs ? 1000 / ctx.floorMs : undefined;
    ctx.figures.push({
      id: `chain.${n}.${disable ? "unchained" : "chained"}.jobsPerSecond`,
      case: "chain",
      figure: `${label}: throughput, end to end`,
      value: rate,
      unit: "jobs/s",
      ...(seqCeiling && rate !== null ? { baseline: { value: seqCeiling, unit: "jobs/s", label: "sequential spawn-per-job ceiling" }, ratio: rate / seqCeiling } : {}),
      target: { op: ">=", value: disable ? 500 : 2000 },
      published: disable ? "Toil 0.44 jobs/s" : "Toil 56 jobs/s",
      ...(note ? { note } : {}),
    });
    if (ok && ctx.emptyWallMs !== null) {
      const marginal = (r.wallMs - ctx.emptyWallMs) / n;
      ctx.figures.push({
        id: `chain.${n}.${disable ? "unchained" : "chained"}.marginalJobsPerSecond`,
        case: "chain",
        figure: `${label}: throughput without the fixed cost of a run`,
        value: 1000 / marginal,
        unit: "jobs/s",
        note: "N / (wall − wall of the 2-job workflow): the rate once the leader is up; the target row above is judged end to end.",
      });
      ctx.figures.push({ id: `chain.${n}.${disable ? "unchained" : "chained"}.marginalMsPerJob`, case: "chain", figure: `${label}: marginal wall per job`, value: marginal, unit: "ms", ...perJobMs(ctx, marginal) });
    }
    if (ok) rmSync(dir, { recursive: true, force: true });
  }
}
