/**
 * Storage faults: the job store's filesystem fills up during a run (real ENOSPC).
 *
 * The job store lives on a small tmpfs mounted for the test (16 MiB), most of it taken by a
 * ballast file, so the kernel itself answers ENOSPC: no fault is injected, no store code is
 * mocked. Two workflows run through the real CLI until the disk is full: one that writes big
 * files (the file writes fail) and one that creates many large job descriptions (the job-store
 * commits fail, in workers and in the leader). Each run must end on its own with a clear error
 * (JobStoreFullError: which file, free space, --restart); the store must still resume with every
 * committed job and file intact; after the ballast is deleted, `--restart` must finish with the
 * right result without running again what had committed.
 *
 * Mounting needs root and CAP_SYS_ADMIN (CI runs as root in a container). Where mounting is not
 * permitted (or with TOIL_E2E_ENOSPC=inject) the suite uses the job store's documented test seam
 * instead: TOIL_FILESTORE_FULL_DISK_FLAG names a file while which every store write fails with
 * ENOSPC; the flag is created once some jobs have committed. The test names say which was used.
 * It never fills a real filesystem.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import path from "node:path";
import { FileJobStore, type JobStore } from "@toil/filestore";
import type { JobDescription } from "@toil/job";
import { afterAll, describe, expect, it } from "vitest";
import { recordFigure, runToil, tempDir, REPO_ROOT } from "../../src/index.js";
import { contentOf } from "../../fixtures/storage/big-files.js";

const SUITE = "faults/storage";
const FIXTURES = path.join(REPO_ROOT, "tooling", "e2e", "fixtures", "storage");
const MiB = 1 << 20;
/** Size of the test filesystem, and what is left free for the workflow after the ballast. */
const FS_SIZE = 16 * MiB;
const LEFT_FREE = 2 * MiB;

const work = tempDir("toil-storage-enospc-");
/** Where the job stores live: the tmpfs, or a plain directory with the injection seam. */
const storeRoot = path.join(work, "mnt");
fs.mkdirSync(storeRoot);

