/** Run the real `toil` bin (apps/leader/dist/cli.js, built by `pnpm build`) for the ops tests. */
import type { ChildProcess } from "node:child_process";
import { collect, type RunResult, startToil as start, until } from "@toil/test-support";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
export const FLOW = path.join(here, "ops-fixtures", "flow.ts");

export { requireBuild as assertBuilt, TOIL_CLI as TOIL_BIN } from "@toil/test-support";

;

/** Start `toil <args>` in `cwd`; the caller waits with {@link finish}. */
export function startToil(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): ChildProcess {
  return start(args, { cwd, env });
}

/** Collect a started process's output until it ends. */
export function finish(child: ChildProcess): Promise<RunResult> {
  return collect(child);
}

export async function toil(args: readonly string[], cwd: string, env?: NodeJS.ProcessEnv): Promise<RunResult> {
  return finish(startToil(args, cwd, env));
}

/** Resolve once `check()` holds; fail naming `what` after `timeoutMs`. */
export function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  return until(what, check, { timeoutMs, intervalMs: 100 });
}
