/** File store scenarios 43, 48-51, 53 (both implementations) and 54 (caching only). */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { text } from "node:stream/consumers";
import { JobDescription, type FileID } from "@toil/job";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AbstractFileStore,
  CacheUnbalancedError,
  CachingFileStore,
  FileJobStore,
  FileStoreStateError,
  IllegalDeletionCacheError,
  NonCachingFileStore,
} from "../src/index.js";
import { makeTempDir, sampleConfig, sampleJob } from "../src/testing/index.js";
import { bundleChild } from "./helpers/bundle.js";

let dir: string;
let store: FileJobStore;
let n = 0;
let childScript: string;
beforeAll(async () => {
  dir = makeTempDir("toil-fs-");
  childScript = await bundleChild(path.join(import.meta.dirname, "fixtures", "cache-child.ts"), dir);
  store = new FileJobStore(path.join(dir, "store"));
  await store.initialize(sampleConfig(path.join(dir, "store")));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

async function newJob(disk = "10Mi"): Promise<JobDescription> {
  const j = sampleJob(`job${n++}`);
  j.setRequirements({ disk });
  store.assignJobId(j);
  await store.createJob(j);
  return j;
}

type Make = (job: JobDescription, cacheSize?: number) => AbstractFileStore;
const kinds: [string, Make][] = [
  ["NonCachingFileStore", (job) => new NonCachingFileStore(store, job, path.join(dir, "tmp", `${job.id}-${n++}`))],
  [
    "CachingFileStore",
    (job, cacheSize) =>
      new CachingFileStore(store, job, path.join(dir, "tmp", `${job.id}-${n++}`), {
        cacheDir: path.join(dir, "cache"),
        coordinationDir: path.join(dir, "coord"),
        ...(cacheSize === undefined ? {} : { cacheSize }),
      }),
  ],
];

describe.each(kinds)("%s", (_name, make) => {
  it("(43) write by path and stream, read as stream and to a path, deleteLocalFile rules, deleteGlobalFile at commit", async () => {
    const parentJob = await newJob();
    const parent = make(parentJob);
    let f1!: FileID;
    let f2!: FileID;
    await parent.open(async () => {
      const local = await parent.getLocalTempFile(".txt");
      fs.writeFileSync(local, "file one");
      f1 = await parent.writeGlobalFile(local);
      f2 = await parent.writeGlobalFileStream((s) => void s.write("file two"));
    });
    await parent.startCommit(true);
    const child = make(await newJob());
    await child.open(async () => {
      expect(await text(await child.readGlobalFileStream(f1))).toBe("file one");
      const p2 = await child.readGlobalFile(f2);
      expect(fs.readFileSync(p2, "utf8")).toBe("file two");
      await child.deleteLocalFile(f2);
      expect(fs.existsSync(p2)).toBe(false);
      await expect(child.deleteLocalFile(f1)).rejects.toMatchObject({ code: "ENOENT" });
      await child.deleteGlobalFile(f1);
      await child.deleteGlobalFile(f2);
      expect(await store.fileExists(f1)).toBe(true); // not before commit: a retry still finds its inputs
      await expect(child.readGlobalFile(f1)).rejects.toMatchObject({ code: "ENOENT" });
    });
    await child.startCommit(true);
    await child.waitForCommit();
    expect(await store.fileExists(f1)).toBe(false);
    expect(await store.fileExists(f2)).toBe(false);
    expect((await store.loadJob(child.jobId)).filesToDelete).toEqual([]);
  });

  it("(48, 49) the executable bit survives write/read/import/export for every mutable x symlink combination", async () => {
    const fsx = make(await newJob());
    await fsx.open(async () => {
      for (const executable of [true, false]) {
        const src = path.join(dir, `exe-${executable}-${n++}`);
        fs.writeFileSync(src, "#!/bin/sh\n", { mode: executable ? 0o755 : 0o644 });
        const written = await fsx.writeGlobalFile(src);
        const imported = await fsx.importFile(src);
        for (const id of [written, imported]) {
          for (const mutable of [true, false]) {
            for (const symlink of [true, false]) {
              const out = await fsx.readGlobalFile(id, undefined, { mutable, symlink });
              expect((fs.statSync(out).mode & 0o100) !== 0, `${id} mutable=${mutable} symlink=${symlink}`).toBe(executable);
            }
          }
          const exported = path.join(dir, `exported-${n++}`);
          await fsx.exportFile(id, exported);
          expect((fs.statSync(exported).mode & 0o100) !== 0).toBe(executable);
        }
      }
    });
  });

  it("(50, 51, 53) text streams, hints in ids, export in the same job; readGlobalFile never overwrites", async () => {
    const fsx = make(await newJob());
    await fsx.open(async () => {
      const id = await fsx.writeGlobalFileStream((s) => void s.write("foo", "utf8"), { hints: ["Hint", "OtherHint"] });
      expect(id).toMatch(/Hint\.OtherHint\./);
      const stream = await fsx.readGlobalFileStream(id, { encoding: "utf8" });
      let got = "";
      for await (const c of stream) got += c as string;
      expect(got).toBe("foo");
      const dst = path.join(dir, `export-${n++}.txt`);
      await fsx.exportFile(id, dst);
      expect(fs.readFileSync(dst, "utf8")).toBe("foo");
      const existing = await fsx.getLocalTempFile();
      await expect(fsx.readGlobalFile(id, existing)).rejects.toBeInstanceOf(FileStoreStateError);
      expect(await fsx.getGlobalFileSize(id)).toBe(3);
    });
  });

  it("reports disk over-use and the files a failed job accessed", async () => {
    const job = await newJob("1Ki");
    const fsx = make(job);
    const id = await store.writeFileStream((s) => void s.write("Cats"));
    await expect(
      fsx.open(async () => {
        const p = await fsx.readGlobalFile(id, "cats.txt");
        await fsx.readGlobalFileStream(id);
        fs.writeFileSync(path.join(path.dirname(p), "big"), Buffer.alloc(4096));
        throw new Error("job failed");
      }),
    ).rejects.toThrow("job failed");
    const log = fsx.logMessages.map((m) => m.text).join("\n");
    expect(log).toContain("cats.txt");
    expect(log).toContain("Failed job accessed files");
    expect(log).toMatch(/more than its disk requirement/);
    expect(fsx.getDiskUsage()).toBeGreaterThanOrEqual(4096);
  });

  it("makes no temp dir until the job needs local space; exposes pending deletes and tagged leader messages", async () => {
    const job = await newJob();
    const fsx = make(job);
    const id = await store.writeFileStream((s) => void s.write("lazy"));
    await fsx.open(async () => {
      // Streams, stream writes, sizes, deletes and logs need no local directory.
      expect(await text(await fsx.readGlobalFileStream(id))).toBe("lazy");
      const written = await fsx.writeGlobalFileStream((s) => void s.write("out"));
      expect(await fsx.getGlobalFileSize(written)).toBe(3);
      await fsx.deleteGlobalFile(written);
      fsx.logToLeader("hello leader", "warning");
      expect(fsx.localTempDirIfCreated).toBeUndefined();
      expect(fsx.pendingDeletes).toEqual([written]);
    });
    expect(fsx.getDiskUsage()).toBe(0);
    expect(fsx.logMessages).toEqual([expect.objectContaining({ text: "hello leader", level: "warning", jobId: job.id, jobName: job.displayName })]);

    // A function source is called once, at the first need; the path it returns is created.
    let calls = 0;
    const base = path.join(dir, "tmp", `lazy-${n++}`);
    const lazy = new NonCachingFileStore(store, await newJob(), () => {
      calls++;
      return path.join(base, "job");
    });
    expect(calls).toBe(0);
    const local = await lazy.getLocalTempFile(".txt");
    await lazy.getLocalTempDir();
    expect(calls).toBe(1);
    expect(path.dirname(local)).toBe(path.join(base, "job"));
    expect(lazy.localTempDirIfCreated).toBe(path.join(base, "job"));
    // A read to an absolute path outside the temp dir needs no temp dir either.
    const other = new NonCachingFileStore(store, await newJob(), () => {
      throw new Error("must not be called");
    });
    const out = path.join(base, "outside.txt");
    expect(await other.readGlobalFile(id, out)).toBe(out);
    expect(fs.readFileSync(out, "utf8")).toBe("lazy");
    expect(other.localTempDirIfCreated).toBeUndefined();
  });

  it("commits of chained jobs happen in order", async () => {
    const order: string[] = [];
    const a = make(await newJob());
    const b = new NonCachingFileStore(store, await newJob(), path.join(dir, "tmp", `chain-${n++}`), {
      waitForPreviousCommit: () => a.waitForCommit().then(() => void order.push("a done")),
    });
    const pa = a.startCommit(true).then(() => order.push("a"));
    const pb = b.startCommit(true).then(() => order.push("b"));
    await Promise.all([pa, pb]);
    expect(order.indexOf("a")).toBeLessThan(order.indexOf("b"));
  });
});

describe("CachingFileStore only (54)", () => {
  const MB = 1024 * 1024;
  function caching(job: JobDescription, sub: string, cacheSize: number): CachingFileStore {
    return new CachingFileStore(store, job, path.join(dir, "tmp", `${sub}-${n++}`), {
      cacheDir: path.join(dir, `cache-${sub}`),
      coordinationDir: path.join(dir, `coord-${sub}`),
      cacheSize,
    });
  }

  it("removing a read file yourself: fine for mutable reads, IllegalDeletionCacheError for immutable ones", async () => {
    const id = await store.writeFileStream((s) => void s.write("data"));
    const fsx = caching(await newJob("1Mi"), "rm", 100 * MB);
    await fsx.open(async () => {
      const m = await fsx.readGlobalFile(id, undefined, { mutable: true });
      fs.renameSync(m, `${m}.moved`);
      await fsx.deleteLocalFile(id);
      const i = await fsx.readGlobalFile(id);
      fs.renameSync(i, `${i}.moved`);
      await expect(fsx.deleteLocalFile(id)).rejects.toBeInstanceOf(IllegalDeletionCacheError);
    });
  });

  it("cache hits are hard links to one cached copy; 10 concurrent readers download once", async () => {
    const id = await store.writeFileStream((s) => void s.write(Buffer.alloc(2 * MB, 7)));
    const stores = await Promise.all(Array.from({ length: 10 }, async () => caching(await newJob("1Mi"), "conc", 100 * MB)));
    await Promise.all(stores.map((s) => s.open(async () => {})));
    const paths = await Promise.all(stores.map((s) => s.readGlobalFile(id)));
    const inodes = new Set(paths.map((p) => fs.statSync(p).ino));
    expect(inodes.size).toBe(1);
    expect(fs.statSync(paths[0]!).nlink).toBe(11); // 10 readers + the cached copy
    expect(stores[0]!.usage().cached).toBe(2 * MB);
  });

  it("evicts unreferenced files to fit a job's disk: partially, totally, or fails", async () => {
    const f20 = await store.writeFileStream((s) => void s.write(Buffer.alloc(20 * MB)));
    const f30 = await store.writeFileStream((s) => void s.write(Buffer.alloc(30 * MB)));
    const load = caching(await newJob("0"), "evict", 50 * MB);
    await load.open(async () => {
      await load.readGlobalFile(f20);
      await load.readGlobalFile(f30);
    });
    expect(load.usage().cached).toBe(50 * MB);
    const j10 = caching(await newJob("10Mi"), "evict", 50 * MB);
    await j10.open(async () => {
      expect(j10.usage().cached).toBeLessThanOrEqual(40 * MB); // partial eviction
    });
    const j30 = caching(await newJob("30Mi"), "evict", 50 * MB);
    await j30.open(async () => {
      expect(j30.usage().cached).toBeLessThanOrEqual(20 * MB);
    });
    const j60 = caching(await newJob("60Mi"), "evict", 50 * MB);
    await expect(j60.open(async () => {})).rejects.toBeInstanceOf(CacheUnbalancedError);
  });

  it("a reader SIGKILLed mid-download leaves nothing stuck: the next reader takes the download over", async () => {
    const payload = Buffer.alloc(3 * MB, 9);
    const id = await store.writeFileStream((s) => void s.write(payload));
    const child = await spawnChild("download", "dead", id);
    await child.kill();
    // The dead reader's bookkeeping is still there: a download in progress, a partial file, its job.
    const before = cacheState("dead");
    const entry = Object.values(before.files)[0]!;
    expect(entry.state).toBe("downloading");
    expect(entry.owner?.pid).toBe(child.pid);
    expect(fs.statSync(entry.partial!).size).toBe(payload.length >> 1);
    expect(Object.keys(before.jobs)).toHaveLength(1);
    const fsx = caching(await newJob("1Mi"), "dead", 100 * MB);
    await fsx.open(async () => {
      const p = await fsx.readGlobalFile(id);
      expect(fs.readFileSync(p).equals(payload)).toBe(true);
    });
    expect(fs.existsSync(entry.partial!)).toBe(false);
    const after = cacheState("dead");
    expect(Object.values(after.files).map((f) => f.state)).toEqual(["cached"]);
    expect(Object.values(after.jobs).filter((j) => j.owner.pid === child.pid)).toEqual([]);
  });

  it("a SIGKILLed reader's references and disk reservation are purged, so its file can be evicted", async () => {
    const f30 = await store.writeFileStream((s) => void s.write(Buffer.alloc(30 * MB)));
    const child = await spawnChild("hold", "held", f30);
    expect(new Set(Object.values(cacheState("held").refs).map((r) => r.owner.pid))).toEqual(new Set([child.pid]));
    // While the reader lives, its 30 MB file cannot be evicted for a 30 MB job in a 50 MB cache.
    const early = caching(await newJob("30Mi"), "held", 50 * MB);
    await expect(early.open(async () => {})).rejects.toBeInstanceOf(CacheUnbalancedError);
    await child.kill();
    const late = caching(await newJob("30Mi"), "held", 50 * MB);
    await late.open(async () => {
      expect(late.usage()).toEqual({ cached: 0, reserved: 30 * MB });
    });
    expect(cacheState("held").refs).toEqual({});
  });

  it("a process SIGKILLed while holding the bookkeeping lock blocks others only until the lock is stale", async () => {
    const id = await store.writeFileStream((s) => void s.write("after the lock"));
    const child = await spawnChild("lock", "locked", "");
    await child.kill();
    const fsx = new CachingFileStore(store, await newJob("1Mi"), path.join(dir, "tmp", `locked-${n++}`), {
      cacheDir: path.join(dir, "cache-locked"),
      coordinationDir: path.join(dir, "coord-locked"),
      cacheSize: 100 * MB,
      lockStaleMs: 2000,
    });
    await fsx.open(async () => {
      expect(fs.readFileSync(await fsx.readGlobalFile(id), "utf8")).toBe("after the lock");
    });
  });
});

interface StateDoc {
  files: Record<string, { state: string; owner?: { pid: number }; partial?: string }>;
  jobs: Record<string, { owner: { pid: number } }>;
  refs: Record<string, { owner: { pid: number } }>;
}
function cacheState(sub: string): StateDoc {
  return JSON.parse(fs.readFileSync(path.join(dir, `coord-${sub}`, "cache-state.json"), "utf8")) as StateDoc;
}

/** Start the cache child in `mode` on the cache `sub`; resolves once it reached the point to kill it at. */
function spawnChild(mode: string, sub: string, fileId: string): Promise<{ pid: number; kill: () => Promise<void> }> {
  const args =
    mode === "lock"
      ? [path.join(dir, `coord-${sub}`)]
      : [store.root, path.join(dir, `cache-${sub}`), path.join(dir, `coord-${sub}`), path.join(dir, "tmp", `child-${n++}`), fileId];
  if (mode === "lock") fs.mkdirSync(args[0]!, { recursive: true });
  const until = { download: "downloading", hold: "holding", lock: "locked" }[mode]!;
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [childScript, mode, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    const exited = new Promise<void>((r) => p.once("exit", () => r()));
    let out = "";
    let err = "";
    p.stderr.on("data", (d: Buffer) => (err += d.toString()));
    p.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes(until)) resolve({ pid: p.pid!, kill: async () => void (p.kill("SIGKILL"), await exited) });
    });
    p.once("exit", (code) => {
      if (!out.includes(until)) reject(new Error(`cache child exited (${code}) before '${until}': ${err}`));
    });
  });
}
