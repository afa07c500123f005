/**
 * Conformance kit for job stores: one call registers the job-store contract's test suite with vitest,
 * against any {@link JobStore} implementation.
 *
 * @example
 * // test/my-store.test.ts
 * import { describeJobStoreConformance } from "@toil/filestore/testing";
 * describeJobStoreConformance("my-store", (location) => new MyJobStore(location));
 *
 * @module @toil/filestore/testing
 */
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { text } from "node:stream/consumers";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { JobDescription, defaultConfig, prepareStart, type Config, type JobDescriptionJSON } from "@toil/job";
import {
  InvalidIdError,
  InvalidImportExportUrlError,
  JobStoreExistsError,
  LeaderLockedError,
  NoSuchFileError,
  NoSuchJobError,
  NoSuchJobStoreError,
} from "../errors.js";
import type { JobStateRecord, JobStore, MailboxMessage } from "../job-store.js";
import { writeLogFiles } from "../log-files.js";

/**
 * Makes a store object for a location. Called several times with the same location, it must return
 * independent instances on the same stored data (the suite checks what one instance sees of another's writes).
 * `location` is a fresh, non-existent path under the OS temp dir; a non-file store may use it as a prefix.
 */
export type JobStoreFactoryForTests = (location: string) => JobStore;

/** A fresh temp dir (removed after the test file). */
export function makeTempDir(prefix = "toil-js-test-"): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A description with a body, the way a job is saved. */
export function sampleJob(name = "job", data: unknown = { n: 1 }): JobDescription {
  const job = new JobDescription({ jobName: name, requirements: { cores: 1, memory: "1Mi", disk: "2Mi" } });
  job.attachBody({ kind: "function", module: "file:///flows/example.js", exportName: name.replace(/\W/g, "_"), data });
  return job;
}

/** Hex MD5 of `data` (to compare file contents in tests). */
export function md5(data: Uint8Array | string): string {
  return createHash("md5").update(data).digest("hex");
}

/** A config as the leader would initialize a store with. */
export function sampleConfig(location: string, overrides: Record<string, unknown> = {}): Config {
  return prepareStart(defaultConfig({ jobStore: location, ...overrides }));
}

