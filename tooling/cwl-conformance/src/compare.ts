/**
 * Comparing a runner's output object with a test's expected output, by the reference driver's
 * rules:
 *
 * - `"Any"` matches anything; an expected null needs an actual null (or absent) value;
 * - objects: every expected key compares; an extra actual key fails unless its value is null;
 * - lists: same length, compared in order;
 * - a File: its actual `location` (or `path`) must exist on disk and end with `/` + the expected
 *   value; its checksum (`sha1$…`) and size are recomputed from disk and must match both the
 *   expected values and the ones the runner reported; `contents` is read from disk; other expected
 *   keys (`basename`, `format`, `secondaryFiles`...) compare recursively;
 * - a Directory: it needs a `listing`; each expected entry must match some actual entry (order
 *   does not matter), then the Directory's own keys compare like a File's.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** A mismatch, with the expected and actual values and why. */
export class CompareFail extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CompareFail";
  }

  static of(expected: unknown, actual: unknown, cause?: string): CompareFail {
    const show = (v: unknown): string => JSON.stringify(v, null, 2) ?? String(v);
    return new CompareFail(`expected: ${show(expected)}\ngot: ${show(actual)}${cause ? `\ncaused by: ${cause}` : ""}`);
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);

/** A location or path as a local path (`file:` URLs decoded). */
function localPath(ref: string): string {
  if (ref.startsWith("file:")) {
    try {
      return fileURLToPath(ref);
    } catch {
      return ref;
    }
  }
  return ref;
}

/** Scalars as Python compares them (True == 1, 1 == 1.0). */
function scalarEqual(a: unknown, b: unknown): boolean {
  if ((typeof a === "number" || typeof a === "boolean") && (typeof b === "number" || typeof b === "boolean")) return Number(a) === Number(b);
  return a === b;
}

function compareLocation(expected: Obj, actual: Obj): void {
  let expectedKey: string;
  if ("path" in expected) {
    expectedKey = "path";
    if (!("path" in actual)) actual.path = actual.location;
  } else if ("location" in expected) expectedKey = "location";
  else return;
  const actualKey = "path" in actual ? "path" : "location";
  let value = String(actual[actualKey] ?? "");
  if (actual.class === "Directory") value = value.replace(/\/+$/, "");
  const p = localPath(value);
  const exists = actual.class === "Directory" ? existsSync(p) && statSync(p).isDirectory() : existsSync(p) && statSync(p).isFile();
  if (!exists) throw CompareFail.of(expected, actual, `${value} does not exist`);
  const want = expected[expectedKey];
  if (want !== "Any" && !(value.endsWith(`/${String(want)}`) || (!value.includes("/") && want === value))) {
    throw CompareFail.of(expected, actual, `${value} does not end with ${String(want)}`);
  }
}

function fileOnDisk(actual: Obj): string {
  return localPath(String(actual.path ?? actual.location ?? ""));
}

function compareChecksumAndSize(expected: Obj, actual: Obj): void {
  const p = fileOnDisk(actual);
  if (!existsSync(p)) throw CompareFail.of(expected, actual, `${p} does not exist`);
  const data = readFileSync(p);
  const checksum = `sha1$${createHash("sha1").update(data).digest("hex")}`;
  if ("checksum" in actual && actual.checksum !== checksum) {
    throw CompareFail.of(expected, actual, `Output file checksums do not match: ${checksum} on disk, ${String(actual.checksum)} in the output object`);
  }
  if ("checksum" in expected && expected.checksum !== checksum) {
    throw CompareFail.of(expected, actual, `Output file checksums do not match: ${checksum} on disk, ${String(expected.checksum)} expected`);
  }
  if ("size" in actual && actual.size !== data.length) {
    throw CompareFail.of(expected, actual, `Output file sizes do not match: ${data.length} on disk, ${String(actual.size)} in the output object`);
  }
  if ("size" in expected && expected.size !== data.length) {
    throw CompareFail.of(expected, actual, `Output file sizes do not match: ${data.length} on disk, ${String(expected.size)} expected`);
  }
}

function compareFile(expected: Obj, actual: Obj): void {
  compareLocation(expected, actual);
  if ("contents" in expected) {
    const text = readFileSync(fileOnDisk(actual), "utf8");
    if (text !== expected.contents) throw CompareFail.of(expected, actual, `Output file contents do not match: ${JSON.stringify(text)}`);
  }
  if (actual.class === "File") compareChecksumAndSize(expected, actual);
  for (const k of Object.keys(expected)) {
    if (["path", "location", "listing", "contents", "checksum", "size"].includes(k)) continue;
    try {
      compare(expected[k], actual[k]);
    } catch (err) {
      throw CompareFail.of(expected, actual, `field ${JSON.stringify(k)} failed comparison: ${(err as Error).message}`);
    }
  }
}

function compareDirectory(expected: Obj, actual: Obj): void {
  if (actual.class !== "Directory") throw CompareFail.of(expected, actual, "expected object with a class 'Directory'");
  if (!("listing" in actual)) throw CompareFail.of(expected, actual, "'listing' is mandatory field in Directory object");
  const listing = Array.isArray(actual.listing) ? actual.listing : [];
  for (const e of Array.isArray(expected.listing) ? expected.listing : []) {
    const found = listing.some((a) => {
      try {
        compare(e, a);
        return true;
      } catch {
        return false;
      }
    });
    if (!found) throw CompareFail.of(expected, actual, `${JSON.stringify(e, null, 2)} not found`);
  }
  compareFile(expected, actual);
}

/** Compare an expected value with an actual one; throws {@link CompareFail} on a mismatch. */
export function compare(expected: unknown, actual: unknown): void {
  if (expected === "Any") return;
  if (expected !== null && expected !== undefined && (actual === null || actual === undefined)) throw CompareFail.of(expected, actual);
  if (isObj(expected)) {
    if (!isObj(actual)) throw CompareFail.of(expected, actual);
    if (expected.class === "File") return compareFile(expected, actual);
    if (expected.class === "Directory") return compareDirectory(expected, actual);
    for (const k of Object.keys(expected)) {
      try {
        compare(expected[k], actual[k]);
      } catch (err) {
        throw CompareFail.of(expected, actual, `failed comparison for key ${JSON.stringify(k)}: ${(err as Error).message}`);
      }
    }
    for (const k of Object.keys(actual)) {
      if (!(k in expected) && actual[k] !== null && actual[k] !== undefined) throw CompareFail.of(expected, actual, `unexpected key '${k}'`);
    }
    return;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) throw CompareFail.of(expected, actual);
    if (expected.length !== actual.length) throw CompareFail.of(expected, actual, "lengths don't match");
    expected.forEach((e, i) => {
      try {
        compare(e, actual[i]);
      } catch (err) {
        throw CompareFail.of(expected, actual, (err as Error).message);
      }
    });
    return;
  }
  const bothNull = (expected === null || expected === undefined) && (actual === null || actual === undefined);
  if (!bothNull && !scalarEqual(expected, actual)) throw CompareFail.of(expected, actual);
}
