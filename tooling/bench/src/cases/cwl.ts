/**
 * The cwl case: toil-cwl-runner next to the reference runner (cwltool, `--no-container`), in the
 * same run, runs interleaved so both see the same machine load.
 *
 * - A scatter of 1,000 trivial steps (`workflows/cwl/scatter.cwl`: one `echo` per item, each output
 *   file gathered), end to end, cwltool with `--parallel`: as written (CWL's default of one core per
 *   step), and with the steps asking for a tenth of a core (`cwl:requirements` in the input object,
 *   which both runners read).
 * - A one-step tool (`workflows/cwl/cat.cwl`): the fixed cost of a CWL run.
 *
 * cwltool is Debian's `cwltool` package; without it the cwltool figures are empty (with a note).
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Ctx } from "./common.js";
import { WORKFLOWS, failureNote, killPids, median, runToil } from "../run.js";

const SCATTER = join(WORKFLOWS, "cwl", "scatter.cwl");
const CAT = join(WORKFLOWS, "cwl", "cat.cwl");

interface Timed {
  ok: boolean;
  wallMs: number;
  note?: string;
}

function cwltoolVersion(): string | undefined {
  const r = spawnSync("cwltool", ["--version"], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim().split(/\s+/).pop() : undefined;
}

/** Run cwltool to completion; wall time, and whether it exited 0 and wrote `expectFiles` files. */
function runCwltool(args: string[], outdir: string, expectFiles: number, timeoutMs: number): Promise<Timed> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn("cwltool", ["--quiet", "--no-container", "--outdir", outdir, ...args], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const wallMs = performance.now() - t0;
      const files = existsSync(outdir) ? readdirSync(outdir).length : 0;
      const ok = code === 0 && files >= expectFiles;
      resolve({ ok, wallMs, ...(ok ? {} : { note: `cwltool exit ${code ?? signal}, ${files} files: ${stderr.trim().split("\n").slice(-2).join(" | ").slice(0, 200)}` }) });
    });
  });
}

/** Run `toil cwl` to completion; wall time, and whether it exited 0 and wrote `expectFiles` files. */
async function runOurs(ctx: Ctx, dir: string, label: string, args: string[], outdir: string, expectFiles: number, timeoutMs: number): Promise<Timed> {
  const r = await runToil({ args: ["cwl", "--quiet", "--outdir", outdir, ...args], logDir: dir, label, timeoutMs, ...(ctx.env ? { env: ctx.env } : {}) });
  killPids(r.survivors);
  const files = existsSync(outdir) ? readdirSync(outdir).length : 0;
  const ok = r.code === 0 && files >= expectFiles;
  return { ok, wallMs: r.wallMs, ...(ok ? {} : { note: `${failureNote(r)}; ${files} files` }) };
}

function summary(runs: Timed[]): { ms: number | null; note: string } {
  const good = runs.filter((r) => r.ok).map((r) => r.wallMs);
  const bad = runs.find((r) => !r.ok);
  return { ms: good.length > 0 ? median(good) : null, note: `${good.length} of ${runs.length} runs${bad ? `; failed: ${bad.note}` : ""}` };
}

