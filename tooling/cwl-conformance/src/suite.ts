/**
 * Reading a conformance index (`conformance_tests.yaml`): a list of tests, with `$import` entries
 * that pull in other index files (paths relative to the file that names them) and `$import`ed
 * values (`output: {$import: expected.json}`). Tool and job paths become absolute.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import yaml from "js-yaml";

/** One conformance test. */
export interface ConformanceTest {
  id: string;
  doc: string;
  tags: string[];
  /** Absolute path of the CWL document, with its `#fragment` if any. */
  tool: string;
  /** Absolute path of the input object, or undefined. */
  job?: string;
  /** The expected output object (undefined for should_fail tests). */
  output?: unknown;
  shouldFail: boolean;
  /** 1-based position in the suite (as the reference driver numbers tests). */
  number: number;
}

type Raw = Record<string, unknown>;
const isObj = (v: unknown): v is Raw => v !== null && typeof v === "object" && !Array.isArray(v);

function loadYaml(file: string): unknown {
  return yaml.load(readFileSync(file, "utf8"), { filename: file });
}

/** Replace `{$import: file}` values (relative to `dir`) by the file's content, recursively. */
function resolveImports(value: unknown, dir: string): unknown {
  if (Array.isArray(value)) return value.map((v) => resolveImports(v, dir));
  if (!isObj(value)) return value;
  if (typeof value.$import === "string" && Object.keys(value).length === 1) {
    const file = path.resolve(dir, value.$import);
    return resolveImports(loadYaml(file), path.dirname(file));
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveImports(v, dir)]));
}

/** Absolute path of a tool reference, keeping its fragment. */
function absoluteTool(tool: string, dir: string): string {
  const hash = tool.indexOf("#");
  if (hash < 0) return path.resolve(dir, tool);
  return `${path.resolve(dir, tool.slice(0, hash))}${tool.slice(hash)}`;
}

/** Every test of an index file, in order. */
export function loadSuite(indexFile: string): ConformanceTest[] {
  const out: ConformanceTest[] = [];
  const visit = (file: string): void => {
    const dir = path.dirname(file);
    const entries = loadYaml(file);
    if (!Array.isArray(entries)) throw new Error(`${file} is not a list of tests.`);
    for (const entry of entries) {
      if (!isObj(entry)) continue;
      if (typeof entry.$import === "string") {
        visit(path.resolve(dir, entry.$import));
        continue;
      }
      const t = resolveImports(entry, dir) as Raw;
      if (typeof t.id !== "string" || typeof t.tool !== "string") throw new Error(`${file}: a test without id or tool: ${JSON.stringify(t).slice(0, 200)}`);
      out.push({
        id: t.id,
        doc: typeof t.doc === "string" ? t.doc.trim() : "",
        tags: Array.isArray(t.tags) ? t.tags.map(String) : ["required"],
        tool: absoluteTool(t.tool, dir),
        ...(typeof t.job === "string" ? { job: path.resolve(dir, t.job) } : {}),
        ...(t.output !== undefined ? { output: t.output } : {}),
        shouldFail: t.should_fail === true,
        number: out.length + 1,
      });
    }
  };
  visit(path.resolve(indexFile));
  return out;
}

/** Which tests to run. */
export interface Selection {
  /** Only tests with at least one of these tags. */
  tags?: readonly string[];
  /** Leave out tests with any of these tags. */
  excludeTags?: readonly string[];
  /** Only these ids (or 1-based numbers). */
  ids?: readonly string[];
}

/** The tests a selection picks, in suite order. Unknown ids are an error. */
export function selectTests(tests: readonly ConformanceTest[], s: Selection): ConformanceTest[] {
  if (s.ids && s.ids.length > 0) {
    const known = new Set(tests.map((t) => t.id));
    for (const id of s.ids) {
      if (!known.has(id) && !/^\d+$/.test(id)) throw new Error(`No test with id ${JSON.stringify(id)}.`);
    }
  }
  return tests.filter((t) => {
    if (s.ids && s.ids.length > 0 && !s.ids.includes(t.id) && !s.ids.includes(String(t.number))) return false;
    if (s.tags && s.tags.length > 0 && !t.tags.some((tag) => s.tags!.includes(tag))) return false;
    if (s.excludeTags && t.tags.some((tag) => s.excludeTags!.includes(tag))) return false;
    return true;
  });
}

/**
 * A fixed sample of the suite: for each tag (in alphabetical order), the first `perTag` tests in
 * suite order that carry it, leaving out `required` tests (CI runs them all anyway), tests that
 * need a container engine (`needsEngine`), and tests already picked for an earlier tag. The same
 * suite always gives the same sample, whatever the machine.
 */
export function sampleByTag(tests: readonly ConformanceTest[], perTag: number, needsEngine: (t: ConformanceTest) => boolean): ConformanceTest[] {
  const picked = new Set<ConformanceTest>();
  const tags = [...new Set(tests.flatMap((t) => t.tags))].filter((t) => t !== "required").sort();
  for (const tag of tags) {
    let n = 0;
    for (const t of tests) {
      if (n >= perTag) break;
      if (!t.tags.includes(tag) || t.tags.includes("required") || needsEngine(t)) continue;
      if (!picked.has(t)) picked.add(t);
      n++;
    }
  }
  return tests.filter((t) => picked.has(t));
}
