/** FileJobStore specifics: locators, layout version, permissions, symlinks pointing out, scenario 74, stale leader lock. */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { text } from "node:stream/consumers";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  FILE_JOB_STORE_VERSION,
  FileJobStore,
  InvalidIdError,
  JobStoreError,
  JobStoreVersionError,
  LeaderLockedError,
  NoSuchJobError,
  NoSuchJobStoreError,
  UnknownJobStoreKindError,
  openJobStore,
  parseLocator,
} from "../src/index.js";
import { makeTempDir, sampleConfig, sampleJob } from "../src/testing/index.js";
import { shardOf } from "../src/ids.js";

let dir: string;
let n = 0;
beforeAll(() => {
  dir = makeTempDir("toil-fjs-");
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});
async function fresh(options = {}): Promise<{ store: FileJobStore; root: string }> {
  const root = path.join(dir, `s${n++}`);
  const store = new FileJobStore(root, options);
  await store.initialize(sampleConfig(root));
  return { store, root };
}

describe("locators", () => {
  it("file: and plain paths, made absolute; unknown kinds list the known ones", () => {
    expect(parseLocator("./js", "/work/x")).toEqual({ kind: "file", rest: "/work/x/js", canonical: "file:/work/x/js" });
    expect(parseLocator("file:rel", "/w").canonical).toBe("file:/w/rel");
    expect(parseLocator("/abs/store").canonical).toBe("file:/abs/store");
    expect(parseLocator("plain").kind).toBe("file");
    expect(() => parseLocator("aws:us-west-2:x")).toThrow(UnknownJobStoreKindError);
    expect(() => parseLocator("aws:us-west-2:x")).toThrow(/Known kinds: file:/);
    expect(() => parseLocator("")).toThrow(InvalidIdError);
    expect(openJobStore(path.join(dir, "via-registry"))).toBeInstanceOf(FileJobStore);
  });
});

