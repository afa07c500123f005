/**
 * Storage faults: damaged job-store files, table-driven.
 *
 * One real run of the gated fixture leaves a template store that stopped half-way (finished
 * children with stored results, a failed gate job, a pending follow-on, a stats journal, a bus
 * log). Each case copies it, damages one file the way disks, editors and crashes do (garbage,
 * truncation, an empty file, a torn last line, a newer format version), then runs what a user runs:
 * `toil status`, `toil stats` and `toil run --restart` (with the gate open). Each tool must either
 * work correctly (a documented recovery: the damaged file is a cache or a torn crash line) or stop
 * with a clear error that names the damaged file; never a silent wrong result. Read-only tools
 * must change nothing; a restart that refuses must leave the stored jobs, results and files as
 * they were.
 */
import { createHash, randomUUID } from "node:crypto";
import * as fs from "node:fs";
import path from "node:path";
import { readBusLog } from "@toil/bus";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordFigure, runToil, tempDir, REPO_ROOT, type RunResult } from "../../src/index.js";

const SUITE = "faults/storage";
const FLOW = path.join(REPO_ROOT, "tooling", "e2e", "fixtures", "storage", "gated.ts");
const N = 6;
/** 0² + ... + 5² + 1000 from the gate. */
const EXPECTED = String(Array.from({ length: N }, (_, i) => i * i).reduce((a, b) => a + b, 0) + 1000);

let work: string;
let template: string;
let gateDir: string;
/** `toil status` / `toil stats` output of the undamaged template store. */
let templateStatus: string;
let templateStats: string;

/** The case's paths: its copy of the store and its own bus log. */
interface Case {
  dir: string;
  js: string;
  bus: string;
}

type Expect = { ok: RegExp } | { error: RegExp };

interface Damage {
  kind: string;
  /** The damaged file, relative to the case directory (for the error check and the snapshot). */
  damage: (c: Case) => string;
  status: Expect | "same";
  stats: Expect | "same";
  restart: Expect;
  /** What the errors must name, when not the damaged file itself (default: the damaged file). */
  names?: (c: Case) => string;
  /**
   * The restart refuses only after its usual restart cleanup (clean() may tidy job descriptions),
   * so instead of "nothing changed" the check is that a restart without the damage finishes.
   */
  refusesAfterCleanup?: boolean;
  /** Extra checks after the restart. */
  after?: (c: Case, restart: RunResult) => Promise<void> | void;
}

/** The commit logs of a case's store. */
function logsOf(c: Case): string[] {
  const dir = path.join(c.js, "log");
  return fs.readdirSync(dir).filter((f) => f.endsWith(".log")).map((f) => path.join(dir, f));
}

/** The log holding the newest entry whose bytes contain `needle`, and where in it that is. */
function logEntryWith(c: Case, needle: string): { file: string; at: number } {
  let found: { file: string; at: number; mtime: number } | undefined;
  for (const file of logsOf(c)) {
    const at = fs.readFileSync(file).lastIndexOf(Buffer.from(needle));
    const mtime = fs.statSync(file).mtimeMs;
    if (at >= 0 && (!found || mtime >= found.mtime)) found = { file, at, mtime };
  }
  if (!found) throw new Error(`no commit log holds ${needle}`);
  return found;
}

/**
 * Where in the commit logs a result entry holding `value` keeps its data (the record layout is in
 * the filestore README: a 20-byte record header, entries of a 16-byte header, id, aux, data, CRC).
 */
function resultEntry(c: Case, value: string): { file: string; at: number } {
  for (const file of logsOf(c)) {
    const b = fs.readFileSync(file);
    for (let r = 0; r + 20 <= b.length; r += 20 + b.readUInt32LE(r + 8) + 8) {
      const end = r + 20 + b.readUInt32LE(r + 8);
      for (let e = r + 20; e < end; ) {
        const idLength = b.readUInt8(e + 1);
        const auxLength = b.readUInt32LE(e + 8);
        const dataLength = b.readUInt32LE(e + 12);
        const data = e + 16 + idLength + auxLength;
        if (b.readUInt8(e) === 3 && b.toString("utf8", data, data + dataLength) === value) return { file, at: data };
        e = data + dataLength + 4;
      }
    }
  }
  throw new Error(`no result ${value} in the commit logs`);
}

/** Flip one bit of a file at `at`. */
function flipByte(file: string, at: number): void {
  const b = fs.readFileSync(file);
  b[at] = b[at]! ^ 0x04;
  fs.writeFileSync(file, b);
}

