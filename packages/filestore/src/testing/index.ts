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
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Config, JobDescription, JobDescriptionJSON } from "@toil/job";
import {
  InvalidIdError,
  JobStoreExistsError,
  LeaderLockedError,
  NoSuchFileError,
  NoSuchJobError,
  NoSuchJobStoreError,
} from "../errors.js";
import type { JobStateRecord, JobStore, MailboxMessage } from "../job-store.js";
import { writeLogFiles } from "../log-files.js";
import { describeFileSuite, describeImportExportSuite } from "./file-suites.js";
import { type JobStoreFactoryForTests, makeTempDir, sampleConfig, sampleJob } from "./samples.js";

export { type JobStoreFactoryForTests, makeTempDir, md5, sampleConfig, sampleJob } from "./samples.js";

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

    describeFileSuite({ pair, created });

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

    describeImportExportSuite({ pair, created });
  });
}
