/**
 * Owner-only by default, whatever the umask: a workflow run under umask 000 leaves a job store,
 * work directory (worker temp dirs, caches), --logFile, --writeMessages bus log and --writeLogs
 * files that are 0700 (directories) and 0600 (files; 0700 for executables; 0400 for read-only
 * cache copies). Files the user's own job code writes inside its temp dir are its business, but
 * they sit in an owner-only directory.
 */
import { spawn } from "node:child_process";
import { lstatSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { recordFigure, REPO_ROOT, TOIL_CLI, tempDir } from "../../src/index.js";

const SUITE = "security/modes";
const FLOW = path.join(REPO_ROOT, "tooling", "e2e", "fixtures", "security", "flow.ts");
const base = tempDir("toil-sec-modes-");
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** Runs `toil` under `umask 000` (the umask is set by /bin/sh; the arguments are an array). */
function runUnderUmask0(args: string[], cwd: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("/bin/sh", ["-c", 'umask 000 && exec "$@"', "sh", process.execPath, TOIL_CLI, ...args], {
      cwd,
      env: { ...process.env, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (c) => (out += c));
    child.stderr.on("data", (c) => (out += c));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, out }));
  });
}

/** Every path under `root` (including it) with its permission bits. */
function modes(root: string): { path: string; mode: number; dir: boolean }[] {
  const out = [{ path: root, mode: statSync(root).mode & 0o777, dir: true }];
  for (const e of readdirSync(root, { recursive: true, withFileTypes: true })) {
    const p = path.join(e.parentPath, e.name);
    const st = lstatSync(p);
    if (st.isSymbolicLink()) continue;
    out.push({ path: p, mode: st.mode & 0o777, dir: st.isDirectory() });
  }
  return out;
}

describe("file modes under umask 000", () => {
  it("job store, work dir, temp dirs, caches, logs and bus log are owner-only", async () => {
    const work = path.join(base, "work");
    mkdirSync(work, { mode: 0o700 });
    const r = await runUnderUmask0(
      [
        "run", FLOW,
        "--jobStore", "./js",
        "--workDir", work,
        "--logFile", "./logs/leader.log",
        "--writeMessages", "./bus/bus.jsonl",
        "--writeLogs", "./joblogs",
        "--writeLogsFromAllJobs",
        "--caching",
        "--clean", "never",
        "--cleanWorkDir", "never",
        "--disableProgress",
        "--", "./out.json",
      ],
      base,
    );
    expect(r.code, r.out).toBe(0);
    const checked: string[] = [];
    const bad: string[] = [];
    for (const top of ["js", "work", "logs", "bus", "joblogs"]) {
      const entries = modes(path.join(base, top));
      expect(entries.length).toBeGreaterThan(top === "js" || top === "work" ? 5 : 1);
      for (const e of entries) {
        // Files the job's own code wrote in its temp dir (in.txt) follow the job's umask; their directory is 0700.
        if (!e.dir && path.basename(e.path) === "in.txt" && path.dirname(e.path).includes(`${path.sep}dir-`)) continue;
        const ok = e.dir ? e.mode === 0o700 : [0o600, 0o700, 0o400, 0o500].includes(e.mode);
        if (!ok) bad.push(`${e.mode.toString(8)} ${path.relative(base, e.path)}`);
        checked.push(e.path);
      }
    }
    expect(bad).toEqual([]);
    // The directory levels the leader created for --logFile and --writeMessages are owner-only too.
    for (const d of ["logs", "bus"]) expect(statSync(path.join(base, d)).mode & 0o777).toBe(0o700);
    recordFigure({ suite: SUITE, name: "paths checked owner-only under umask 000", value: checked.length });
  }, 180_000);
});