function truncateHalf(p: string): void {
  fs.truncateSync(p, Math.floor(fs.statSync(p).size / 2));
}

function rewriteJson(p: string, change: (doc: Record<string, unknown>) => void): void {
  const doc = JSON.parse(fs.readFileSync(p, "utf8")) as Record<string, unknown>;
  change(doc);
  fs.writeFileSync(p, JSON.stringify(doc));
}

const restartRefuses = (what: RegExp): Expect => ({ error: what });

const CASES: Damage[] = [
  {
    kind: "commit log: a byte of a job description flipped (pending follow-on)",
    damage: (c) => {
      const { file, at } = logEntryWith(c, '"jobName":"sum"');
      flipByte(file, at + 12);
      return file;
    },
    status: { error: /DamagedJobStoreFileError.*checksum/ },
    stats: { error: /DamagedJobStoreFileError.*checksum/ },
    restart: restartRefuses(/DamagedJobStoreFileError.*checksum/),
  },
  {
    kind: "commit log: a byte of a stored result flipped",
    damage: (c) => {
      // Child 5 returned 25.
      const { file, at } = resultEntry(c, "25");
      flipByte(file, at + 1);
      return file;
    },
    status: { error: /DamagedJobStoreFileError.*checksum.*the result of job/ },
    stats: { error: /DamagedJobStoreFileError.*checksum.*the result of job/ },
    restart: restartRefuses(/DamagedJobStoreFileError.*checksum.*the result of job/),
  },
  {
    kind: "commit log: a record cut short with garbage after it (crash mid-append; documented: the torn record is dropped)",
    damage: (c) => {
      const file = logsOf(c)[0]!;
      fs.appendFileSync(file, Buffer.concat([Buffer.from("TLG1"), Buffer.from(Array.from({ length: 57 }, (_, i) => (i * 91 + 7) % 256))]));
      return file;
    },
    status: "same",
    stats: "same",
    restart: { ok: new RegExp(`^${EXPECTED}$`, "m") },
  },
  {
    kind: "job-state index: garbage (documented: the documents are scanned, restart rewrites it)",
    damage: (c) => {
      const p = path.join(c.js, "index", "jobs.log");
      fs.writeFileSync(p, Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 37 + 11) % 256)));
      return p;
    },
    status: "same",
    stats: "same",
    restart: { ok: new RegExp(`^${EXPECTED}$`, "m") },
  },
  {
    kind: "job-state index: torn last line (crash mid-append)",
    damage: (c) => {
      const p = path.join(c.js, "index", "jobs.log");
      fs.appendFileSync(p, '\n{"id":"cut-in-the-mid');
      return p;
    },
    status: "same",
    stats: "same",
    restart: { ok: new RegExp(`^${EXPECTED}$`, "m") },
  },
  {
    kind: "stats journal: torn last line",
    damage: (c) => {
      const p = path.join(c.js, "logs", "journal.jsonl");
      fs.appendFileSync(p, '\n{"t":1,"m":"{\\"jobs\\":[{\\"na');
      return p;
    },
    status: "same",
    stats: "same",
    restart: { ok: new RegExp(`^${EXPECTED}$`, "m") },
  },
  {
    kind: "bus log: torn last line",
    damage: (c) => {
      fs.appendFileSync(c.bus, '{"type":"JobIssued","time":1,"jobId":"tor');
      return c.bus;
    },
    status: "same",
    stats: "same",
    restart: { ok: new RegExp(`^${EXPECTED}$`, "m") },
    after: async (c) => {
      // The restart appended after the torn line; the log still reads, with the torn line skipped.
      const log = readBusLog(c.bus);
      const types = new Set<string>();
      for await (const m of log) types.add(m.type);
      expect(types.has("JobCompleted")).toBe(true);
      expect(log.stats.malformedLines).toBe(1);
    },
  },
  {
    kind: "bus log: header of a newer format version",
    damage: (c) => {
      const text = fs.readFileSync(c.bus, "utf8");
      fs.writeFileSync(c.bus, text.replace(/"version":1/, '"version":99'));
      return c.bus;
    },
    status: { error: /BusLogFormatError.*format version 99/ },
    stats: "same",
    restart: restartRefuses(/BusLogFormatError.*format version 99.*--writeMessages/),
    refusesAfterCleanup: true,
    after: async (c) => {
      // Nothing stored was lost: with a new bus log the restart finishes with the right result.
      const again = await runToil(["run", FLOW, "--jobStore", c.js, "--restart", "--clean", "never", "--writeMessages", `${c.bus}.new`], {
        timeoutMs: 180_000,
      });
      expect(again.code, output(again).slice(-1500)).toBe(0);
      expect(again.stdout).toMatch(new RegExp(`^${EXPECTED}$`, "m"));
    },
  },
  {
    kind: "config: newer format version",
    damage: (c) => {
      const p = path.join(c.js, "meta", "config.json");
      rewriteJson(p, (doc) => (doc.formatVersion = 99));
      return p;
    },
    status: { error: /ConfigError.*format version 99, newer than this toil-ts reads/ },
    stats: { error: /ConfigError.*format version 99, newer than this toil-ts reads/ },
    restart: restartRefuses(/ConfigError.*format version 99, newer than this toil-ts reads/),
  },
  {
    kind: "config: truncated",
    damage: (c) => {
      const p = path.join(c.js, "meta", "config.json");
      truncateHalf(p);
      return p;
    },
    status: { error: /ConfigError.*is not valid JSON.*damaged/ },
    stats: { error: /ConfigError.*is not valid JSON.*damaged/ },
    restart: restartRefuses(/ConfigError.*is not valid JSON.*damaged/),
  },
  {
    kind: "store layout: newer format version",
    damage: (c) => {
      const p = path.join(c.js, "format.json");
      rewriteJson(p, (doc) => (doc.version = 3));
      return p;
    },
    status: { error: /layout version 3/ },
    stats: { error: /layout version 3/ },
    restart: restartRefuses(/JobStoreVersionError.*layout version 3/),
    // The version belongs to the whole store: the errors name the store.
    names: (c) => c.js,
  },
  {
    kind: "root job id: garbage",
    damage: (c) => {
      const p = path.join(c.js, "meta", "root-job");
      fs.writeFileSync(p, "../../elsewhere");
      return p;
    },
    status: { error: /DamagedJobStoreFileError/ },
    stats: "same",
    restart: restartRefuses(/DamagedJobStoreFileError/),
  },
];

