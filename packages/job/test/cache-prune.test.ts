// The cache of stripped sources and direct-import copies drops what nobody used for a month, at
// most once a day, and never what is in use.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { IDLE_DAYS, PRUNE_STAMP, pruneCache } from "../src/cache-prune.js";

const DAY = 86_400_000;
const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

function cacheRoot(): string {
  const root = mkdtempSync(join(tmpdir(), "toil-prune-"));
  roots.push(root);
  mkdirSync(join(root, "stripped"));
  mkdirSync(join(root, "direct"));
  return root;
}

/** A file (or a graph directory with its m0.mjs) last used `daysAgo` days before `now`. */
function entry(root: string, rel: string, daysAgo: number, now: number, graph = false): void {
  const p = join(root, rel);
  const file = graph ? join(p, "m0.mjs") : p;
  if (graph) mkdirSync(p, { recursive: true });
  writeFileSync(file, "export {};\n");
  const t = (now - daysAgo * DAY) / 1000;
  utimesSync(file, t, t);
  if (graph) utimesSync(p, t, t);
}

describe("pruning the module cache", () => {
  it(`removes entries unused for ${IDLE_DAYS} days and abandoned temp files, keeps the rest`, () => {
    const root = cacheRoot();
    const now = Date.now();
    entry(root, "stripped/old.js", IDLE_DAYS + 1, now);
    entry(root, "stripped/old.imports.json", IDLE_DAYS + 5, now);
    entry(root, "stripped/recent.js", IDLE_DAYS - 1, now);
    entry(root, "stripped/half.js.123.abc.tmp", 1, now);
    entry(root, "stripped/writing.js.456.def.tmp", 0, now);
    entry(root, "direct/oldgraph", IDLE_DAYS + 2, now, true);
    entry(root, "direct/usedgraph", 2, now, true);
    entry(root, "direct/halfgraph.789.xyz.tmp", 1, now, true);

    expect(pruneCache(root, now)).toBe(5);
    expect(readdirSync(join(root, "stripped")).sort()).toEqual(["recent.js", "writing.js.456.def.tmp"]);
    expect(readdirSync(join(root, "direct"))).toEqual(["usedgraph"]);
    expect(existsSync(join(root, PRUNE_STAMP))).toBe(true);
  });

  it("prunes at most once a day, and again once the day has passed", () => {
    const root = cacheRoot();
    const now = Date.now();
    expect(pruneCache(root, now)).toBe(0);
    entry(root, "stripped/old.js", IDLE_DAYS + 1, now);
    expect(pruneCache(root, now + DAY / 2)).toBe(0);
    expect(existsSync(join(root, "stripped", "old.js"))).toBe(true);
    expect(pruneCache(root, now + DAY + 1000)).toBe(1);
    expect(existsSync(join(root, "stripped", "old.js"))).toBe(false);
  });

  it("a graph in use by its access time is kept though it was written long ago", () => {
    const root = cacheRoot();
    const now = Date.now();
    entry(root, "direct/graph", IDLE_DAYS + 10, now, true);
    const written = (now - (IDLE_DAYS + 10) * DAY) / 1000;
    utimesSync(join(root, "direct", "graph", "m0.mjs"), (now - DAY) / 1000, written);
    expect(pruneCache(root, now)).toBe(0);
    expect(readdirSync(join(root, "direct"))).toEqual(["graph"]);
  });

  it("never throws on a cache it cannot prune", () => {
    const gone = join(tmpdir(), `toil-prune-missing-${process.pid}-${Date.now()}`);
    expect(pruneCache(gone)).toBe(0);
    expect(existsSync(gone)).toBe(false);
  });
});
