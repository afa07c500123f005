/**
 * Helpers of the bad-input table: run the built `toil` CLI (optionally as an unprivileged user),
 * snapshot a directory tree, and run a list of jobs a few at a time.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, chownSync, lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { collect } from "@toil/test-support";
import { TOIL_CLI, requireBuild } from "../../src/toil.js";

const here = path.dirname(fileURLToPath(import.meta.url));
/** The fixtures of the table. */
export const FIXTURES = path.resolve(here, "..", "..", "fixtures", "bad-input");
export const fx = (name: string): string => path.join(FIXTURES, name);

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd: string;
  env?: Record<string, string>;
  /** Run as this user and group (root can drop to an unprivileged user so permissions apply). */
  uid?: number;
  gid?: number;
  timeoutMs?: number;
  /** The `toil` script to run (default: the built CLI in the workspace). */
  cli?: string;
}

/** Run `toil <args>` as a real process. */
export async function runCli(args: readonly string[], options: CliOptions): Promise<CliResult> {
  requireBuild();
  const child = spawn(process.execPath, [options.cli ?? TOIL_CLI, ...args], {
    cwd: options.cwd,
    env: { ...process.env, NO_COLOR: "1", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
    ...(options.uid !== undefined ? { uid: options.uid, gid: options.gid ?? options.uid } : {}),
  });
  const { code, signal, stdout, stderr } = await collect(child, options.timeoutMs ?? 120_000);
  return { code, signal, stdout, stderr };
}

/** One entry of a tree snapshot: kind, mode, size, mtime and a content hash (files) or target (links). */
export type Snapshot = Map<string, string>;

/** Every path under `root` (relative) with what a change would alter: kind, mode, size, mtime, content hash. */
export function snapshotTree(root: string): Snapshot {
  const out: Snapshot = new Map();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const abs = path.join(dir, name);
      const rel = path.relative(root, abs);
      const st = lstatSync(abs);
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isDirectory()) {
        out.set(rel, `dir ${mode} ${st.mtimeMs}`);
        walk(abs);
      } else if (st.isSymbolicLink()) {
        out.set(rel, `link ${readlinkSync(abs)}`);
      } else {
        const hash = createHash("sha256").update(readFileSync(abs)).digest("hex");
        out.set(rel, `file ${mode} ${st.size} ${st.mtimeMs} ${hash}`);
      }
    }
  };
  const st = lstatSync(root);
  out.set(".", `dir ${(st.mode & 0o7777).toString(8)} ${st.mtimeMs}`);
  walk(root);
  return out;
}

/** What differs between two snapshots, one line per path ("" when nothing changed). */
export function diffSnapshots(before: Snapshot, after: Snapshot): string[] {
  const lines: string[] = [];
  for (const [p, v] of before) {
    const w = after.get(p);
    if (w === undefined) lines.push(`removed ${p}`);
    else if (w !== v) lines.push(`changed ${p}: ${v} -> ${w}`);
  }
  for (const p of after.keys()) if (!before.has(p)) lines.push(`added ${p}`);
  return lines;
}

/** Give a tree to a user and take every write permission away (directories 0555, files 0444). */
export function makeReadOnly(root: string, uid?: number, gid?: number): void {
  const walk = (p: string): void => {
    const st = lstatSync(p);
    if (st.isSymbolicLink()) return;
    if (uid !== undefined) chownSync(p, uid, gid ?? uid);
    if (st.isDirectory()) {
      for (const name of readdirSync(p)) walk(path.join(p, name));
      chmodSync(p, 0o555);
    } else {
      chmodSync(p, 0o444);
    }
  };
  walk(root);
}

/** Run `fn` over `items`, at most `limit` at once, keeping the order of the results. */
export async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** The `toil ...: error [Name]: message` block of a CLI's stderr (the message runs to the end). */
export function parseCliError(stderr: string): { command: string; name: string; message: string } | undefined {
  const m = /^toil( [\w-]+)?: error \[(\w+)\]: ([\s\S]*)$/m.exec(stderr);
  if (!m) return undefined;
  return { command: (m[1] ?? "").trim(), name: m[2]!, message: m[3]! };
}
