import { defineConfig } from "vitest/config";

// One vitest run over every workspace project, so CI gets one summed count line.
// (Not named vitest.config.ts: per-package `vitest run` would pick it up from a parent directory.)
export default defineConfig({
  test: {
    projects: ["packages/*", "apps/*", "examples/*", "tooling/e2e", "tooling/cwl-conformance"],
    // Most tests wait on real processes, files and Slurm rather than on the CPU, so run more
    // files at once than vitest's default (cores - 1, which is one file at a time on 2 cores).
    maxWorkers: 3,
    reporters: ["default", "./tooling/scripts/vitest-count-reporter.mjs"],
  },
});