/** sha256 of every file under `dir` (relative path -> digest). */
function snapshot(dir: string, only?: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const rel of fs.readdirSync(dir, { recursive: true }) as string[]) {
    if (only && !only.some((o) => rel === o || rel.startsWith(o + path.sep))) continue;
    const p = path.join(dir, rel);
    if (fs.statSync(p).isFile()) out.set(rel, createHash("sha256").update(fs.readFileSync(p)).digest("hex"));
  }
  return out;
}

function output(r: RunResult): string {
  return (r.stdout + r.stderr).replaceAll("\n", " ");
}

function check(what: string, r: RunResult, expected: Expect | "same", baseline: string, names: string): void {
  const text = output(r);
  if (expected === "same") {
    expect(r.code, `${what}: ${text.slice(-1500)}`).toBe(0);
    expect(normalize(r.stdout), what).toBe(normalize(baseline));
  } else if ("ok" in expected) {
    expect(r.code, `${what}: ${text.slice(-1500)}`).toBe(0);
    expect(r.stdout, what).toMatch(expected.ok);
  } else {
    expect(r.code, `${what}: ${text.slice(-1500)}`).not.toBe(0);
    expect(text, what).toMatch(expected.error);
    expect(text, `${what} names the damaged file`).toContain(names);
  }
}

