/**
 * Default locations: the conformance suite next to the repository (`../shared/cwl/v1.2`), and this
 * repository's built `toil-cwl-runner`.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { RunnerCommand } from "./run.js";

/** The repository's root directory. */
function repoRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
}

/** `conformance_tests.yaml` of the CWL v1.2 suite kept next to the repository. */
export function defaultSuite(): string {
  return path.resolve(repoRoot(), "../shared/cwl/v1.2/conformance_tests.yaml");
}

/** The built toil-cwl-runner of this repository (run `pnpm build` first). */
export function defaultRunner(): RunnerCommand {
  return { command: process.execPath, args: [path.join(repoRoot(), "apps/leader/dist/cwl-runner.js")] };
}
