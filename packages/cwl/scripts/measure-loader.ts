/**
 * Loads every process document the CWL v1.2 conformance suite names (316 documents) with this
 * package's loader and reports how many load, how many are rejected (and whether the suite expects
 * that test to fail), and the time taken.
 *
 *   pnpm --filter @toil/cwl exec tsx scripts/measure-loader.ts [path/to/conformance_tests.yaml]
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import yaml from "js-yaml";
import { CwlLoader } from "../src/load/index.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const index = path.resolve(process.argv[2] ?? path.join(here, "../../../../shared/cwl/v1.2/conformance_tests.yaml"));

interface Entry {
  tool: string;
  should_fail?: boolean;
  id: string;
}

function tests(file: string): (Entry & { dir: string })[] {
  const out: (Entry & { dir: string })[] = [];
  for (const t of yaml.load(readFileSync(file, "utf8")) as (Entry & { $import?: string })[]) {
    if (t.$import) out.push(...tests(path.resolve(path.dirname(file), t.$import)));
    else out.push({ ...t, dir: path.dirname(file) });
  }
  return out;
}

const byDoc = new Map<string, (Entry & { dir: string })[]>();
for (const t of tests(index)) {
  const doc = path.resolve(t.dir, t.tool);
  byDoc.set(doc, [...(byDoc.get(doc) ?? []), t]);
}

const started = performance.now();
let loaded = 0;
const rejected: string[] = [];
for (const [doc, ts] of byDoc) {
  try {
    await new CwlLoader().load(doc);
    loaded++;
  } catch (err) {
    const expected = ts.every((t) => t.should_fail) ? "expected to fail" : "SHOULD LOAD";
    rejected.push(`${path.relative(path.dirname(index), doc)} [${expected}]: ${(err as Error).message.split("\n").slice(0, 3).join(" / ")}`);
  }
}
const ms = performance.now() - started;
console.log(`${byDoc.size} documents: ${loaded} loaded, ${rejected.length} rejected, ${ms.toFixed(0)} ms (${(ms / byDoc.size).toFixed(1)} ms each)`);
for (const r of rejected) console.log(`  ${r}`);
