import { spawnSync } from "node:child_process";
import { describe, it } from "vitest";

/** Whether `sbatch` is on PATH. */
export const hasSbatch = spawnSync("sbatch", ["--version"], { stdio: "ignore" }).status === 0;
/** CI sets TOIL_TEST_REQUIRE_SLURM=1: a missing sbatch is then a failure, not a skip. */
export const requireSlurm = process.env.TOIL_TEST_REQUIRE_SLURM === "1";

const SKIP_REASON = "sbatch is not on PATH (start a cluster, or set TOIL_TEST_REQUIRE_SLURM=1 to make this a failure)";

/**
 * `describe` for tests that need a real Slurm cluster. Without `sbatch` they are skipped with
 * the reason in their name, unless TOIL_TEST_REQUIRE_SLURM=1, where a failing test says why.
 */
export function describeSlurm(name: string, fn: () => void): void {
  if (hasSbatch) {
    describe(name, fn);
  } else if (requireSlurm) {
    describe(name, () => {
      it("needs a Slurm cluster", () => {
        throw new Error(`TOIL_TEST_REQUIRE_SLURM=1 but ${SKIP_REASON.split(" (")[0]}: the Slurm tests cannot run.`);
      });
    });
  } else {
    process.emitWarning(`Skipping "${name}": ${SKIP_REASON}.`);
    describe.skip(`${name} [skipped: ${SKIP_REASON}]`, fn);
  }
}
