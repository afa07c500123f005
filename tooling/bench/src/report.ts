/** Figures, and the results files (bench/results.json, bench/results.md). */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";

interface Target {
  /** The figure must be >= value (higher is better) or <= value (lower is better). */
  op: ">=" | "<=";
  value: number;
}

export interface Figure {
  /** Stable id, e.g. `fanout.10000.jobsPerSecond`. */
  id: string;
  case: string;
  /** Human label for the table. */
  figure: string;
  /** null: not measured (see note). */
  value: number | null;
  unit: string;
  /** A reference measured in the same run (cp, the spawn floor, a smaller size...). */
  baseline?: { value: number; unit: string; label: string };
  /** value / baseline (or as the figure defines it; see ratioLabel). */
  ratio?: number;
  ratioLabel?: string;
  target?: Target;
  /** Published Toil (or other tool) figure, not measured here. */
  published?: string;
  /** For per-job costs in ms: the cost as a multiple of one bare `node -e ""` spawn. */
  floorMultiple?: number;
  note?: string;
}

function met(f: Figure): boolean | null {
  if (f.target === undefined || f.value === null) return null;
  return f.target.op === ">=" ? f.value >= f.target.value : f.value <= f.target.value;
}

function fmt(v: number | null | undefined, unit = ""): string {
  if (v === null || v === undefined || Number.isNaN(v)) return "—";
  if (unit === "yes/no") return v ? "yes" : "no";
  const a = Math.abs(v);
  const s = a === 0 ? "0" : a >= 1000 ? Math.round(v).toLocaleString("en-US") : a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : a >= 1 ? v.toFixed(2) : v.toPrecision(2);
  return s;
}

function cell(s: string): string {
  return s.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

export interface Environment {
  node: string;
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  loadAverageAtStart: number[];
  quick: boolean;
  startedAt: string;
  gitCommit: string;
  workflows?: "ts" | "mjs";
  workflowNote?: string;
}

export function environment(quick: boolean, gitCommit: string): Environment {
  return {
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? "?",
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    loadAverageAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
    quick,
    startedAt: new Date().toISOString(),
    gitCommit,
  };
}

function renderMarkdown(env: Environment, figures: readonly Figure[], floorMs: number | null, durationS: number): string {
  const lines: string[] = [];
  lines.push(`# toil-ts benchmark results${env.quick ? " (quick mode: small sizes, targets not judged)" : ""}`);
  lines.push("");
  lines.push(
    `${env.startedAt}, commit ${env.gitCommit}, Node ${env.node}, ${env.cpus} × ${env.cpuModel}, ${env.memoryGiB} GiB, ` +
      `load average at start ${env.loadAverageAtStart.join(" / ")}; suite took ${durationS.toFixed(0)} s.`,
  );
  lines.push("");
  lines.push(
    "Every figure comes from the real `toil` CLI (apps/leader/dist/cli.js) and real worker processes, a fresh file job store in a temp " +
      "dir, the single-machine batch system. *baseline* is measured in the same run; *Toil (published)* figures are " +
      "quoted from the issue / Toil's own reports and were **not** measured here.",
  );
  lines.push("");
  if (env.workflowNote) {
    lines.push(`**Workflow files:** ${env.workflowNote}.`);
    lines.push("");
  }
  lines.push("| figure | value | unit | baseline (this run) | ratio | target | met? | Toil (published, not measured here) |");
  lines.push("|---|---:|---|---|---:|---|:---:|---|");
  for (const f of figures) {
    const m = env.quick ? null : met(f);
    const value = f.value === null ? (f.note?.startsWith("not available") ? "not available yet" : "—") : fmt(f.value, f.unit);
    const baseline = f.baseline ? `${fmt(f.baseline.value)} ${f.baseline.unit} (${f.baseline.label})` : "";
    const ratio = f.ratio !== undefined && Number.isFinite(f.ratio) ? `${fmt(f.ratio)}×${f.ratioLabel ? ` ${f.ratioLabel}` : ""}` : "";
    const target = f.target ? `${f.target.op === ">=" ? "≥" : "≤"} ${fmt(f.target.value)}` : "";
    const metCell = f.target === undefined ? "" : env.quick ? "(quick)" : m === null ? "—" : m ? "✅ yes" : "❌ no";
    lines.push(
      `| ${cell(f.figure)} | ${value} | ${f.unit === "yes/no" ? "" : f.unit} | ${cell(baseline)} | ${ratio} | ${target} | ${metCell} | ${cell(f.published ?? "")} |`,
    );
  }
  const perJob = figures.filter((f) => f.floorMultiple !== undefined && f.value !== null);
  if (perJob.length > 0 && floorMs !== null) {
    lines.push("");
    lines.push(`## Per-job costs as multiples of the spawn floor (one bare \`node -e ""\` = ${fmt(floorMs)} ms in this run)`);
    lines.push("");
    lines.push("| figure | ms | × floor |");
    lines.push("|---|---:|---:|");
    for (const f of perJob) lines.push(`| ${cell(f.figure)} | ${fmt(f.value)} | ${fmt(f.floorMultiple)} |`);
  }
  const notes = figures.filter((f) => f.note);
  if (notes.length > 0) {
    lines.push("");
    lines.push("## Notes");
    lines.push("");
    for (const f of notes) lines.push(`- **${f.figure}**: ${f.note}`);
  }
  lines.push("");
  return lines.join("\n");
}

export function writeResults(
  dir: string,
  env: Environment,
  figures: readonly Figure[],
  floorMs: number | null,
  durationS: number,
  runs: unknown[],
): { json: string; md: string } {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, "results.json");
  const md = join(dir, "results.md");
  writeFileSync(
    json,
    `${JSON.stringify({ environment: env, durationSeconds: durationS, floorMs, figures: figures.map((f) => ({ ...f, met: env.quick ? null : met(f) })), runs }, null, 2)}\n`,
  );
  writeFileSync(md, renderMarkdown(env, figures, floorMs, durationS));
  return { json, md };
}
