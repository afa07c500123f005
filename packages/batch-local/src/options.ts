import type { BatchSystemOptionSpec } from "@toil/batch-core";

/**
 * The options the single-machine batch system adds to the workflow configuration. A module of
 * its own (data, type imports only) so that `toil --help` lists them without loading the batch
 * system (`@toil/batch-local/options`).
 */
export const SINGLE_MACHINE_OPTIONS: readonly BatchSystemOptionSpec[] = [
  {
    name: "warmWorkers",
    kind: "boolean",
    section: "Single machine",
    env: "TOIL_WARM_WORKERS",
    default: true,
    help: "Run node worker commands whose script exports runWarmCommand in warm node processes reused between jobs.",
  },
  {
    name: "killGraceSeconds",
    kind: "number",
    section: "Single machine",
    env: "TOIL_KILL_GRACE_SECONDS",
    default: 2,
    help: "Seconds a killed job gets between SIGTERM and SIGKILL.",
  },
];
