/**
 * The commit log on disk: a log cut at every byte offset (a crash mid-append), with and without
 * garbage after the cut, reads as the state of its complete groups and restarts (a new leader run
 * folds it); every flipped byte of a record is either harmless (the trailer) or found and named;
 * a fold stopped at every step and after every file leaves the same state, and the next fold
 * finishes it.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DamagedJobError, DamagedJobStoreFileError, FileJobStore, type FileJobStoreOptions } from "../src/index.js";
import { storeOpener } from "./helpers/stores.js";
import { LogView } from "../src/commit-log/view.js";
import { makeTempDir, sampleJob } from "../src/testing/index.js";

let dir: string;
beforeAll(() => {
  dir = makeTempDir("toil-clog-");
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const OPTIONS: FileJobStoreOptions = { durable: false, logRecordBytes: 300 };

const { fresh, open } = storeOpener(() => dir, OPTIONS);
let n = 0;

/** Everything a reader sees: jobs (name, data, version), their state records, results, messages. */
async function stateOf(store: FileJobStore): Promise<Record<string, unknown>> {
  const jobs: Record<string, unknown> = {};
  for await (const j of store.jobs()) jobs[j.id] = { name: j.jobName, data: j.hasBody() ? j.getBody().data : null, version: j.version };
  const states: string[] = [];
  for await (const r of store.jobStates()) states.push(`${r.id}@${r.version}`);
  const results: Record<string, string> = {};
  for (const id of Object.keys(jobs)) if (await store.hasResult(id)) results[id] = await store.readResult(id);
  const messages: string[] = [];
  await store.peekLogs((m) => messages.push(m.data.toString()));
  return { jobs, states: states.sort(), results, messages };
}

function logFiles(root: string): string[] {
  return fs.readdirSync(path.join(root, "log")).filter((f) => f.endsWith(".log"));
}

/**
 * A store whose one log holds several groups (some cut into several records); returns the log's
 * size and the state a reader sees after each group.
 */
async function groups(root: string): Promise<{ log: string; ends: number[]; states: Record<string, unknown>[]; ids: string[] }> {
  const w = await open(root);
  const states = [await stateOf(await open(root))];
  const ends = [0];
  const jobs = Array.from({ length: 12 }, (_, i) => sampleJob(`job${i}`, { i, pad: "p".repeat(i * 7) }));
  for (const j of jobs) w.assignJobId(j);
  let log = "";
  const mark = async () => {
    await w.sync();
    log = path.join(root, "log", logFiles(root)[0]!);
    ends.push(fs.statSync(log).size);
    states.push(await stateOf(await open(root)));
  };
  await w.createJobs(jobs.slice(0, 3)); // several records
  await mark();
  jobs[0]!.attachBody({ ...jobs[0]!.getBody(), data: { updated: true } });
  await w.updateJob(jobs[0]!);
  await mark();
  await w.batch(async () => {
    await w.writeResult(jobs[0]!.id, JSON.stringify({ value: 42 }));
    await w.deleteJob(jobs[1]!.id);
    await w.createJobs([jobs[3]!]);
  });
  await mark();
  await w.writeLogs("a message for the leader");
  await mark();
  await w.createJobs(jobs.slice(4, 10));
  await mark();
  await w.batch(async () => {
    await w.deleteJob(jobs[3]!.id);
    await w.writeResult(jobs[2]!.id, "7");
  });
  await mark();
  return { log, ends, states, ids: jobs.map((j) => j.id) };
}

