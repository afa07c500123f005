/** Run the real `toil` bin (apps/leader/dist/cli.js, built by `pnpm build`) for the ops tests. */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
export const TOIL_BIN = path.resolve(here, "../dist/cli.js");
export const FLOW = path.join(here, "ops-fixtures", "flow.ts");

export function assertBuilt(): void {
  if (!fs.existsSync(TOIL_BIN)) {
    throw new Error(`${TOIL_BIN} is missing: build the CLI first (pnpm --filter @toil/leader... build, or pnpm build at the root).`);
  }
}

export interface ToilResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Start `toil <args>`; the caller waits with {@link finish}. */
export function startToil(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, [TOIL_BIN, ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

export function finish(child: ChildProcess): Promise<ToilResult> {
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

export async function toil(args: readonly string[], cwd: string, env?: NodeJS.ProcessEnv): Promise<ToilResult> {
  return finish(startToil(args, cwd, env));
}

export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