export async function cwlCase(ctx: Ctx): Promise<void> {
  const version = cwltoolVersion();
  const n = ctx.quick ? 100 : 1000;
  const reps = ctx.quick ? 1 : 3;
  const dir = mkdtempSync(join(ctx.tmp, "cwl-"));
  ctx.cleanup.push(dir);
  const items = Array.from({ length: n }, (_, i) => i);
  const variants = [
    { id: "default", label: "as written (1 core per step)", job: { items } },
    { id: "light", label: "steps asking for 0.1 core", job: { items, "cwl:requirements": [{ class: "ResourceRequirement", coresMin: 0.1, ramMin: 64 }] } },
  ];
  const timeoutMs = 600_000;
  for (const v of variants) {
    const job = join(dir, `scatter-${v.id}.json`);
    writeFileSync(job, JSON.stringify(v.job));
    const ours: Timed[] = [];
    const theirs: Timed[] = [];
    for (let i = 0; i < reps; i++) {
      ctx.log(`cwl scatter ${n} (${v.label}), run ${i + 1} of ${reps}...`);
      ours.push(await runOurs(ctx, dir, `cwl-scatter-${v.id}-${i}`, [SCATTER, job], join(dir, `ours-${v.id}-${i}`), n, timeoutMs));
      if (version) theirs.push(await runCwltool(["--parallel", SCATTER, job], join(dir, `cwltool-${v.id}-${i}`), 1, timeoutMs));
    }
    const a = summary(ours);
    const b = version ? summary(theirs) : { ms: null, note: "cwltool is not installed (apt-get install --no-install-recommends cwltool)" };
    ctx.log(`  toil-cwl-runner ${a.ms === null ? "failed" : `${(a.ms / 1000).toFixed(2)} s`}; cwltool ${b.ms === null ? "—" : `${(b.ms / 1000).toFixed(2)} s`}`);
    ctx.figures.push({
      id: `cwl.scatter${n}.${v.id}.seconds`,
      case: "cwl",
      figure: `CWL scatter of ${n.toLocaleString("en-US")} trivial steps, ${v.label}: end to end (median wall)`,
      value: a.ms === null ? null : a.ms / 1000,
      unit: "s",
      ...(b.ms !== null ? { baseline: { value: b.ms / 1000, unit: "s", label: `cwltool ${version} --parallel` } } : {}),
      ...(a.ms !== null && b.ms !== null ? { ratio: b.ms / a.ms, ratioLabel: "faster than cwltool" } : {}),
      ...(v.id === "default" && !ctx.quick ? { target: { op: "<=", value: b.ms !== null ? b.ms / 5000 : 3.5 } } : {}),
      published: "cwltool: about 1.2 s to start, then about 17 ms per step (16-19 s for 1,000 steps)",
      note: `toil-cwl-runner: ${a.note}; cwltool: ${b.note}. Target: 5 times faster than cwltool in the same run.`,
    });
  }

  const input = join(dir, "input.txt");
  writeFileSync(input, "one\ntwo\nthree\n");
  const k = ctx.quick ? 3 : 7;
  const ours: Timed[] = [];
  const theirs: Timed[] = [];
  for (let i = 0; i < k; i++) {
    ours.push(await runOurs(ctx, dir, `cwl-tool-${i}`, [CAT, "--file", input], join(dir, `tool-ours-${i}`), 1, 120_000));
    if (version) theirs.push(await runCwltool([CAT, "--file", input], join(dir, `tool-cwltool-${i}`), 1, 120_000));
  }
  const a = summary(ours);
  const b = version ? summary(theirs) : { ms: null, note: "cwltool is not installed" };
  ctx.log(`cwl one-step tool: toil-cwl-runner ${a.ms === null ? "failed" : `${(a.ms / 1000).toFixed(2)} s`}; cwltool ${b.ms === null ? "—" : `${(b.ms / 1000).toFixed(2)} s`}`);
  ctx.figures.push({
    id: "cwl.oneStepTool.seconds",
    case: "cwl",
    figure: "CWL one-step tool (cat), end to end (median wall)",
    value: a.ms === null ? null : a.ms / 1000,
    unit: "s",
    ...(b.ms !== null ? { baseline: { value: b.ms / 1000, unit: "s", label: `cwltool ${version}` }, ratio: b.ms / (a.ms ?? b.ms), ratioLabel: "faster than cwltool" } : {}),
    ...(b.ms !== null ? { target: { op: "<=", value: b.ms / 1000 } } : {}),
    published: "cwltool: about 1.2 s on an idle machine of this type",
    note: `toil-cwl-runner: ${a.note}; cwltool: ${b.note}`,
  });
}
