import path from "node:path";
import { fileURLToPath } from "node:url";
import { type RunOptions, type RunResult, runToil as run } from "@toil/test-support";

export { REPO_ROOT, requireBuild, type RunResult, TOIL_CLI, tempDir } from "@toil/test-support";

const here = path.dirname(fileURLToPath(import.meta.url));
/** The leader app's directory. */
export const LEADER_DIR = path.resolve(here, "..", "..");
/** Workflow files used by the scenario tests. */
export const FIXTURES = path.join(here, "..", "fixtures");

/** Run `toil <args>` as a real process, from the leader app's directory unless told otherwise. */
export function runToil(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return run(args, { cwd: LEADER_DIR, timeoutMs: 120_000, ...options });
}

/** Options every scenario uses: small defaults so many jobs fit on a small machine. */
export const SMALL = ["--defaultMemory", "64Mi", "--defaultDisk", "1Mi", "--defaultCores", "0.1", "--disableProgress", "--logLevel", "info"];
