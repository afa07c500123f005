#!/usr/bin/env -S npx tsx
/**
 * `pnpm cwl:conformance [options]`: run the CWL v1.2 conformance suite against a runner (default:
 * this repository's toil-cwl-runner) and print per-tag counts and a closing summary line.
 * Exit 0 when no test failed.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { detectContainerEngine, requiresDocker } from "./containers.js";
import { defaultRunner, defaultSuite } from "./paths.js";
import { progressLine, summaryLine, tagTable } from "./report.js";
import { runTests, type TestResult } from "./run.js";
import { loadSuite, sampleByTag, selectTests } from "./suite.js";

const HELP = `Usage: pnpm cwl:conformance [options]

Runs the CWL v1.2 conformance tests (conformance_tests.yaml) against a CWL runner, the way the
reference driver does, and judges the outputs by its rules.

Options:
  --suite FILE         conformance index (default: ../shared/cwl/v1.2/conformance_tests.yaml
                       next to the repository, or $CWL_CONFORMANCE_SUITE)
  --tags A,B           only tests with one of these tags (e.g. required)
  --exclude-tags A,B   leave out tests with these tags
  --id ID              only this test (by id or number); repeat for more
  --sample N           a fixed sample: the first N tests of each tag (not required ones,
                       none that needs a container engine); CI runs --sample 3
  -j, --parallel N     tests at once (default 2)
  --timeout SECONDS    time limit of each test (default 600)
  --runner CMD         the runner executable (default: node apps/leader/dist/cwl-runner.js)
  --runner-arg ARG     an argument for the runner before --outdir; repeat for more
                       (e.g. --runner cwltool --runner-arg=--no-container)
  --json FILE          write every result (status, time, message) to FILE
  --keep-outdirs       keep each test's output directory
  --list               list the selected tests and exit
  -v, --verbose        print failures' stderr
  -h, --help           this help`;

const { values } = parseArgs({
  options: {
    suite: { type: "string" },
    tags: { type: "string" },
    "exclude-tags": { type: "string" },
    id: { type: "string", multiple: true },
    sample: { type: "string" },
    parallel: { type: "string", short: "j" },
    timeout: { type: "string" },
    runner: { type: "string" },
    "runner-arg": { type: "string", multiple: true },
    json: { type: "string" },
    "keep-outdirs": { type: "boolean" },
    list: { type: "boolean" },
    verbose: { type: "boolean", short: "v" },
    help: { type: "boolean", short: "h" },
  },
  allowPositionals: false,
});

if (values.help) {
  console.log(HELP);
  process.exit(0);
}

const list = (s: string | undefined): string[] | undefined => (s === undefined ? undefined : s.split(",").map((x) => x.trim()).filter(Boolean));
const suiteFile = path.resolve(values.suite ?? process.env.CWL_CONFORMANCE_SUITE ?? defaultSuite());
const selected = selectTests(loadSuite(suiteFile), {
  ...(values.tags !== undefined ? { tags: list(values.tags)! } : {}),
  ...(values["exclude-tags"] !== undefined ? { excludeTags: list(values["exclude-tags"])! } : {}),
  ...(values.id !== undefined ? { ids: values.id } : {}),
});
const sampleSize = values.sample !== undefined ? Number(values.sample) : undefined;
if (sampleSize !== undefined && !(Number.isInteger(sampleSize) && sampleSize > 0)) throw new Error(`--sample must be a positive integer, got ${values.sample}`);
const tests = sampleSize !== undefined ? sampleByTag(selected, sampleSize, (t) => requiresDocker(t.tool)) : selected;

if (values.list) {
  for (const t of tests) console.log(`${t.number}\t${t.id}\t[${t.tags.join(", ")}]`);
  process.exit(0);
}

const parallel = Number(values.parallel ?? 2);
const timeoutSeconds = Number(values.timeout ?? 600);
if (!Number.isInteger(parallel) || parallel < 1) throw new Error(`-j must be a positive integer, got ${values.parallel}`);
if (!(timeoutSeconds > 0)) throw new Error(`--timeout must be a positive number of seconds, got ${values.timeout}`);
const runner = values.runner !== undefined ? { command: values.runner, args: values["runner-arg"] ?? [] } : { ...defaultRunner(), args: [...defaultRunner().args, ...(values["runner-arg"] ?? [])] };
const engine = detectContainerEngine();

process.stderr.write(
  `Running ${tests.length} CWL conformance test(s) from ${suiteFile}\n  runner: ${[runner.command, ...runner.args].join(" ")}\n  -j ${parallel}, time limit ${timeoutSeconds} s; containers: ${engine.engine ?? `none (${engine.reason}); tests that require Docker are skipped`}\n`,
);
const started = performance.now();
const results: TestResult[] = await runTests(tests, {
  runner,
  cwd: path.dirname(suiteFile),
  parallel,
  timeoutSeconds,
  containerEngine: engine.engine,
  noEngineReason: engine.reason,
  keepOutdirs: values["keep-outdirs"] ?? false,
  onResult: (r, done, total) => {
    process.stderr.write(`${progressLine(r, done, total)}\n`);
    if (values.verbose && r.status === "failed") {
      process.stderr.write(`    command: ${(r.command ?? []).join(" ")}\n${(r.message ?? "").replace(/^/gm, "    ")}\n${(r.stderr ?? "").replace(/^/gm, "    | ")}\n`);
    }
  },
});
const wall = (performance.now() - started) / 1000;

if (values.json) {
  writeFileSync(
    values.json,
    JSON.stringify(
      results.map((r) => ({ id: r.test.id, tags: r.test.tags, status: r.status, seconds: Number(r.seconds.toFixed(3)), message: r.message, exitCode: r.exitCode })),
      null,
      1,
    ),
  );
}

const failed = results.filter((r) => r.status === "failed");
if (failed.length > 0) {
  console.log("\nFailed tests:");
  for (const r of failed) console.log(`  ${r.test.id}: ${(r.message ?? "").split("\n")[0]}`);
}
const skipped = results.filter((r) => r.status === "skipped");
if (skipped.length > 0) {
  console.log("\nSkipped tests:");
  for (const r of skipped) console.log(`  ${r.test.id}: ${r.message}`);
}
console.log(`\n${tagTable(results)}\n`);
console.log(summaryLine(results, wall));
process.exitCode = failed.length > 0 ? 1 : 0;