describe("a log cut at every byte offset", () => {
  it("reads as its complete groups, with or without garbage after the cut, and a new leader run folds it", async () => {
    const root = await fresh();
    const { log, ends, states } = await groups(root);
    const full = fs.readFileSync(log);
    expect(full.length).toBe(ends.at(-1));
    let garbageSeed = 7;
    const garbage = (k: number) =>
      Buffer.from(Array.from({ length: k }, () => (garbageSeed = (garbageSeed * 1103515245 + 12345) >>> 0) >>> 24));
    let folded = 0;
    for (let cut = 0; cut <= full.length; cut++) {
      const expected = states[ends.filter((e) => e <= cut).length - 1];
      for (const tail of [Buffer.alloc(0), garbage(1 + (cut % 41))]) {
        fs.writeFileSync(log, Buffer.concat([full.subarray(0, cut), tail]));
        expect(await stateOf(await open(root)), `cut at ${cut}, ${tail.length} bytes of garbage`).toEqual(expected);
      }
      if (cut % 61 === 0 || ends.includes(cut)) {
        // A restart: a new leader run folds the cut log into the store's files.
        const copy = path.join(dir, `restart-${n++}`);
        fs.cpSync(root, copy, { recursive: true });
        const leader = await open(copy);
        const lock = await leader.acquireLeaderLock();
        await leader.fold();
        await lock.release();
        expect(logFiles(copy)).toEqual([]);
        expect(await stateOf(await open(copy)), `restart after a cut at ${cut}`).toEqual(expected);
        fs.rmSync(copy, { recursive: true, force: true });
        folded++;
      }
    }
    expect(folded).toBeGreaterThan(10);
  }, 300_000);
});

describe("a group written in parts", () => {
  it("takes effect only when complete; a batch that fails after some parts leaves nothing and later groups are whole", async () => {
    const root = await fresh();
    const w = await open(root);
    const reader = await open(root);
    // Big enough to go out in several parts (record size 300 bytes here).
    const jobs = Array.from({ length: 40 }, (_, i) => sampleJob(`part${i}`, { i, pad: "q".repeat(200) }));
    for (const j of jobs) w.assignJobId(j);
    let seenMidway: boolean | undefined;
    await expect(
      w.batch(async () => {
        await w.createJobs(jobs.slice(0, 20));
        // Parts are in the log already, but no reader sees any of them.
        expect(fs.statSync(path.join(root, "log", logFiles(root)[0]!)).size).toBeGreaterThan(2000);
        seenMidway = await reader.jobExists(jobs[0]!.id);
        throw new Error("the job failed before its commit");
      }),
    ).rejects.toThrow("before its commit");
    expect(seenMidway).toBe(false);
    for (const s of [reader, await open(root)]) expect(await s.jobExists(jobs[3]!.id)).toBe(false);
    await w.createJobs(jobs.slice(20));
    for (const s of [reader, await open(root)]) {
      const ids: string[] = [];
      for await (const id of s.jobIds()) ids.push(id);
      expect(ids.sort()).toEqual(jobs.slice(20).map((j) => j.id).sort());
    }
  });
});

describe("a reader of many finished logs", () => {
  /** Descriptors this process holds open on files of `root`. */
  function openIn(root: string): number {
    let count = 0;
    for (const fd of fs.readdirSync("/proc/self/fd")) {
      try {
        if (fs.readlinkSync(`/proc/self/fd/${fd}`).startsWith(root)) count++;
      } catch {
        /* closed meanwhile */
      }
    }
    return count;
  }

  it.runIf(process.platform === "linux")("keeps a bounded number of them open, and still reads every entry", async () => {
    const root = await fresh();
    // One log per writer, as a run of cold workers leaves: each commits a job and seals its log.
    const ids: string[] = [];
    for (let i = 0; i < 400; i++) {
      const writer = await open(root);
      const job = sampleJob(`w${i}`, { i });
      writer.assignJobId(job);
      await writer.createJob(job);
      await writer.close();
      ids.push(job.id);
    }
    const reader = await open(root);
    for (let pass = 0; pass < 2; pass++) {
      for (const [i, id] of ids.entries()) expect((await reader.loadJob(id)).getBody().data).toEqual({ i });
      expect(openIn(root)).toBeLessThanOrEqual(260);
    }
    await reader.close();
    expect(openIn(root)).toBe(0);
  });
});

describe("a log cut back while a reader reads it", () => {
  it("is read as it is now (a writer's failed append on a full disk), and what follows is read later", async () => {
    const root = await fresh();
    const w = await open(root);
    const [first, second] = [sampleJob("first"), sampleJob("second")];
    w.assignJobId(first);
    w.assignJobId(second);
    await w.createJobs([first]);
    const logDir = path.join(root, "log");
    const [log] = logFiles(root);
    const view = new LogView(logDir, 0);
    view.refresh();
    const size = fs.statSync(path.join(logDir, log!)).size;
    // The reader saw the log at a size its writer then cut back from: the bytes are not there.
    (view as unknown as { scan(index: number, size: number): void }).scan(0, size + 200_000);
    expect(view.docs.get(first.id)).toBeDefined();
    await w.createJobs([second]);
    view.refresh();
    expect(view.docs.get(second.id)).toBeDefined();
  });
});