describe("FileJobStore on disk", () => {
  it("creates owner-only directories and files", async () => {
    const { store, root } = await fresh();
    const id = await store.writeFileStream((s) => void s.write("secret"));
    await store.writeSharedFile("shared", "x");
    const walk = (p: string): void => {
      const st = fs.lstatSync(p);
      if (st.isDirectory()) {
        expect(st.mode & 0o077, p).toBe(0);
        for (const e of fs.readdirSync(p)) walk(path.join(p, e));
      } else expect(st.mode & 0o077, p).toBe(0);
    };
    walk(root);
    expect(await store.fileExists(id)).toBe(true);
  });

  it("refuses a store of a newer layout version, and a non-store directory", async () => {
    const { root } = await fresh();
    fs.writeFileSync(path.join(root, "format.json"), JSON.stringify({ format: "toil-ts-file-job-store", version: 99 }));
    await expect(new FileJobStore(root).resume()).rejects.toBeInstanceOf(JobStoreVersionError);
    const other = path.join(dir, "not-a-store");
    fs.mkdirSync(other);
    fs.writeFileSync(path.join(other, "precious.txt"), "keep me");
    await expect(new FileJobStore(other).resume()).rejects.toBeInstanceOf(NoSuchJobStoreError);
    await expect(new FileJobStore(other).destroy()).rejects.toBeInstanceOf(JobStoreError);
    expect(fs.existsSync(path.join(other, "precious.txt"))).toBe(true);
  });

  it("symlinks inside the store that point out are never followed", async () => {
    const { store, root } = await fresh();
    const outside = path.join(dir, `outside-${n++}`);
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(outside, "secret.txt"), "outside data");
    const id = await store.writeFileStream((s) => void s.write("inside"), { basename: "secret.txt" });
    const parsed = id.split(":")[2]!.split("/");
    const tokenDir = path.join(root, "files", parsed[1]!.slice(-2), parsed[1]!);
    // Replace the file's directory by a symlink to the outside directory.
    fs.rmSync(tokenDir, { recursive: true });
    fs.symlinkSync(outside, tokenDir);
    await expect(store.readFileStream(id)).rejects.toBeInstanceOf(InvalidIdError);
    await expect(store.updateFileStream(id, (s) => void s.write("overwrite"))).rejects.toBeInstanceOf(InvalidIdError);
    await expect(store.deleteFile(id)).rejects.toBeInstanceOf(InvalidIdError);
    expect(fs.readFileSync(path.join(outside, "secret.txt"), "utf8")).toBe("outside data");
    // A planted final-component symlink is refused too.
    const id2 = await store.writeFileStream((s) => void s.write("x"), { basename: "f" });
    const p2 = id2.split(":")[2]!.split("/");
    const entry = path.join(root, "files", p2[1]!.slice(-2), p2[1]!, "f");
    fs.rmSync(entry);
    fs.symlinkSync(path.join(outside, "secret.txt"), entry);
    await expect(store.readFileStream(id2)).rejects.toBeInstanceOf(InvalidIdError);
    // A shared file replaced by a symlink is not read through.
    fs.symlinkSync(path.join(outside, "secret.txt"), path.join(root, "shared", "planted"));
    await expect(store.readSharedFileStream("planted")).rejects.toBeInstanceOf(InvalidIdError);
  });

  it("(74) ids end with the basename; a symlinked store path is kept; link imports and symlinked reads", async () => {
    const real = path.join(dir, `real-${n++}`);
    const link = path.join(dir, `link-${n++}`);
    fs.mkdirSync(real);
    fs.symlinkSync(real, link);
    const store = new FileJobStore(link);
    await store.initialize(sampleConfig(link));
    expect(store.locator).toBe(`file:${link}`);
    const src = path.join(dir, `input-${n++}.txt`);
    fs.writeFileSync(src, "imported");
    const linked = (await store.importFile(src, { symlink: true }))!;
    expect(linked.endsWith(path.basename(src))).toBe(true);
    const out1 = path.join(dir, `out-${n++}`);
    await store.readFile(linked, out1);
    expect(fs.lstatSync(out1).isSymbolicLink()).toBe(false);
    expect(fs.readFileSync(out1, "utf8")).toBe("imported");
    const out2 = path.join(dir, `out-${n++}`);
    await store.readFile(linked, out2, { symlink: true });
    expect(fs.lstatSync(out2).isSymbolicLink()).toBe(true);
    expect(fs.readlinkSync(out2)).toBe(fs.realpathSync(src)); // points at the original, not into the store
    const copied = (await store.importFile(src))!;
    expect(await text(await store.readFileStream(copied))).toBe("imported");
    const noLinks = new FileJobStore(link, { symlinkImports: false, symlinkReads: false });
    await noLinks.resume();
    const notLinked = (await noLinks.importFile(src, { symlink: true }))!;
    expect(notLinked.split(":")[1]).not.toContain("l");
    const out3 = path.join(dir, `out-${n++}`);
    await noLinks.readFile(copied, out3, { symlink: true });
    expect(fs.lstatSync(out3).isSymbolicLink()).toBe(false);
  });

  it("(68) moveExports moves the data out and leaves a store-made symlink", async () => {
    const { store } = await fresh({ moveExports: true });
    const id = await store.writeFileStream((s) => void s.write("moved"));
    const dst = path.join(dir, `moved-${n++}.txt`);
    await store.exportFile(id, dst);
    expect(fs.readFileSync(dst, "utf8")).toBe("moved");
    expect(await text(await store.readFileStream(id))).toBe("moved");
  });

  it("a stale leader lock of a killed leader is taken over", async () => {
    const { store, root } = await fresh();
    const lock = await store.acquireLeaderLock();
    const record = JSON.parse(fs.readFileSync(path.join(root, "meta", "leader.lock"), "utf8")) as Record<string, unknown>;
    await lock.release();
    // A leader process that died: same host, its pid no longer running.
    const gone = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
    fs.writeFileSync(path.join(root, "meta", "leader.lock"), JSON.stringify({ ...record, pid: Number(gone.stdout), token: "old" }));
    const taken = await store.acquireLeaderLock();
    expect(await taken.isHeld()).toBe(true);
    // A live leader on another host is never taken over.
    await taken.release();
    fs.writeFileSync(path.join(root, "meta", "leader.lock"), JSON.stringify({ ...record, host: `${os.hostname()}-elsewhere`, token: "remote" }));
    await expect(store.acquireLeaderLock()).rejects.toBeInstanceOf(LeaderLockedError);
  });
});

