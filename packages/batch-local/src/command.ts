import { statSync, readFileSync } from "node:fs";
import { basename, isAbsolute, resolve } from "node:path";
import { type BatchJobDescription, checkArgv, checkEnvironment, type Environment, plainCommandWords } from "@toil/batch-core";

/**
 * The argv the single-machine batch system executes without a shell: `jobDesc.argv` when the
 * caller gave it (the leader always does; it is checked, never re-parsed), else the command
 * split when it is a plain list of words (`plainCommandWords`); `null` means the command line
 * needs `/bin/sh -c`.
 * Also checks the job's environment (no NUL bytes, valid names).
 */
export function localJobArgv(
  command: string,
  jobDesc: Pick<BatchJobDescription, "argv" | "jobName">,
  jobEnvironment?: Environment,
): string[] | null {
  checkEnvironment(jobEnvironment, jobDesc.jobName);
  if (jobDesc.argv !== undefined) {
    checkArgv(jobDesc.argv, jobDesc.jobName);
    return [...jobDesc.argv];
  }
  return plainCommandWords(command);
}

const warmCache = new Map<string, { mtimeMs: number; size: number; warm: boolean }>();

/**
 * If `argv` is `[node, script, ...args]` and the script's source mentions `runWarmCommand`,
 * the absolute script path; otherwise `null`. (Only scripts that mention the export are
 * imported into a warm host, so scripts with top-level side effects never run twice.)
 */
export function warmScriptOf(argv: readonly string[], cwd: string): string | null {
  if (argv.length < 2) return null;
  const exe = argv[0] as string;
  if (exe !== process.execPath && exe !== "node" && basename(exe) !== "node") return null;
  const script = argv[1] as string;
  if (script.startsWith("-") || !/\.(m?js)$/.test(script)) return null;
  const abs = isAbsolute(script) ? script : resolve(cwd, script);
  let st;
  try {
    st = statSync(abs);
  } catch {
    return null;
  }
  const cached = warmCache.get(abs);
  if (cached && cached.mtimeMs === st.mtimeMs && cached.size === st.size) return cached.warm ? abs : null;
  let warm = false;
  try {
    warm = st.isFile() && readFileSync(abs, "utf8").includes("runWarmCommand");
  } catch {
    warm = false;
  }
  warmCache.set(abs, { mtimeMs: st.mtimeMs, size: st.size, warm });
  return warm ? abs : null;
}

/** Remember that a script turned out not to export `runWarmCommand` (until it changes). */
export function markNotWarm(abs: string): void {
  const c = warmCache.get(abs);
  if (c) c.warm = false;
}