/** Registers the job-store conformance suite with vitest, run against stores made by `factory`. */
export function describeJobStoreConformance(name: string, factory: JobStoreFactoryForTests): void {
  describe(`job store conformance: ${name}`, () => {
    const made: JobStore[] = [];
    let base: string;
    beforeAll(() => {
      base = makeTempDir();
    });
    afterAll(() => {
      fs.rmSync(base, { recursive: true, force: true });
    });
    afterEach(async () => {
      for (const s of made.splice(0)) await s.destroy().catch(() => {});
    });
    let counter = 0;
    const location = () => path.join(base, `store-${counter++}`);

    /** A new initialized store and a second instance resumed on the same location. */
    async function pair(configOverrides: Record<string, unknown> = {}): Promise<{ a: JobStore; b: JobStore; config: Config; loc: string }> {
      const loc = location();
      const a = factory(loc);
      made.push(a);
      const config = sampleConfig(loc, configOverrides);
      await a.initialize(config);
      const b = factory(loc);
      await b.resume();
      return { a, b, config, loc };
    }

    async function created(store: JobStore, job = sampleJob()): Promise<JobDescription> {
      store.assignJobId(job);
      await store.createJob(job);
      return job;
    }

    describe("lifecycle", () => {
      it("initialize refuses an existing store; resume refuses a missing one and creates nothing", async () => {
        const { a, loc } = await pair();
        await expect(factory(loc).initialize(sampleConfig(loc))).rejects.toBeInstanceOf(JobStoreExistsError);
        const missing = location();
        await expect(factory(missing).resume()).rejects.toBeInstanceOf(NoSuchJobStoreError);
        expect(fs.existsSync(missing)).toBe(false);
        expect(a.locator).toContain(path.basename(loc));
      });

      it("(57) the resumed config equals the initializing one but is another object", async () => {
        const { a, b, config } = await pair({ retryCount: 7 });
        expect(b.config).toEqual(config);
        expect(b.config).not.toBe(a.config);
        const changed = { ...config, workflowAttemptNumber: 1 };
        await b.writeConfig(changed);
        const c = factory(a.locator.replace(/^file:/, ""));
        await c.resume();
        expect(c.config.workflowAttemptNumber).toBe(1);
      });

      it("(72) destroy is idempotent and works on never-initialized and half-written stores", async () => {
        const { a, loc } = await pair();
        await a.destroy();
        await a.destroy();
        await expect(factory(loc).resume()).rejects.toBeInstanceOf(NoSuchJobStoreError);
        await factory(location()).destroy();
        const half = factory(location());
        await half.initialize(sampleConfig("x"));
        await half.destroy();
        await half.destroy();
      });
    });

    describe("jobs", () => {
      it("(55) a missing job does not exist and cannot be loaded", async () => {
        const { a } = await pair();
        expect(await a.jobExists("nonexistentFile")).toBe(false);
        await expect(a.loadJob("nonexistentFile")).rejects.toBeInstanceOf(NoSuchJobError);
      });

      it("(56) assign id, create, load equal on a second instance, with children", async () => {
        const { a, b } = await pair();
        const job = sampleJob("parent");
        const tmpId = job.id;
        a.assignJobId(job);
        expect(job.id).not.toBe(tmpId);
        const child = await created(a, sampleJob("child"));
        job.addChild(child.id);
        await a.createJob(job);
        expect(await a.jobExists(job.id)).toBe(true);
        const loaded = await b.loadJob(job.id);
        expect(loaded.jobName).toBe("parent");
        expect(loaded.requirements).toEqual(job.requirements);
        expect(loaded.getBody()).toEqual(job.getBody());
        expect(loaded.childIds).toEqual([child.id]);
        expect(loaded.version).toBe(job.version);
      });

      it("refuses to create a job that still has a temporary id", async () => {
        const { a } = await pair();
        await expect(a.createJob(sampleJob())).rejects.toBeInstanceOf(InvalidIdError);
      });

      it("(58) filesToDelete persists through update and reload", async () => {
        const { a, b } = await pair();
        const job = await created(a);
        job.filesToDelete = ["1", "2"];
        await a.updateJob(job);
        expect((await b.loadJob(job.id)).filesToDelete).toEqual(["1", "2"]);
      });

      it("updates bump the version and replace the stored document", async () => {
        const { a, b } = await pair();
        const job = await created(a);
        const v = job.version;
        job.detachBody();
        await a.updateJob(job);
        const loaded = await b.loadJob(job.id);
        expect(loaded.version).toBe(v + 1);
        expect(loaded.hasBody()).toBe(false);
      });

      it("(60) deletions: jobs() lists created jobs; deleting the parent keeps the children", async () => {
        const { a, b } = await pair();
        const parent = sampleJob("parent");
        a.assignJobId(parent);
        const c1 = await created(a, sampleJob("c1"));
        const c2 = await created(a, sampleJob("c2"));
        parent.addChild(c1.id);
        parent.addChild(c2.id);
        await a.createJob(parent);
        const ids = new Set<string>();
        for await (const j of b.jobs()) ids.add(j.id);
        expect(ids).toEqual(new Set([parent.id, c1.id, c2.id]));
        await a.deleteJob(parent.id);
        expect(await b.jobExists(c1.id)).toBe(true);
        for (const c of [c1, c2]) {
          await b.deleteJob(c.id);
          await b.deleteJob(c.id); // idempotent
          expect(await a.jobExists(c.id)).toBe(false);
          await expect(a.loadJob(c.id)).rejects.toBeInstanceOf(NoSuchJobError);
        }
        await expect(a.readSharedFile("missing")).rejects.toBeInstanceOf(NoSuchFileError);
      });

      it("bulk create and batch write every job, readable by another instance", async () => {
        const { a, b } = await pair();
        const jobs = Array.from({ length: 500 }, (_, i) => sampleJob(`bulk${i}`, { i }));
        for (const j of jobs) a.assignJobId(j);
        await a.createJobs(jobs);
        let n = 0;
        for await (const _ of b.jobs()) n++;
        expect(n).toBe(500);
        expect((await b.loadJob(jobs[321]!.id)).getBody().data).toEqual({ i: 321 });
        const x = await created(a);
        await a.batch(async () => {
          x.detachBody();
          await a.updateJob(x);
          expect((await b.loadJob(x.id)).hasBody()).toBe(true); // buffered until the batch ends
        });
        expect((await b.loadJob(x.id)).hasBody()).toBe(false);
      });

      it("(67) a description growing by 500 KB and shrinking again round-trips", async () => {
        const { a, b } = await pair();
        const job = await created(a);
        const big = "x".repeat(500_000);
        job.attachBody({ ...job.getBody(), data: { big } });
        await a.updateJob(job);
        expect((await b.loadJob(job.id)).getBody().data).toEqual({ big });
        job.attachBody({ ...job.getBody(), data: { small: 1 } });
        await a.updateJob(job);
        expect((await b.loadJob(job.id)).getBody().data).toEqual({ small: 1 });
      });

      it("root job, results for promises and the root return value", async () => {
        const { a, b } = await pair();
        expect(await a.rootJobId()).toBeUndefined();
        await expect(a.loadRootJob()).rejects.toBeInstanceOf(NoSuchJobError);
        const root = await created(a, sampleJob("root"));
        await a.setRootJob(root.id);
        expect((await b.loadRootJob()).id).toBe(root.id);
        expect(await b.hasResult(root.id)).toBe(false);
        await expect(b.readResult(root.id)).rejects.toBeInstanceOf(NoSuchFileError);
        await a.writeResult(root.id, JSON.stringify({ value: 42 }));
        await a.deleteJob(root.id);
        expect(JSON.parse(await b.getRootJobReturnValue())).toEqual({ value: 42 });
        await b.deleteResult(root.id);
        expect(await a.hasResult(root.id)).toBe(false);
      });

      it("(71) clean() keeps a root and its 100 children, with and without a job cache", async () => {
        const { a } = await pair();
        const root = sampleJob("root");
        a.assignJobId(root);
        const kids = Array.from({ length: 100 }, (_, i) => sampleJob(`kid${i}`));
        for (const k of kids) {
          a.assignJobId(k);
          root.addChild(k.id);
        }
        await a.createJobs([...kids, root]);
        await a.setRootJob(root.id);
        const orphan = await created(a, sampleJob("orphan"));
        expect((await a.clean())?.id).toBe(root.id);
        let n = 0;
        for await (const _ of a.jobs()) n++;
        expect(n).toBe(101);
        expect(await a.jobExists(orphan.id)).toBe(false);
        const cache = new Map<string, JobDescription>();
        for await (const j of a.jobs()) cache.set(j.id, j);
        await a.clean(cache);
        n = 0;
        for await (const _ of a.jobs()) n++;
        expect(n).toBe(101);
      });

      it("clean() replays a pending filesToDelete journal", async () => {
        const { a } = await pair();
        const root = await created(a, sampleJob("root"));
        await a.setRootJob(root.id);
        const f = await a.writeFileStream((s) => void s.write("doomed"));
        root.filesToDelete = [f];
        await a.updateJob(root);
        const cleaned = await a.clean();
        expect(cleaned?.filesToDelete).toEqual([]);
        expect(await a.fileExists(f)).toBe(false);
        expect((await a.loadJob(root.id)).filesToDelete).toEqual([]);
      });
    });

    describe("files", () => {
      it("(61) shared files: write on one instance, read on both, text, public URL, missing", async () => {
        const { a, b } = await pair();
        await a.writeSharedFile("foo", "bar");
        expect((await a.readSharedFile("foo")).toString()).toBe("bar");
        expect(await text(await b.readSharedFileStream("foo"))).toBe("bar");
        await b.writeSharedFileStream("text.txt", (s) => void s.write("héllo", "utf8"));
        expect((await a.readSharedFile("text.txt")).toString("utf8")).toBe("héllo");
        expect(await a.getSharedPublicUrl("foo")).toMatch(/^[a-z]+:/);
        await expect(a.readSharedFileStream("nope")).rejects.toBeInstanceOf(NoSuchFileError);
        expect(await a.sharedFileExists("nope")).toBe(false);
      });

      it("(62) text streams across instances; a failing updateFileStream keeps the old content", async () => {
        const { a, b } = await pair();
        const id = await a.writeFileStream((s) => void s.write("foo", "utf8"));
        expect(await text(await b.readFileStream(id))).toBe("foo");
        await expect(
          b.updateFileStream(id, (s) => {
            s.write("bar");
            throw new Error("boom");
          }),
        ).rejects.toThrow("boom");
        expect(await text(await a.readFileStream(id))).toBe("foo");
        await b.updateFileStream(id, (s) => void s.write("baz"));
        expect(await text(await a.readFileStream(id))).toBe("baz");
      });

      it("(63) per-job files on two instances: every way in and out, then delete", async () => {
        const { a, b } = await pair();
        const job = await created(a);
        const dir = makeTempDir();
        try {
          const empty = await a.getEmptyFileStoreId({ jobId: job.id, cleanup: true });
          expect(await b.fileExists(empty)).toBe(true);
          await b.updateFileStream(empty, (s) => void s.write("one"));
          expect(await text(await a.readFileStream(empty))).toBe("one");
          const local = path.join(dir, "out.txt");
          await a.readFile(empty, local);
          expect(fs.readFileSync(local, "utf8")).toBe("one");
          fs.writeFileSync(local, "two");
          const second = await b.writeFile(local, { jobId: job.id, cleanup: true });
          expect(await text(await a.readFileStream(second))).toBe("two");
          fs.writeFileSync(local, "three");
          await a.updateFile(second, local);
          expect(await text(await b.readFileStream(second))).toBe("three");
          const third = await a.writeFileStream((s) => void s.write("four"), { jobId: job.id, cleanup: true });
          expect(await b.getFileSize(third)).toBe(4);
          await b.deleteFile(third);
          await b.deleteFile(third);
          expect(await a.fileExists(third)).toBe(false);
          expect(await a.getFileSize(third)).toBe(0);
          await expect(a.readFile(third, path.join(dir, "x"))).rejects.toBeInstanceOf(NoSuchFileError);
          await expect(a.readFileStream(third)).rejects.toBeInstanceOf(NoSuchFileError);
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      });

      it("(69) files tied to a job vanish with it; other files stay", async () => {
        const { a, b } = await pair();
        for (const n of [1, 9, 10, 11, 20]) {
          const job = await created(a);
          const ids = [];
          for (let i = 0; i < n; i++) ids.push(await a.writeFileStream((s) => void s.write(`f${i}`), { jobId: job.id, cleanup: true }));
          const kept = await a.writeFileStream((s) => void s.write("kept"), { jobId: job.id });
          for (const id of ids) expect(await b.fileExists(id)).toBe(true);
          await b.deleteJob(job.id);
          for (const id of ids) expect(await a.fileExists(id)).toBe(false);
          expect(await a.fileExists(kept)).toBe(true);
        }
      });

      it("(70) zero-length files, a 50 MB file, a partial stream read, the empty file id", async () => {
        const { a } = await pair();
        const dir = makeTempDir();
        try {
          fs.writeFileSync(path.join(dir, "z"), "");
          const zero = await a.writeFile(path.join(dir, "z"));
          const devNull = await a.writeFileStream(async (s) => {
            for await (const c of fs.createReadStream("/dev/null")) s.write(c);
          });
          expect(await a.getFileSize(devNull)).toBe(0);
          expect(await a.getFileSize(zero)).toBe(0);
          const emptyStream = await a.writeFileStream(() => {});
          expect(await text(await a.readFileStream(emptyStream))).toBe("");
          const big = randomBytes(50 * 1024 * 1024);
          fs.writeFileSync(path.join(dir, "big"), big);
          const bigId = await a.writeFile(path.join(dir, "big"));
          await a.readFile(bigId, path.join(dir, "big.out"));
          expect(md5(fs.readFileSync(path.join(dir, "big.out")))).toBe(md5(big));
          const mid = await a.writeFileStream((s) => void s.write(randomBytes(300_000)));
          const stream = await a.readFileStream(mid);
          await new Promise<void>((resolve) => {
            stream.once("readable", () => {
              expect(stream.read(1)).toHaveLength(1);
              stream.destroy();
              resolve();
            });
          });
          const empty = await a.getEmptyFileStoreId();
          await a.readFile(empty, path.join(dir, "empty.out"));
          expect(fs.statSync(path.join(dir, "empty.out")).size).toBe(0);
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      });

      it("(51) hints and the basename show in the file id; the id carries size and executable bit", async () => {
        const { a } = await pair();
        const dir = makeTempDir();
        try {
          const p = path.join(dir, "my tool.sh");
          fs.writeFileSync(p, "#!/bin/sh\necho hi\n", { mode: 0o755 });
          const id = await a.writeFile(p, { hints: ["Hint", "OtherHint"] });
          expect(id).toContain("Hint");
          expect(id).toContain("OtherHint");
          expect(id.endsWith("my_tool.sh")).toBe(true);
          expect(id.startsWith("18:x:")).toBe(true);
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      });

      it("crafted file ids, shared names and job ids never reach outside the store", async () => {
        const { a } = await pair();
        const bad = [
          "../../etc/passwd",
          "/etc/passwd",
          "5:-:f/../../etc/passwd",
          "5:-:f/aaaaaaaaaaaaaaaa/../passwd",
          "5:-:f/aaaaaaaaaaaaaaaa/pass\0wd",
          "5:-:j/../x/aaaaaaaaaaaaaaaa/f",
          "5:-:f/aaaaaaaaaaaaaaaa/..",
          "5:-:f/aaaaaaaaaaaaaaaa",
          "",
        ];
        for (const id of bad) {
          await expect(a.readFileStream(id), id).rejects.toBeInstanceOf(InvalidIdError);
          await expect(a.deleteFile(id), id).rejects.toBeInstanceOf(InvalidIdError);
          await expect(a.updateFileStream(id, () => {}), id).rejects.toBeInstanceOf(InvalidIdError);
        }
        for (const name of ["../x", "/abs", "a/b", ".hidden", "..", "a\0b", ""]) {
          await expect(a.writeSharedFile(name, "x"), name).rejects.toBeInstanceOf(InvalidIdError);
          await expect(a.readSharedFile(name), name).rejects.toBeInstanceOf(InvalidIdError);
        }
        for (const id of ["../x", "a/b", "a\0b", "", "x".repeat(200)]) {
          await expect(a.loadJob(id), id).rejects.toBeInstanceOf(InvalidIdError);
          await expect(a.deleteJob(id), id).rejects.toBeInstanceOf(InvalidIdError);
          await expect(a.writeResult(id, "1"), id).rejects.toBeInstanceOf(InvalidIdError);
        }
        // User text in basenames and hints is sanitized, never refused.
        const id = await a.writeFileStream((s) => void s.write("x"), { basename: "../../evil\0name", hints: ["../h", "/x"] });
        expect(id).not.toContain("..");
        expect(await text(await a.readFileStream(id))).toBe("x");
      });
    });

    describe("scans for tools", () => {
      it("jobStates() follows creates, updates and deletes; jobDocuments() yields the stored JSON", async () => {
        const { a, b } = await pair();
        const parent = sampleJob("parent");
        const kids = [sampleJob("k1"), sampleJob("k2"), sampleJob("k3")];
        for (const j of [parent, ...kids]) a.assignJobId(j);
        await a.createJobs([parent, ...kids]);
        for (const k of kids) parent.addChild(k.id);
        parent.detachBody();
        await a.updateJob(parent);
        await b.deleteJob(kids[2]!.id);
        const states = new Map<string, JobStateRecord>();
        for await (const r of b.jobStates()) states.set(r.id, r);
        expect([...states.keys()].sort()).toEqual([parent.id, kids[0]!.id, kids[1]!.id].sort());
        const p = states.get(parent.id)!;
        expect(p).toMatchObject({ jobName: "parent", hasBody: false, version: parent.version });
        expect([...(p.childIds ?? [])].sort()).toEqual(kids.map((k) => k.id).sort());
        expect(states.get(kids[0]!.id)).toMatchObject({ jobName: "k1", hasBody: true });
        const docs = new Map<string, JobDescriptionJSON>();
        for await (const d of a.jobDocuments()) docs.set(d.id, d);
        expect(docs.size).toBe(3);
        expect(docs.get(parent.id)).toEqual(parent.toJSON());
        // clean() rewrites whatever index the store keeps; the states stay right.
        await a.setRootJob(parent.id);
        await a.clean();
        const after: string[] = [];
        for await (const r of a.jobStates()) after.push(r.id);
        expect(after.sort()).toEqual([...states.keys()].sort());
      });

      it("peekLogs() returns every message in order without claiming any", async () => {
        const { a, b } = await pair();
        await a.writeLogs("first");
        await a.writeLogs(new Uint8Array([0xff, 0x00, 0x01]));
        const seen: MailboxMessage[] = [];
        expect(await b.peekLogs((m) => seen.push(m))).toBe(2);
        expect(seen[0]!.data.toString()).toBe("first");
        expect([...seen[1]!.data]).toEqual([0xff, 0x00, 0x01]);
        expect(seen[0]!.writtenAt).toBeGreaterThan(0);
        expect(await a.readLogs(() => {})).toBe(2); // still unclaimed after the peek
        await a.writeLogs("third");
        expect(await b.peekLogs(() => {})).toBe(3);
      });

      it("readLeaderLock() names the holder (pid, host, since, alive) and is undefined without one", async () => {
        const { a, b } = await pair();
        expect(await b.readLeaderLock()).toBeUndefined();
        const before = Date.now();
        const lock = await a.acquireLeaderLock();
        const info = await b.readLeaderLock();
        expect(info).toMatchObject({ pid: process.pid, host: os.hostname(), alive: true, local: true });
        expect(info!.since).toBeGreaterThanOrEqual(before - 1000);
        await lock.release();
        expect(await b.readLeaderLock()).toBeUndefined();
      });
    });

    describe("logs, leader, kill flag", () => {
      it("(64) the mailbox hands each message out once; readAll returns everything", async () => {
        const { a, b } = await pair();
        const got: string[] = [];
        const collect = (m: Buffer) => void got.push(m.toString());
        expect(await b.readLogs(collect)).toBe(0);
        await a.writeLogs("one");
        expect(await b.readLogs(collect)).toBe(1);
        expect(await b.readLogs(collect)).toBe(0);
        await a.writeLogs("one");
        await a.writeLogs("two");
        expect(await b.readLogs(collect)).toBe(2);
        const payload = randomBytes(1024 * 1024);
        await a.writeLogs(payload);
        let echoed: Buffer | undefined;
        expect(await b.readLogs((m) => (echoed = m))).toBe(1);
        expect(echoed?.equals(payload)).toBe(true);
        expect(await b.readLogs(() => {}, true)).toBe(4);
        expect(got).toEqual(["one", "one", "two"]);
      });

      it("leader lock: a second leader is refused with pid and host; released locks can be taken", async () => {
        const { a, b } = await pair();
        const lock = await a.acquireLeaderLock();
        expect(await lock.isHeld()).toBe(true);
        const err = await b.acquireLeaderLock().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(LeaderLockedError);
        expect((err as LeaderLockedError).pid).toBe(process.pid);
        expect((err as Error).message).toContain(os.hostname());
        await lock.release();
        const again = await b.acquireLeaderLock();
        await again.release();
        await a.writeLeaderPid();
        expect(await b.readLeaderPid()).toEqual({ pid: process.pid, host: os.hostname() });
      });

      it("kill flag", async () => {
        const { a, b } = await pair();
        expect(await b.readKillFlag()).toBe(false);
        await a.writeKillFlag();
        expect(await b.readKillFlag()).toBe(true);
        await a.writeKillFlag(false);
        expect(await b.readKillFlag()).toBe(false);
      });

      it("(65) writeLogFiles writes name_000.log with one line per entry", () => {
        const dir = makeTempDir();
        try {
          const p = writeLogFiles(dir, ["name"], ["string", Buffer.from("bytes"), "", Buffer.from("newline\n")]);
          expect(fs.readdirSync(dir)).toEqual(["name_000.log"]);
          expect(fs.readFileSync(p, "utf8")).toBe("string\nbytes\n\nnewline\n");
          writeLogFiles(dir, ["name"], ["x"], { failed: true });
          expect(fs.readdirSync(dir).sort()).toEqual(["failed_name_000.log", "name_000.log"]);
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      });
    });

    describe("import and export", () => {
      let server: http.Server;
      let baseUrl: string;
      const payload = randomBytes(200_000);
      beforeAll(async () => {
        server = http.createServer((req, res) => {
          if (req.url === "/data.bin") {
            res.writeHead(200, { "content-length": payload.length });
            res.end(payload);
          } else if (req.url === "/redirect") {
            res.writeHead(302, { location: "/data.bin" });
            res.end();
          } else if (req.url === "/short") {
            res.writeHead(200, { "content-length": 1000 });
            res.write(Buffer.alloc(10));
            res.destroy();
          } else {
            res.writeHead(404);
            res.end("not here");
          }
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      });
      afterAll(async () => {
        await new Promise<void>((resolve) => server.close(() => resolve()));
      });

      it("(68) file import/export round-trips sizes 0..5 MiB+1 with the executable bit", async () => {
        const { a } = await pair();
        const dir = makeTempDir();
        try {
          for (const size of [0, 1, 1024 * 1024, 5 * 1024 * 1024 - 1, 5 * 1024 * 1024, 5 * 1024 * 1024 + 1]) {
            const data = randomBytes(size);
            const src = path.join(dir, `in-${size}`);
            fs.writeFileSync(src, data, { mode: size % 2 ? 0o755 : 0o644 });
            const id = (await a.importFile(`file://${src}`))!;
            expect(await a.getFileSize(id)).toBe(size);
            const dst = path.join(dir, `out-${size}`);
            await a.exportFile(id, dst);
            expect(md5(fs.readFileSync(dst))).toBe(md5(data));
            expect((fs.statSync(dst).mode & 0o100) !== 0).toBe(size % 2 === 1);
          }
          // Relative paths without a scheme, and import to a shared file.
          const rel = path.relative(process.cwd(), path.join(dir, "in-1"));
          expect(await a.importFile(rel)).toBeDefined();
          expect(await a.importFile(path.join(dir, "in-1"), { sharedFileName: "imported" })).toBeUndefined();
          expect((await a.readSharedFile("imported")).length).toBe(1);
          await expect(a.importFile(path.join(dir, "missing"))).rejects.toBeInstanceOf(InvalidImportExportUrlError);
          await expect(a.importFile("nosuchscheme://x/y")).rejects.toBeInstanceOf(InvalidImportExportUrlError);
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      });

      it("(68) http import: streamed, redirects followed, 404 and short bodies are clear errors", async () => {
        const { a } = await pair();
        const id = (await a.importFile(`${baseUrl}/data.bin`))!;
        expect(id.endsWith("data.bin")).toBe(true);
        expect(await a.getFileSize(id)).toBe(payload.length);
        const again = (await a.importFile(`${baseUrl}/redirect`))!;
        const chunks: Buffer[] = [];
        for await (const c of await a.readFileStream(again)) chunks.push(c as Buffer);
        expect(md5(Buffer.concat(chunks))).toBe(md5(payload));
        await expect(a.importFile(`${baseUrl}/missing`)).rejects.toThrow(/404/);
        await expect(a.importFile(`${baseUrl}/short`)).rejects.toBeInstanceOf(InvalidImportExportUrlError);
        await expect(a.exportFile(id, `${baseUrl}/upload`)).rejects.toBeInstanceOf(InvalidImportExportUrlError);
      });
    });
  });
}