describe("watchFile", () => {
  it("calls the listener when the file is deleted, at once if it is already gone, and not after unwatching", async () => {
    const { store } = await fresh();
    const id = await store.getEmptyFileStoreId();
    let calls = 0;
    let deleted: () => void = () => {};
    const seen = new Promise<void>((resolve) => (deleted = resolve));
    const unwatch = store.watchFile(id, () => {
      calls++;
      deleted();
    });
    // Deleted by another process, as the leader deletes a service's flag.
    const file = fileURLToPath(await store.getPublicUrl(id));
    const other = spawnSync(process.execPath, ["-e", `require("fs").rmSync(${JSON.stringify(path.dirname(file))}, { recursive: true })`]);
    expect(other.status).toBe(0);
    await seen;
    expect(await store.fileExists(id)).toBe(false);
    unwatch();
    const before = calls;
    await new Promise((r) => setTimeout(r, 50));
    expect(calls).toBe(before);
    // Watching a file that is already gone reports it at once.
    await new Promise<void>((resolve) => store.watchFile(id, resolve));
  });
});

describe("format 1 stores and the job-state index", () => {
  /** Turn a fresh store into one a format-1 release wrote: documents as files, no logs. */
  function asFormat1(root: string, docs: { id: string; text: string }[]): void {
    for (const d of docs) {
      const file = path.join(root, "jobs", shardOf(d.id), `${d.id}.json`);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, d.text);
    }
    const format = path.join(root, "format.json");
    fs.writeFileSync(format, JSON.stringify({ ...JSON.parse(fs.readFileSync(format, "utf8")), version: 1 }));
  }

  it("a format-1 store is read; its incomplete new document (creation cut by a crash) is absent: load, exists, scans, clean", async () => {
    const { store, root } = await fresh();
    const root1 = sampleJob("root");
    store.assignJobId(root1);
    root1.preUpdateHook();
    const torn = "tornJob_0123456789abc";
    asFormat1(root, [
      { id: root1.id, text: JSON.stringify(root1.toJSON()) },
      { id: torn, text: JSON.stringify(root1.toJSON()).slice(0, 40) },
    ]);
    const v1 = new FileJobStore(root);
    await v1.resume();
    await v1.setRootJob(root1.id);
    expect((await v1.loadJob(root1.id)).jobName).toBe("root");
    await expect(v1.loadJob(torn)).rejects.toBeInstanceOf(NoSuchJobError);
    expect(await v1.jobExists(torn)).toBe(false);
    const ids: string[] = [];
    for await (const j of v1.jobs()) ids.push(j.id);
    expect(ids).toEqual([root1.id]);
    await v1.clean();
    expect(fs.existsSync(path.join(root, "jobs", shardOf(torn), `${torn}.json`))).toBe(false);
    const states: string[] = [];
    for await (const r of v1.jobStates()) states.push(r.id);
    expect(states).toEqual([root1.id]);
    // A leader taking the store over makes it format 2 before it writes a log.
    const lock = await v1.acquireLeaderLock();
    expect(JSON.parse(fs.readFileSync(path.join(root, "format.json"), "utf8")).version).toBe(FILE_JOB_STORE_VERSION);
    await lock.release();
  });

  it("the index covers folded documents, survives a torn tail and is rebuilt when missing; the logs cover the rest", async () => {
    const { store, root } = await fresh();
    const jobs = Array.from({ length: 50 }, (_, i) => sampleJob(`j${i}`));
    for (const j of jobs) store.assignJobId(j);
    await store.createJobs(jobs.slice(0, 25));
    // A new leader run folds the first 25 into files (and their states into the index).
    const leader = new FileJobStore(root);
    await leader.resume();
    const lock = await leader.acquireLeaderLock();
    expect(await leader.fold()).toMatchObject({ jobsWritten: 25 });
    await lock.release();
    fs.appendFileSync(path.join(root, "index", "jobs.log"), '{"id":"cut-in-the-mid'); // killed mid-append
    const other = new FileJobStore(root);
    await other.resume();
    await other.createJobs(jobs.slice(25));
    const seen = new Set<string>();
    for await (const r of leader.jobStates()) seen.add(r.id);
    expect(seen).toEqual(new Set(jobs.map((j) => j.id)));
    fs.rmSync(path.join(root, "index"), { recursive: true });
    const scanned = new Set<string>();
    for await (const r of leader.jobStates()) scanned.add(r.id);
    expect(scanned).toEqual(seen);
    expect(await leader.rebuildJobIndex()).toBe(25);
    expect(fs.readFileSync(path.join(root, "index", "jobs.log"), "utf8").trim().split("\n")).toHaveLength(25);
  });
});

