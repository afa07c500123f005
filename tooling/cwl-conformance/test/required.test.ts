/**
 * The `required` tests of the CWL v1.2 conformance suite, run through this package's driver against
 * the built toil-cwl-runner: one vitest test per conformance test, so CI's count line includes
 * them. A test that needs a container engine when none answers is reported skipped, never passed.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { detectContainerEngine, requiresDocker } from "../src/containers.js";
import { defaultRunner, defaultSuite } from "../src/paths.js";
import { runTests, type TestResult } from "../src/run.js";
import { loadSuite, selectTests } from "../src/suite.js";

const suiteFile = process.env.CWL_CONFORMANCE_SUITE ?? defaultSuite();
const haveSuite = existsSync(suiteFile);
const tests = haveSuite ? selectTests(loadSuite(suiteFile), { tags: ["required"] }) : [];
const engine = detectContainerEngine();
const runnable = tests.filter((t) => engine.engine !== undefined || !requiresDocker(t.tool));
const results = new Map<string, TestResult>();

describe("CWL v1.2 conformance: required tests", () => {
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

  if (haveSuite) {
    it("selects the 84 required tests", () => {
      expect(tests.length).toBe(84);
    });
  } else {
    // Outside CI a missing suite is one skipped test; in CI it is a failure.
    it.skipIf(!process.env.CI)(`has the conformance suite at ${suiteFile}`, () => {
      expect.fail(`The CWL conformance suite is missing at ${suiteFile}; CI needs it next to the repository.`);
    });
  }

  for (const t of tests) {
    const skip = engine.engine === undefined && requiresDocker(t.tool);
    it.skipIf(skip)(`${t.id}${skip ? " (needs a container engine; none answers)" : ""}`, () => {
      const r = results.get(t.id);
      expect(r, "the driver did not run this test").toBeDefined();
      expect(r!.status, `${r!.message ?? ""}\n${r!.stderr ?? ""}`).toBe("passed");
    });
  }
});