function tryMount(dir: string): string | undefined {
  if (process.platform !== "linux") return "not Linux";
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${FS_SIZE}`, "tmpfs", dir], { stdio: "pipe" });
    return undefined;
  } catch (err) {
    return String((err as { stderr?: Buffer }).stderr ?? err).trim() || "mount failed";
  }
}

const mountProblem = process.env.TOIL_E2E_ENOSPC === "inject" ? "TOIL_E2E_ENOSPC=inject" : tryMount(storeRoot);
const mounted = mountProblem === undefined;
const METHOD = mounted ? "real ENOSPC on a 16 MiB tmpfs" : "ENOSPC injected by the job store's test seam";
if (!mounted) console.warn(`storage-enospc: no tmpfs (${mountProblem}); using TOIL_FILESTORE_FULL_DISK_FLAG.`);
const flag = path.join(work, "disk-full.flag");
const seamEnv: Record<string, string> = mounted ? {} : { TOIL_FILESTORE_FULL_DISK_FLAG: flag };

afterAll(() => {
  if (mounted) execFileSync("umount", ["-l", storeRoot], { stdio: "ignore" });
  fs.rmSync(work, { recursive: true, force: true });
});

/**
 * Make the store's disk full: on the tmpfs, a ballast file leaves only LEFT_FREE bytes; with the
 * seam, the flag is created as soon as `committed()` says some work has committed. Returns the
 * function that frees the space again.
 */
function fillDisk(committed: () => boolean): () => void {
  if (!mounted) {
    const timer = setInterval(() => {
      if (committed()) {
        fs.writeFileSync(flag, "");
        clearInterval(timer);
      }
    }, 50);
    return () => {
      clearInterval(timer);
      fs.rmSync(flag, { force: true });
    };
  }
  const ballast = path.join(storeRoot, "ballast");
  const { bavail, bsize } = fs.statfsSync(storeRoot);
  const size = Math.max(0, bavail * bsize - LEFT_FREE);
  const fd = fs.openSync(ballast, "w");
  const chunk = Buffer.alloc(MiB, 1);
  for (let off = 0; off < size; off += chunk.length) fs.writeSync(fd, chunk, 0, Math.min(chunk.length, size - off));
  fs.closeSync(fd);
  return () => fs.rmSync(ballast);
}

function countFiles(dir: string): number {
  try {
    return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((p) => fs.statSync(path.join(dir, p)).isFile()).length;
  } catch {
    return 0;
  }
}

/** Paths under `dir` whose name marks a write in progress (the store's temp files). */
function tempFiles(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((p) => p.includes(".tmp-"));
}

function runsOf(markers: string): Map<string, number> {
  const runs = new Map<string, number>();
  for (const f of fs.readdirSync(markers)) {
    runs.set(f.replace(/\.runs$/, ""), fs.readFileSync(path.join(markers, f), "utf8").trim().split("\n").length);
  }
  return runs;
}

async function readAll(store: JobStore, fileId: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await store.readFileStream(fileId)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** What a user must read when the store's disk is full: the error, a file in the store, --restart. */
function expectFullDiskError(output: string, storeDir: string): void {
  expect(output).toMatch(/JobStoreFullError/);
  const named = /Out of disk space writing (\S+) \((ENOSPC|EDQUOT)/.exec(output);
  expect(named, "the error names the file being written").not.toBeNull();
  expect(named![1]!.startsWith(storeDir + path.sep)).toBe(true);
  expect(named![1]).not.toContain(".tmp-");
  expect(output).toContain("--restart");
}

/**
 * Run `flow` on a store whose disk fills up: the run must fail with the full-disk error; then the
 * store must resume and hold no half-written temp file. Returns the resumed store.
 */
async function runUntilDiskFull(flow: string, storeDir: string, args: readonly string[]): Promise<FileJobStore> {
  const full = await runToil(["run", flow, "--jobStore", storeDir, "--clean", "never", "--", ...args], {
    timeoutMs: 180_000,
    env: seamEnv,
  });
  const out = full.stdout + full.stderr;
  expect(full.signal, out.slice(-3000)).toBeNull();
  expect(full.code, out.slice(-3000)).not.toBe(0);
  expectFullDiskError(out, storeDir);
  const store = new FileJobStore(storeDir);
  await store.resume();
  // When the leader stops on the full disk it kills the workers still running, and one may die
  // while writing its failed job's log: that temp file is a crash leftover the store never reads,
  // and it goes with the job's files once the job finishes (checked after --restart). Any other
  // temp file would be a write the full disk left half-done.
  expect(tempFiles(storeDir).filter((f) => !/^job-files\/.*\/worker_log\.txt\.tmp-/.test(f))).toEqual([]);
  return store;
}

describe(`storage faults: the job store's disk fills up (${METHOD})`, () => {
  it("file writes hit ENOSPC: clear error, committed files intact, --restart after freeing space gives the right digest", async () => {
    const storeDir = path.join(storeRoot, "files-js");
    const markers = path.join(work, "files-markers");
    fs.mkdirSync(markers);
    const n = 12;
    const size = MiB / 2; // 6 MiB in all, with 2 MiB free
    const free = fillDisk(() => countFiles(markers) >= 3);
    const flow = path.join(FIXTURES, "big-files.ts");
    // The store resumes, holds no half-written file, and every file a finished child returned is whole.
    const store = await runUntilDiskFull(flow, storeDir, [String(n), String(size), markers]);
    // The children that committed: their results (the root still names them all).
    const committed = new Map<number, string>();
    for (const jobId of (await store.loadRootJob()).childIds) {
      if (!(await store.hasResult(jobId))) continue;
      const value = JSON.parse(await store.readResult(jobId)) as unknown;
      const m = typeof value === "string" ? /\/part-(\d+)\.bin$/.exec(value) : null;
      if (m) committed.set(Number(m[1]), value as string);
    }
    expect(committed.size, "some children committed before the disk filled").toBeGreaterThan(0);
    expect(committed.size, "the disk filled before every child committed").toBeLessThan(n);
    let verified = 0;
    for (const [i, fileId] of committed) {
      const data = await readAll(store, fileId);
      expect(data.equals(contentOf(i, size)), `file of child ${i}`).toBe(true);
      verified += data.length;
    }
    const runsBefore = runsOf(markers);

    free();
    const again = await runToil(["run", flow, "--jobStore", storeDir, "--restart", "--clean", "never"], { timeoutMs: 180_000, env: seamEnv });
    expect(again.code, (again.stdout + again.stderr).slice(-3000)).toBe(0);
    const digest = createHash("sha256");
    for (let i = 0; i < n; i++) digest.update(contentOf(i, size));
    expect(again.stdout).toContain(`files=${n} bytes=${n * size} sha256=${digest.digest("hex")}`);
    // Children that had committed were not run again; the others ran once more.
    const runsAfter = runsOf(markers);
    for (const i of committed.keys()) expect(runsAfter.get(`child-${i}`), `child ${i}`).toBe(runsBefore.get(`child-${i}`));
    expect(tempFiles(storeDir)).toEqual([]);

    recordFigure({ suite: SUITE, name: `ENOSPC faults survived (${METHOD})`, value: 1 });
    recordFigure({ suite: SUITE, name: "bytes verified", value: verified + n * size, unit: "bytes" });
    recordFigure({ suite: SUITE, name: "committed jobs verified after ENOSPC", value: committed.size });
  });

  it("job-store commits hit ENOSPC (workers and leader): clear error, every stored description readable, --restart gives the right sum", async () => {
    const storeDir = path.join(storeRoot, "jobs-js");
    const markers = path.join(work, "jobs-markers");
    fs.mkdirSync(markers);
    const [groups, leaves, payload] = [6, 30, 20_000]; // about 3.6 MB of descriptions, with 2 MiB free
    const free = fillDisk(() => countFiles(markers) >= 2);
    const flow = path.join(FIXTURES, "many-jobs.ts");
    const store = await runUntilDiskFull(flow, storeDir, [String(groups), String(leaves), String(payload), markers]);

    // Every description in the store reads whole (none was left cut by the full disk), and each
    // group whose commit succeeded (its description now names its children) has all its leaves.
    // Leaves of a group whose commit failed may be there too: nothing reaches them, and the
    // restart's clean() removes them.
    const docs = new Map<string, ReturnType<JobDescription["toJSON"]>>();
    for await (const id of store.jobIds()) docs.set(id, (await store.loadJob(id)).toJSON()); // throws if one is damaged
    const committed: number[] = [];
    for (const doc of docs.values()) {
      if (doc.jobName !== "group" || !doc.childIds?.length) continue;
      expect(doc.childIds).toHaveLength(leaves);
      // Each leaf is stored whole, or has run and stored its value.
      for (const id of doc.childIds) {
        const leafDoc = docs.get(id);
        if (leafDoc) expect(leafDoc.jobName).toBe("leaf");
        else expect(await store.hasResult(id), `leaf ${id} of a committed group`).toBe(true);
      }
      const stored = doc.childIds.map((id) => docs.get(id)).find((k) => k !== undefined);
      const g = stored ? /group (\d+) x/.exec(JSON.stringify(stored)) : null;
      if (g) committed.push(Number(g[1]));
    }
    expect(committed.length, "the disk filled before every group committed").toBeLessThan(groups);
    const runsBefore = runsOf(markers);

    free();
    const again = await runToil(["run", flow, "--jobStore", storeDir, "--restart", "--clean", "never"], { timeoutMs: 180_000, env: seamEnv });
    expect(again.code, (again.stdout + again.stderr).slice(-3000)).toBe(0);
    let expected = 0;
    for (let g = 0; g < groups; g++) for (let i = 0; i < leaves; i++) expected += g * 1000 + i;
    expect(again.stdout.trim().split("\n").at(-1)).toBe(String(expected));
    const runsAfter = runsOf(markers);
    for (const g of committed) expect(runsAfter.get(`group-${g}`), `group ${g}`).toBe(runsBefore.get(`group-${g}`));
    expect(tempFiles(storeDir)).toEqual([]);

    recordFigure({ suite: SUITE, name: `ENOSPC faults survived (${METHOD})`, value: 1 });
    recordFigure({ suite: SUITE, name: "committed jobs verified after ENOSPC", value: committed.length * (leaves + 1) });
  });
});
