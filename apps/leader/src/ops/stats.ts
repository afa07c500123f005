/**
 * `toil stats <jobStore>`: aggregate the per-job statistics a `--stats` workflow recorded, per job
 * kind and overall: count, wall time, CPU time, wait, peak memory and disk, each as
 * min/median/mean/max/total.
 */
import { OPS_EXIT, OpsUsageError, openExistingStore, type OpsIO } from "./common.js";
import { recordsOfMessage, visitRecordsOfMessage, waitSeconds, wallSeconds, type JobRecord } from "./records.js";
import { escapeControl, plural } from "../text.js";

const STATS_CATEGORIES = ["wall", "cpu", "wait", "memory", "disk"] as const;
type StatsCategory = (typeof STATS_CATEGORIES)[number];
const STATS_FIELDS = ["min", "median", "mean", "max", "total"] as const;
type StatsField = (typeof STATS_FIELDS)[number];

/** min/median/mean/max/total of a set of values (all 0 when empty). */
interface Summary {
  count: number;
  min: number;
  median: number;
  mean: number;
  max: number;
  total: number;
}

function summarize(values: number[]): Summary {
  const n = values.length;
  if (n === 0) return { count: 0, min: 0, median: 0, mean: 0, max: 0, total: 0 };
  const sorted = Float64Array.from(values).sort();
  let total = 0;
  for (const v of sorted) total += v;
  const mid = n >> 1;
  const median = n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { count: n, min: sorted[0]!, median, mean: total / n, max: sorted[n - 1]!, total };
}

/** Aggregates of one group of jobs (a kind, or all jobs). */
export interface GroupStats {
  name: string;
  count: number;
  failed: number;
  /** Seconds. */
  wall: Summary;
  /** CPU seconds. */
  cpu: Summary;
  /** Seconds of reserved cores left idle. */
  wait: Summary;
  /** Peak memory, bytes. */
  memory: Summary;
  /** Disk, bytes. */
  disk: Summary;
}

/** The whole `toil stats` answer (also the `--raw` JSON). */
export interface StatsReport {
  locator: string;
  /** Job runs recorded (each attempt counts). */
  jobs: number;
  /** Workflow span covered by the records, seconds. */
  span: number;
  total: GroupStats;
  kinds: GroupStats[];
}

class Group {
  count = 0;
  failed = 0;
  readonly wall: number[] = [];
  readonly cpu: number[] = [];
  readonly wait: number[] = [];
  readonly memory: number[] = [];
  readonly disk: number[] = [];
  add(r: JobRecord): void {
    this.count++;
    if (r.failed) this.failed++;
    this.wall.push(wallSeconds(r));
    if (r.cpuSeconds !== undefined) this.cpu.push(r.cpuSeconds);
    const w = waitSeconds(r);
    if (w !== undefined) this.wait.push(w);
    if (r.peakMemory !== undefined) this.memory.push(r.peakMemory);
    if (r.disk !== undefined) this.disk.push(r.disk);
  }
  finish(name: string): GroupStats {
    return {
      name,
      count: this.count,
      failed: this.failed,
      wall: summarize(this.wall),
      cpu: summarize(this.cpu),
      wait: summarize(this.wait),
      memory: summarize(this.memory),
      disk: summarize(this.disk),
    };
  }
}

/** Aggregates records per kind and overall as they come (keeps numbers, not records). */
class StatsAggregator {
  private readonly all = new Group();
  private readonly kinds = new Map<string, Group>();
  private first = Infinity;
  private last = -Infinity;

  add(r: JobRecord): void {
    this.all.add(r);
    let g = this.kinds.get(r.kind);
    if (!g) this.kinds.set(r.kind, (g = new Group()));
    g.add(r);
    if (r.start < this.first) this.first = r.start;
    if (r.end > this.last) this.last = r.end;
  }

  get count(): number {
    return this.all.count;
  }

  finish(locator: string): StatsReport {
    return {
      locator,
      jobs: this.all.count,
      span: this.all.count === 0 ? 0 : (this.last - this.first) / 1000,
      total: this.all.finish("all jobs"),
      kinds: [...this.kinds].map(([name, g]) => g.finish(name)),
    };
  }
}

/** Aggregate records per kind and overall. */
export function aggregateStats(locator: string, records: Iterable<JobRecord>): StatsReport {
  const agg = new StatsAggregator();
  for (const r of records) agg.add(r);
  return agg.finish(locator);
}

export interface SortOptions {
  /** A category, `count`, or `alpha` (by name). Default `wall`. */
  sortCategory?: StatsCategory | "count" | "alpha";
  /** Field of the category. Default `total`. */
  sortField?: StatsField;
  /** Default `desc` (biggest first); `alpha` defaults to `asc`. */
  sort?: "asc" | "desc";
}