describe("a flipped byte in a record", () => {
  it("is harmless in the trailer and otherwise found and named, never read as data", async () => {
    const root = await fresh();
    const { log, ends, states } = await groups(root);
    const full = fs.readFileSync(log);
    const truth = states.at(-1) as { jobs: Record<string, unknown>; results: Record<string, string> };
    // The third group (a result, a deletion, a creation) sits between two others.
    const [start, end] = [ends[2]!, ends[3]!];
    // Trailer bytes of each record of the group (the group may span several records).
    const trailer = new Set<number>();
    for (let r = start; r < end; r += 20 + full.readUInt32LE(r + 8) + 8) {
      const recordEnd = r + 20 + full.readUInt32LE(r + 8) + 8;
      for (let t = recordEnd - 8; t < recordEnd; t++) trailer.add(t);
    }
    let detected = 0;
    for (let at = start; at < end; at++) {
      const damaged = Buffer.from(full);
      damaged[at] = damaged[at]! ^ 0x10;
      fs.writeFileSync(log, damaged);
      const reader = await open(root);
      const errors: Error[] = [];
      const attempt = async <T>(read: () => Promise<T>, want: unknown) => {
        try {
          expect(await read(), `flip at ${at}`).toEqual(want);
        } catch (err) {
          if (!(err instanceof DamagedJobStoreFileError) && !(err instanceof DamagedJobError)) throw err;
          expect((err as Error).message, `flip at ${at}`).toContain(log);
          errors.push(err as Error);
        }
      };
      for (const [id, want] of Object.entries(truth.jobs)) {
        await attempt(async () => {
          const j = await reader.loadJob(id);
          return { name: j.jobName, data: j.hasBody() ? j.getBody().data : null, version: j.version };
        }, want);
      }
      for (const [id, want] of Object.entries(truth.results)) await attempt(() => reader.readResult(id), want);
      const inTrailer = trailer.has(at);
      if (inTrailer) expect(errors, `flip at ${at} (trailer)`).toEqual([]);
      else {
        expect(errors.length, `flip at ${at} (byte ${at - start} of ${end - start}) must be found`).toBeGreaterThan(0);
        detected++;
      }
    }
    expect(detected).toBe(end - start - trailer.size);
  }, 300_000);
});

