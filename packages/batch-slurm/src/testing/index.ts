/**
 * Test helpers for code that needs a real Slurm cluster: the gate that decides whether such
 * tests run, are skipped (with the reason in their name), or fail.
 *
 * - `sbatch` on `PATH`: the tests run.
 * - no `sbatch`: they are skipped, visibly, with a warning naming the reason.
 * - no `sbatch` and `TOIL_TEST_REQUIRE_SLURM=1` (CI): one failing test says why, instead of a skip.
 *
 * @example
 * import { describeSlurm } from "@toil/batch-slurm/testing";
 * describeSlurm("slurm (real cluster) my workflow", () => {
 *   it("runs", async () => { ... });
 * });
 *
 * @module @toil/batch-slurm/testing
 */
import { spawnSync } from "node:child_process";
import { describe, it } from "vitest";

/** Whether `sbatch` is on `PATH` (checked once, when this module is loaded). */
export const hasSbatch: boolean = spawnSync("sbatch", ["--version"], { stdio: "ignore" }).status === 0;

/** Whether `TOIL_TEST_REQUIRE_SLURM=1` is set: a missing `sbatch` is then a failure, not a skip. */
export const requireSlurm: boolean = process.env.TOIL_TEST_REQUIRE_SLURM === "1";

/** Why Slurm tests are skipped when `sbatch` is missing. */
export const SLURM_SKIP_REASON = "sbatch is not on PATH (start a cluster, or set TOIL_TEST_REQUIRE_SLURM=1 to make this a failure)";

/**
 * `describe` for tests that need a real Slurm cluster. Without `sbatch` they are skipped with
 * the reason in their name, unless `TOIL_TEST_REQUIRE_SLURM=1`, where a failing test says why.
 */
export function describeSlurm(name: string, fn: () => void): void {
  if (hasSbatch) {
    describe(name, fn);
  } else if (requireSlurm) {
    describe(name, () => {
      it("needs a Slurm cluster", () => {
        throw new Error("TOIL_TEST_REQUIRE_SLURM=1 but sbatch is not on PATH: the Slurm tests cannot run. Start a cluster or put its client commands on PATH.");
      });
    });
  } else {
    process.emitWarning(`Skipping "${name}": ${SLURM_SKIP_REASON}.`);
    describe.skip(`${name} [skipped: ${SLURM_SKIP_REASON}]`, fn);
  }
}
