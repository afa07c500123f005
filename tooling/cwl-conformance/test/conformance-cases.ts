/**
 * Conformance tests as vitest tests: the selected tests run through this package's driver (-j2)
 * against the built toil-cwl-runner, one vitest test each, so CI's count line includes them. A test
 * that needs a container engine when none answers is a skipped vitest test, never a passed one.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { detectContainerEngine, requiresDocker } from "../src/containers.js";
import { defaultRunner, defaultSuite } from "../src/paths.js";
import { runTests, type TestResult } from "../src/run.js";
import { loadSuite, type ConformanceTest } from "../src/suite.js";

/** The suite CI uses, and whether it is there. */
export function suite(): { file: string; present: boolean; tests: ConformanceTest[] } {
  const file = process.env.CWL_CONFORMANCE_SUITE ?? defaultSuite();
  const present = existsSync(file);
  return { file, present, tests: present ? loadSuite(file) : [] };
}

/**
 * Describe `tests` as vitest tests. `allowUnsupported`: a test the runner reports unsupported
 * (exit 33) is a skipped vitest test with the runner's reason (for optional features); otherwise
 * it fails.
 */
export function describeConformance(title: string, suiteFile: string, present: boolean, tests: readonly ConformanceTest[], allowUnsupported: boolean, expectedCount?: number): void {
  const engine = detectContainerEngine();
  const runnable = tests.filter((t) => engine.engine !== undefined || !requiresDocker(t.tool));
  const results = new Map<string, TestResult>();

  describe(title, () => {
    beforeAll(async () => {
      const runner = defaultRunner();
      if (!existsSync(runner.args[0]!)) throw new Error(`${runner.args[0]} is missing: build first (pnpm build).`);
      for (const r of await runTests(runnable, {
        runner,
        cwd: path.dirname(suiteFile),
        parallel: 2,
        timeoutSeconds: 300,
        containerEngine: engine.engine,
        noEngineReason: engine.reason,
      })) {
        results.set(r.test.id, r);
      }
    }, 1_800_000);

    if (present) {
      if (expectedCount !== undefined) {
        it(`selects the ${expectedCount} tests`, () => {
          expect(tests.length).toBe(expectedCount);
        });
      }
    } else {
      // Outside CI a missing suite is one skipped test; in CI it is a failure.
      it.skipIf(!process.env.CI)(`has the conformance suite at ${suiteFile}`, () => {
        expect.fail(`The CWL conformance suite is missing at ${suiteFile}; CI needs it next to the repository.`);
      });
    }

    for (const t of tests) {
      const skip = engine.engine === undefined && requiresDocker(t.tool);
      it.skipIf(skip)(`${t.id}${skip ? " (needs a container engine; none answers)" : ""}`, (ctx) => {
        const r = results.get(t.id);
        expect(r, "the driver did not run this test").toBeDefined();
        if (allowUnsupported && r!.status === "unsupported") ctx.skip(`unsupported: ${r!.message ?? ""}`);
        expect(r!.status, `${r!.message ?? ""}\n${r!.stderr ?? ""}`).toBe("passed");
      });
    }
  });
}
