import { defineConfig } from "vitest/config";

// One vitest run over every workspace project, so CI gets one summed count line.
// (Not named vitest.config.ts: per-package `vitest run` would pick it up from a parent directory.)
export default defineConfig({
  test: {
    projects: ["packages/*", "apps/*", "examples/*"],
    reporters: ["default", "./tooling/scripts/vitest-count-reporter.mjs"],
  },
});