describe("folding, stopped anywhere", () => {
  /** A store whose generation-0 logs (three writers) hold creations, updates, deletions, results, messages. */
  async function filled(): Promise<{ root: string; expected: Record<string, unknown> }> {
    const root = await fresh();
    const a = await open(root);
    const b = await open(root);
    const jobs = Array.from({ length: 20 }, (_, i) => sampleJob(`f${i}`, { i }));
    for (const j of jobs) a.assignJobId(j);
    await a.createJobs(jobs);
    await a.setRootJob(jobs[0]!.id);
    for (let i = 0; i < 20; i += 3) await b.deleteJob(jobs[i + 1]!.id);
    for (let i = 0; i < 20; i += 2) await b.writeResult(jobs[i]!.id, String(i * i));
    const c = await open(root);
    const j5 = await c.loadJob(jobs[5]!.id);
    j5.attachBody({ ...j5.getBody(), data: { i: 5, again: true } });
    await c.updateJob(j5);
    await c.writeLogs("stats of a job");
    await b.writeLogs("another");
    return { root, expected: await stateOf(await open(root)) };
  }

  /**
   * Fold `root` (whose generation-0 logs a generation-1 leader folds) stopped after every step and
   * after every file it writes: the state must stay `expected`, and the next fold must finish.
   */
  async function foldStoppedEverywhere(root: string, expected: Record<string, unknown>): Promise<void> {
    let files = 0;
    const probe = path.join(dir, `probe-${n++}`);
    fs.cpSync(root, probe, { recursive: true });
    await (await open(probe)).fold({ afterFile: () => void files++ });
    expect(files).toBeGreaterThan(10);
    expect(await stateOf(await open(probe))).toEqual(expected);
    fs.rmSync(probe, { recursive: true, force: true });

    const stops: { what: string; options: Parameters<FileJobStore["fold"]>[0] }[] = [
      ...(["files-written", "synced", "marked", "logs-deleted"] as const).map((step) => ({
        what: `after step ${step}`,
        options: { afterStep: (s: string) => {
          if (s === step) throw new Error("stopped");
        } },
      })),
      ...Array.from({ length: files }, (_, k) => ({
        what: `after file ${k + 1}`,
        options: { afterFile: (() => {
          let seen = 0;
          return () => {
            if (++seen === k + 1) throw new Error("stopped");
          };
        })() },
      })),
    ];
    for (const stop of stops) {
      const copy = path.join(dir, `fold-${n++}`);
      fs.cpSync(root, copy, { recursive: true });
      const folding = await open(copy);
      await folding.fold(stop.options).then(
        () => expect(stop.what).toBe("after step logs-deleted"),
        (err: Error) => expect(err.message).toBe("stopped"),
      );
      expect(await stateOf(await open(copy)), `stopped ${stop.what}`).toEqual(expected);
      // A write of the current run between the stop and the next fold.
      const writer = await open(copy);
      const extra = sampleJob("extra");
      writer.assignJobId(extra);
      await writer.createJob(extra);
      await (await open(copy)).fold();
      const after = (await stateOf(await open(copy))) as { jobs: Record<string, unknown>; states: string[] };
      expect(Object.keys(after.jobs)).toContain(extra.id);
      delete after.jobs[extra.id];
      after.states = after.states.filter((s) => !s.startsWith(`${extra.id}@`));
      expect(after, `finished after a stop ${stop.what}`).toEqual(expected);
      expect(logFiles(copy).every((f) => f.startsWith("g1-")), `only this run's log is left (${stop.what})`).toBe(true);
      fs.rmSync(copy, { recursive: true, force: true });
    }
  }

  /** Names of the files under `jobs/` and `results/` (every shard). */
  function foldedFiles(root: string): string[] {
    const out: string[] = [];
    for (const top of ["jobs", "results"]) {
      const base = path.join(root, top);
      if (!fs.existsSync(base)) continue;
      for (const shard of fs.readdirSync(base)) for (const f of fs.readdirSync(path.join(base, shard))) out.push(`${top}/${f}`);
    }
    return out;
  }

  it("leaves the state as it was after every step and every file, and the next fold finishes", async () => {
    const { root, expected } = await filled();
    // Generation 1: the leader of the next run folds generation 0.
    const leader = await open(root);
    const lock = await leader.acquireLeaderLock();
    await lock.release();
    await foldStoppedEverywhere(root, expected);
  }, 300_000);

  it("writes no file for what the current run deleted or rewrote since, and still folds safely anywhere", async () => {
    const { root } = await filled();
    const leader = await open(root);
    const lock = await leader.acquireLeaderLock();
    await lock.release();
    // The current run (generation 1) finishes some of the killed run's jobs and rewrites others
    // before the fold (a leader folds as its run ends).
    const ids: string[] = [];
    for await (const id of (await open(root)).jobIds()) ids.push(id);
    ids.sort();
    const current = await open(root);
    const gone = ids.slice(0, 4);
    for (const id of gone) {
      await current.batch(async () => {
        await current.writeResult(id, JSON.stringify({ done: id }));
        await current.deleteJob(id);
      });
    }
    const rewritten = await current.loadJob(ids[5]!);
    rewritten.attachBody({ ...rewritten.getBody(), data: { rewritten: true } });
    await current.updateJob(rewritten);
    const expected = await stateOf(await open(root));

    const probe = path.join(dir, `probe-${n++}`);
    fs.cpSync(root, probe, { recursive: true });
    const report = await (await open(probe)).fold();
    expect(report.superseded).toBeGreaterThanOrEqual(gone.length + 1);
    expect(await stateOf(await open(probe))).toEqual(expected);
    const files = foldedFiles(probe);
    for (const id of [...gone, ids[5]!]) expect(files.filter((f) => f.startsWith(`jobs/${id}`)), id).toEqual([]);
    fs.rmSync(probe, { recursive: true, force: true });

    await foldStoppedEverywhere(root, expected);
  }, 300_000);
});
