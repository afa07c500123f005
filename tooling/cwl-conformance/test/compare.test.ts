import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { CompareFail, compare } from "../src/compare.js";
import { loadSuite, selectTests } from "../src/suite.js";
import { countByTag, summaryLine } from "../src/report.js";
import type { TestResult } from "../src/run.js";

const dir = mkdtempSync(path.join(os.tmpdir(), "cwl-compare-"));
writeFileSync(path.join(dir, "out.txt"), "hello\n");
const file = (extra: Record<string, unknown> = {}) => ({ class: "File", location: pathToFileURL(path.join(dir, "out.txt")).href, size: 6, ...extra });
const SHA = "sha1$f572d396fae9206628714fb2ce00f72e94f2258f";

describe("comparing outputs by the reference driver's rules", () => {
  it("Any, scalars (Python equality), lists in order, objects without extra non-null keys", () => {
    expect(() => compare("Any", { x: 1 })).not.toThrow();
    expect(() => compare(1, 1.0)).not.toThrow();
    expect(() => compare(true, 1)).not.toThrow();
    expect(() => compare("1", 1)).toThrow(CompareFail);
    expect(() => compare([1, 2], [2, 1])).toThrow(CompareFail);
    expect(() => compare({ a: 1 }, { a: 1, b: null })).not.toThrow();
    expect(() => compare({ a: 1 }, { a: 1, b: 2 })).toThrow(/unexpected key 'b'/);
    expect(() => compare({ a: 1 }, {})).toThrow(CompareFail);
    expect(() => compare(null, 0)).toThrow(CompareFail);
  });

  it("a File must exist, end with the expected location, and match its checksum and size on disk", () => {
    expect(() => compare({ class: "File", location: "out.txt", checksum: SHA, size: 6 }, file({ checksum: SHA }))).not.toThrow();
    expect(() => compare({ class: "File", location: "other.txt" }, file())).toThrow(/does not end with other.txt/);
    expect(() => compare({ class: "File", location: "out.txt", size: 7 }, file())).toThrow(/sizes do not match/);
    expect(() => compare({ class: "File", location: "out.txt" }, file({ checksum: "sha1$0" }))).toThrow(/checksums do not match/);
    expect(() => compare({ class: "File", location: "out.txt" }, { class: "File", location: pathToFileURL(path.join(dir, "gone")).href })).toThrow(/does not exist/);
  });

  it("a Directory needs a listing; entries compare without order", () => {
    const d = { class: "Directory", location: pathToFileURL(dir).href, listing: [file({ basename: "out.txt" })] };
    expect(() => compare({ class: "Directory", listing: [{ class: "File", basename: "out.txt" }] }, d)).not.toThrow();
    expect(() => compare({ class: "Directory", listing: [] }, { class: "Directory", location: pathToFileURL(dir).href })).toThrow(/'listing' is mandatory/);
    expect(() => compare({ class: "Directory", listing: [{ class: "File", basename: "nope" }] }, d)).toThrow(/not found/);
  });
});

describe("the suite and the report", () => {
  it("follows $import in index files and in values; selects by tag and id", () => {
    const idx = mkdtempSync(path.join(os.tmpdir(), "cwl-index-"));
    writeFileSync(path.join(idx, "index.yaml"), "- $import: sub/more.yaml\n- {id: a, doc: A, tool: a.cwl, job: a.json, output: {x: 1}, tags: [required, t1]}\n");
    writeFileSync(path.join(idx, "expected.json"), '{"y": 2}');
    const sub = path.join(idx, "sub");
    mkdirSync(sub);
    writeFileSync(path.join(sub, "more.yaml"), "- {id: b, doc: B, tool: 'b.cwl#main', output: {$import: ../expected.json}, tags: [t2]}\n- {id: c, doc: C, tool: c.cwl, should_fail: true, tags: [t1]}\n");
    const tests = loadSuite(path.join(idx, "index.yaml"));
    expect(tests.map((t) => [t.id, t.number])).toEqual([["b", 1], ["c", 2], ["a", 3]]);
    expect(tests[0]!.tool).toBe(`${path.join(sub, "b.cwl")}#main`);
    expect(tests[0]!.output).toEqual({ y: 2 });
    expect(tests[1]!.shouldFail).toBe(true);
    expect(selectTests(tests, { tags: ["t1"] }).map((t) => t.id)).toEqual(["c", "a"]);
    expect(selectTests(tests, { ids: ["a", "1"] }).map((t) => t.id)).toEqual(["b", "a"]);
    expect(() => selectTests(tests, { ids: ["zz"] })).toThrow(/No test with id/);
  });

  it("counts per tag and ends with one summary line", () => {
    const t = (id: string, tags: string[]) => ({ id, tags, doc: "", tool: "x", shouldFail: false, number: 1 });
    const results: TestResult[] = [
      { test: t("a", ["required", "workflow"]), status: "passed", seconds: 1 },
      { test: t("b", ["workflow"]), status: "unsupported", seconds: 1 },
      { test: t("c", ["docker"]), status: "skipped", seconds: 0 },
    ];
    expect(countByTag(results).find((c) => c.tag === "workflow")).toEqual({ tag: "workflow", total: 2, passed: 1, failed: 0, unsupported: 1, skipped: 0 });
    expect(summaryLine(results, 3)).toBe("cwl conformance: 1 passed, 0 failed, 1 unsupported, 1 skipped (3 tests in 3.0 s)");
  });
});
