/**
 * The driver's report: per-tag counts of passed, failed, unsupported and skipped tests (a test
 * counts under each of its tags, and under `all`), and one closing summary line.
 */
import type { TestResult, TestStatus } from "./run.js";

/** Counts for one tag. */
export interface TagCounts {
  tag: string;
  total: number;
  passed: number;
  failed: number;
  unsupported: number;
  skipped: number;
}

/** Per-tag counts, `all` first, then by number of tests (then name). */
export function countByTag(results: readonly TestResult[]): TagCounts[] {
  const byTag = new Map<string, TagCounts>();
  const add = (tag: string, status: TestStatus): void => {
    let c = byTag.get(tag);
    if (!c) byTag.set(tag, (c = { tag, total: 0, passed: 0, failed: 0, unsupported: 0, skipped: 0 }));
    c.total++;
    c[status]++;
  };
  for (const r of results) {
    add("all", r.status);
    for (const t of new Set(r.test.tags)) add(t, r.status);
  }
  return [...byTag.values()].sort((a, b) => (a.tag === "all" ? -1 : b.tag === "all" ? 1 : b.total - a.total || a.tag.localeCompare(b.tag)));
}

/** The per-tag table as Markdown. */
export function tagTable(results: readonly TestResult[]): string {
  const rows = countByTag(results);
  const lines = ["| tag | tests | passed | failed | unsupported | skipped |", "|---|---:|---:|---:|---:|---:|"];
  for (const r of rows) lines.push(`| ${r.tag} | ${r.total} | ${r.passed} | ${r.failed} | ${r.unsupported} | ${r.skipped} |`);
  return lines.join("\n");
}

/** The closing line: `cwl conformance: N passed, N failed, N unsupported, N skipped (N tests in S s)`. */
export function summaryLine(results: readonly TestResult[], wallSeconds: number): string {
  const c = { passed: 0, failed: 0, unsupported: 0, skipped: 0 };
  for (const r of results) c[r.status]++;
  return `cwl conformance: ${c.passed} passed, ${c.failed} failed, ${c.unsupported} unsupported, ${c.skipped} skipped (${results.length} tests in ${wallSeconds.toFixed(1)} s)`;
}

/** One line per test as it finishes. */
export function progressLine(r: TestResult, done: number, total: number): string {
  const label = { passed: "PASS", failed: "FAIL", unsupported: "UNSUPPORTED", skipped: "SKIP" }[r.status];
  const why = r.status === "passed" ? "" : `: ${(r.message ?? "").split("\n")[0]!.slice(0, 300)}`;
  return `[${String(done).padStart(String(total).length)}/${total}] ${label} ${r.test.id} (${r.seconds.toFixed(1)} s)${why}`;
}