export function sortKinds(kinds: GroupStats[], opts: SortOptions = {}): GroupStats[] {
  const cat = opts.sortCategory ?? "wall";
  const field = opts.sortField ?? "total";
  const dir = opts.sort ?? (cat === "alpha" ? "asc" : "desc");
  const key = (g: GroupStats): number | string => (cat === "alpha" ? g.name : cat === "count" ? g.count : g[cat][field]);
  const sign = dir === "asc" ? 1 : -1;
  return [...kinds].sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    const c = typeof ka === "string" ? ka.localeCompare(kb as string) : ka - (kb as number);
    return c !== 0 ? sign * c : a.name.localeCompare(b.name);
  });
}

/**
 * Every job record the store's mailbox holds (workflows run with `--stats`), read with `peekLogs()`,
 * which claims no message (a running leader still gets them).
 */
export async function loadJobRecords(opened: Awaited<ReturnType<typeof openExistingStore>>): Promise<JobRecord[]> {
  const records: JobRecord[] = [];
  await opened.store.peekLogs(({ data, writtenAt }) => {
    for (const r of recordsOfMessage(data.toString("utf8"), writtenAt)) records.push(r);
  });
  return records;
}

// ---------------------------------------------------------------- formatting

export function formatSeconds(s: number): string {
  if (s === 0) return "0s";
  if (s < 0.001) return `${(s * 1e6).toFixed(0)}µs`;
  if (s < 1) return `${(s * 1000).toFixed(s < 0.01 ? 2 : 0)}ms`;
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

export function formatBytes(b: number): string {
  if (b === 0) return "0B";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = b;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 && i > 0 ? 1 : 0)}${units[i]}`;
}

function fmt(cat: StatsCategory, v: number): string {
  return cat === "memory" || cat === "disk" ? formatBytes(v) : formatSeconds(v);
}

/** The human-readable table. */
function formatStats(report: StatsReport, categories: readonly StatsCategory[], sorted: GroupStats[]): string {
  const lines: string[] = [];
  lines.push(`Stats of ${plural(report.jobs, "job run")} in ${report.locator}, spanning ${formatSeconds(report.span)}.`);
  const header = ["", ...STATS_FIELDS];
  const block = (g: GroupStats): void => {
    lines.push("");
    lines.push(`${escapeControl(g.name, { singleLine: true })}: ${plural(g.count, "run")}${g.failed ? `, ${g.failed} failed` : ""}`);
    const rows: string[][] = [header];
    for (const cat of categories) {
      const s = g[cat];
      rows.push(s.count === 0 ? [cat, "-", "-", "-", "-", "-"] : [cat, ...STATS_FIELDS.map((f) => fmt(cat, s[f]))]);
    }
    const widths = header.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    for (const r of rows) lines.push(`  ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ")}`);
  };
  block(report.total);
  for (const g of sorted) block(g);
  return `${lines.join("\n")}\n`;
}

export interface StatsOptions extends SortOptions {
  raw?: boolean;
  categories?: string;
  /** Accept a store without stats (exit 0 with a note). */
}

function parseCategories(spec: string | undefined): StatsCategory[] {
  if (spec === undefined) return [...STATS_CATEGORIES];
  const cats = spec.split(",").map((c) => c.trim()).filter(Boolean);
  for (const c of cats) {
    if (!(STATS_CATEGORIES as readonly string[]).includes(c)) {
      throw new OpsUsageError(`Unknown category '${c}' in --categories; use a comma-separated list of ${STATS_CATEGORIES.join(", ")}.`);
    }
  }
  return cats as StatsCategory[];
}

/** Run `toil stats`. */
export async function statsCommand(locator: string, opts: StatsOptions, io: OpsIO): Promise<number> {
  const categories = parseCategories(opts.categories);
  const opened = await openExistingStore(locator, io.cwd);
  // Stream: each message's records go straight into the aggregates and are dropped.
  const agg = new StatsAggregator();
  const add = (r: JobRecord): void => agg.add(r);
  await opened.store.peekLogs(({ data, writtenAt }) => {
    visitRecordsOfMessage(data, writtenAt, add);
  });
  const report = agg.finish(opened.store.locator);
  report.kinds = sortKinds(report.kinds, opts);
  if (opts.raw) {
    io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    if (agg.count === 0) {
      io.stderr.write(
        `toil stats: the job store ${opened.store.locator} holds no job statistics. Run the workflow with --stats ` +
          `(it keeps the store: --clean never) to record them.\n`,
      );
    }
    io.stdout.write(formatStats(report, categories, report.kinds));
  }
  return OPS_EXIT.OK;
}