/** Outputs compared across copies of the store: the store's own path differs. */
function normalize(text: string): string {
  return text.replace(/\/[^\s]*?\/(tpl|case-\d+)\//g, "/STORE/");
}

async function statusOf(js: string): Promise<RunResult> {
  return runToil(["status", js, "--status"], { timeoutMs: 120_000 });
}
async function statsOf(js: string): Promise<RunResult> {
  return runToil(["stats", js], { timeoutMs: 120_000 });
}

beforeAll(async () => {
  work = tempDir("toil-storage-corrupt-");
  gateDir = path.join(work, "gate");
  fs.mkdirSync(gateDir);
  fs.writeFileSync(path.join(gateDir, "closed"), "");
  template = path.join(work, "tpl");
  fs.mkdirSync(template);
  const js = path.join(template, "js");
  const first = await runToil(
    ["run", FLOW, "--jobStore", js, "--retryCount", "0", "--stats", "--writeMessages", path.join(template, "bus.jsonl"), "--", String(N), gateDir],
    { timeoutMs: 180_000 },
  );
  // The gate failed: the workflow stopped half-way, as a store a user restarts does.
  expect(first.code, output(first).slice(-2000)).toBe(1);
  fs.rmSync(path.join(gateDir, "closed"));
  templateStatus = (await statusOf(js)).stdout;
  templateStats = (await statsOf(js)).stdout;
  expect(templateStatus).toMatch(/Of the 3 jobs in the store/);
  expect(templateStats).toMatch(/Stats of \d+ job runs?\b/);
}, 300_000);

afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe("storage faults: damaged job-store files (status, stats, --restart)", () => {
  it.concurrent.each(CASES.map((c, i) => [c.kind, i] as const))("%s", async (_kind, index) => {
    const spec = CASES[index]!;
    const dir = path.join(work, `case-${index}`);
    fs.cpSync(template, dir, { recursive: true });
    const c: Case = { dir, js: path.join(dir, "js"), bus: path.join(dir, "bus.jsonl") };
    // This copy is a workflow of its own: its own bus log, and its own workflow id (a restarting
    // leader stops the processes that earlier leaders of its workflow id left running).
    rewriteJson(path.join(c.js, "meta", "config.json"), (doc) => {
      const config = doc.config as Record<string, unknown>;
      config.writeMessages = c.bus;
      config.workflowId = randomUUID();
    });
    const damaged = spec.damage(c);
    const names = spec.names?.(c) ?? damaged;
    const before = snapshot(dir);

    const [status, stats] = await Promise.all([statusOf(c.js), statsOf(c.js)]);
    check("toil status", status, spec.status, templateStatus, names);
    check("toil stats", stats, spec.stats, templateStats, names);
    expect(snapshot(dir), "status and stats change nothing").toEqual(before);

    const kept = ["js/jobs", "js/results", "js/files", "js/job-files", "js/shared", "js/log"];
    const storedBefore = snapshot(dir, kept);
    const restart = await runToil(["run", FLOW, "--jobStore", c.js, "--restart", "--clean", "never", "--writeMessages", c.bus], { timeoutMs: 180_000 });
    check("toil run --restart", restart, spec.restart, "", names);
    if ("error" in spec.restart) {
      if (!spec.refusesAfterCleanup) {
        expect(snapshot(dir, kept), "a refused restart leaves jobs, results and files as they were").toEqual(storedBefore);
      }
      recordFigure({ suite: SUITE, name: "corruptions detected", value: 1 });
    } else {
      recordFigure({ suite: SUITE, name: "corruptions recovered", value: 1 });
    }
    await spec.after?.(c, restart);
  });
});

describe("storage faults: a damaged user file", () => {
  it("the job reading it fails for good naming the file, and the run exits 1", async () => {
    const dir = path.join(work, "user-file");
    const gate = path.join(dir, "gate");
    fs.mkdirSync(gate, { recursive: true });
    fs.writeFileSync(path.join(gate, "closed"), "");
    const js = path.join(dir, "js");
    const flow = path.join(REPO_ROOT, "tooling", "e2e", "fixtures", "storage", "damaged-file.ts");
    const first = await runToil(["run", flow, "--jobStore", js, "--retryCount", "0", "--", gate], { timeoutMs: 180_000 });
    expect(first.code, output(first).slice(-1500)).toBe(1);
    // The file the root wrote: flip a byte of its data.
    const stored = (fs.readdirSync(path.join(js, "files"), { recursive: true }) as string[])
      .map((rel) => path.join(js, "files", rel))
      .find((p) => fs.statSync(p).isFile() && !path.basename(p).startsWith(".crc32-"))!;
    flipByte(stored, 100);
    fs.rmSync(path.join(gate, "closed"));
    fs.rmSync(path.join(gate, "attempts"));
    const restart = await runToil(["run", flow, "--jobStore", js, "--restart", "--retryCount", "3", "--clean", "never"], { timeoutMs: 180_000 });
    const text = output(restart);
    expect(restart.code, text.slice(-1500)).toBe(1);
    expect(text).toMatch(/DamagedJobStoreFileError/);
    expect(text).toContain(stored);
    // Not retried: reading it again cannot help.
    expect(fs.readFileSync(path.join(gate, "attempts"), "utf8").trim().split("\n")).toHaveLength(1);
    recordFigure({ suite: SUITE, name: "corruptions detected", value: 1 });
  }, 400_000);
});