describe("batched commits", () => {
  it("a result written inside batch() appears with the batch's jobs, not before; a failed batch writes nothing", async () => {
    const { store } = await fresh();
    const parent = sampleJob("parent");
    const child = sampleJob("child");
    store.assignJobId(parent);
    store.assignJobId(child);
    await store.createJob(parent);
    await store.batch(async () => {
      await store.writeResult(parent.id, JSON.stringify({ v: 1 }));
      await store.createJobs([child]);
      await store.updateJob(parent);
      // Nothing is visible while the batch is open.
      expect(await store.hasResult(parent.id)).toBe(false);
      expect(await store.jobExists(child.id)).toBe(false);
    });
    expect(JSON.parse(await store.readResult(parent.id))).toEqual({ v: 1 });
    expect(await store.jobExists(child.id)).toBe(true);

    const other = sampleJob("other");
    store.assignJobId(other);
    await expect(
      store.batch(async () => {
        await store.writeResult(other.id, "2");
        await store.createJob(other);
        throw new Error("the job's commit failed");
      }),
    ).rejects.toThrow("the job's commit failed");
    expect(await store.hasResult(other.id)).toBe(false);
    expect(await store.jobExists(other.id)).toBe(false);
  });

  it("a job deleted inside a batch keeps its files and folded document until the group is in the log", async () => {
    const { store, root } = await fresh();
    const job = sampleJob("doomed");
    store.assignJobId(job);
    await store.createJob(job);
    const file = await store.writeFileStream((s) => void s.write("tied to the job"), { jobId: job.id, cleanup: true });
    // Fold it, so its document is a file of its own.
    const leader = new FileJobStore(root);
    await leader.resume();
    await (await leader.acquireLeaderLock()).release();
    await leader.fold();
    const reader = new FileJobStore(root);
    await reader.resume();
    await expect(
      reader.batch(async () => {
        await reader.writeResult(job.id, "1");
        await reader.deleteJob(job.id);
        throw new Error("the commit never lands");
      }),
    ).rejects.toThrow("never lands");
    expect((await reader.loadJob(job.id)).jobName).toBe("doomed");
    expect(await reader.fileExists(file)).toBe(true);
    await reader.batch(async () => {
      await reader.writeResult(job.id, "1");
      await reader.deleteJob(job.id);
    });
    expect(await reader.jobExists(job.id)).toBe(false);
    expect(await reader.fileExists(file)).toBe(false);
    expect(await reader.readResult(job.id)).toBe("1");
  });

  it("a result reader sees what other processes stored before it was made, reads a result per id and says undefined for a job without one", async () => {
    const { store, root } = await fresh();
    const jobs = [sampleJob("a"), sampleJob("b"), sampleJob("c")];
    for (const j of jobs) store.assignJobId(j);
    await store.createJobs(jobs);
    // Another process's store (a worker) stores two results after this one last looked.
    const worker = new FileJobStore(root);
    await worker.resume();
    await worker.writeResult(jobs[0]!.id, "1");
    await worker.batch(async () => {
      await worker.writeResult(jobs[1]!.id, JSON.stringify({ v: 2 }));
    });
    await worker.sync();
    const read = store.resultReader();
    expect(read(jobs[0]!.id)).toBe("1");
    expect(read(jobs[1]!.id)).toBe('{"v":2}');
    expect(read(jobs[2]!.id)).toBeUndefined();
    // Its own writes show at once.
    await store.writeResult(jobs[2]!.id, "3");
    expect(read(jobs[2]!.id)).toBe("3");
  });

  it("concurrent batches of one store do not interleave: every update lands whole and the last one wins", async () => {
    const { store } = await fresh();
    const job = sampleJob("shared");
    store.assignJobId(job);
    await store.createJob(job);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.batch(async () => {
          job.jobName = `shared-${i}`;
          await store.updateJob(job);
          await store.writeResult(job.id, String(i));
        }),
      ),
    );
    expect((await store.loadJob(job.id)).jobName).toBe("shared-19");
    expect(await store.readResult(job.id)).toBe("19");
  });
});
