import { statSync, readFileSync } from "node:fs";
import { basename, isAbsolute, resolve } from "node:path";
import { type BatchJobDescription, checkArgv, checkEnvironment, type Environment } from "@toil/batch-core";

/**
 * The argv the single-machine batch system executes without a shell: `jobDesc.argv` when the
 * caller gave it (the leader always does; it is checked, never re-parsed), else the command
 * split when it is a plain list of words; `null` means the command line needs `/bin/sh -c`.
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
  return splitPlainCommand(command);
}

const PLAIN = /^[A-Za-z0-9_./=:@%+,-]$/;

/**
 * Split a command line into argv when it is a plain list of words (unquoted, 'single' or
 * "double" quoted, without shell syntax). Returns `null` when the command needs a shell
 * (variables, pipes, redirections, globs, ...): such commands run through `/bin/sh -c`.
 */
export function splitPlainCommand(command: string): string[] | null {
  const argv: string[] = [];
  let cur = "";
  let inWord = false;
  for (let i = 0; i < command.length; i++) {
    const ch = command[i] as string;
    if (ch === " " || ch === "\t") {
      if (inWord) {
        argv.push(cur);
        cur = "";
        inWord = false;
      }
    } else if (ch === "'") {
      const end = command.indexOf("'", i + 1);
      if (end < 0) return null;
      cur += command.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (ch === '"') {
      let j = i + 1;
      for (; j < command.length; j++) {
        const c = command[j];
        if (c === '"') break;
        if (c === "$" || c === "`" || c === "\\" || c === "!") return null;
      }
      if (j >= command.length) return null;
      cur += command.slice(i + 1, j);
      i = j;
      inWord = true;
    } else if (PLAIN.test(ch)) {
      // `~` at the start and `=` in a first word (variable assignment) need the shell too.
      if (!inWord && argv.length === 0 && ch === "=") return null;
      cur += ch;
      inWord = true;
    } else {
      return null;
    }
  }
  if (inWord) argv.push(cur);
  if (argv.length === 0) return null;
  // A leading NAME=value word is an environment assignment for the shell.
  if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(argv[0] as string)) return null;
  return argv;
}

/** Quote a word for `/bin/sh` (used in messages and by callers building commands). */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./=:@%+,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
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
