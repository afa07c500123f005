/**
 * Checksums: a flipped byte in a stored file, a folded job document, a folded result or a log entry
 * read after its log was scanned is found and named (which file or job, which store path), never
 * handed on as data; untouched data reads as before.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { text } from "node:stream/consumers";
import { crc32 } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DamagedJobStoreFileError, FileJobStore, parseFileId } from "../src/index.js";
import { makeTempDir, sampleConfig, sampleJob } from "../src/testing/index.js";
import { shardOf } from "../src/ids.js";

let dir: string;
let n = 0;
beforeAll(() => {
  dir = makeTempDir("toil-sum-");
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

async function fresh(): Promise<{ store: FileJobStore; root: string }> {
  const root = path.join(dir, `s${n++}`);
  const store = new FileJobStore(root);
  await store.initialize(sampleConfig(root));
  return { store, root };
}

function flip(file: string, at: number): void {
  const b = fs.readFileSync(file);
  b[at] = b[at]! ^ 0x01;
  fs.writeFileSync(file, b);
}

/** The stored path of a file id (its token directory and basename). */
function storedPathOf(root: string, id: string): string {
  const p = parseFileId(id);
  const token = [...p.hints, p.rand].join(".");
  return p.jobId === undefined
    ? path.join(root, "files", p.rand.slice(-2), token, p.basename)
    : path.join(root, "job-files", shardOf(p.jobId), p.jobId, token, p.basename);
}

async function damageOf(promise: Promise<unknown>): Promise<DamagedJobStoreFileError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DamagedJobStoreFileError);
  return err as DamagedJobStoreFileError;
}

describe("stored files carry a checksum checked on every read", () => {
  it("a flipped byte fails copies, links, streams and exports with the path and the file id; a good file reads", async () => {
    const { store, root } = await fresh();
    const local = path.join(dir, `in-${n++}.txt`);
    fs.writeFileSync(local, "x".repeat(100_000));
    const good = await store.writeFile(local);
    const bad = await store.writeFile(local);
    const stored = storedPathOf(root, bad);
    flip(stored, 5_000);
    const out = path.join(dir, `out-${n++}`);
    await store.readFile(good, out);
    expect(fs.readFileSync(out, "utf8")).toBe("x".repeat(100_000));

    const copy = path.join(dir, `copy-${n++}`);
    const e1 = await damageOf(store.readFile(bad, copy));
    expect(e1.path).toBe(stored);
    expect(e1.message).toContain(bad);
    expect(fs.existsSync(copy), "no damaged copy is left").toBe(false);
    await damageOf(store.readFile(bad, path.join(dir, `link-${n++}`), { mutable: false }));
    await damageOf(store.readFile(bad, path.join(dir, `sym-${n++}`), { symlink: true }));
    await damageOf(text(await store.readFileStream(bad)));
    await damageOf(store.exportFile(bad, `file://${path.join(dir, `export-${n++}`)}`));
    // Cut short: the size differs.
    fs.truncateSync(stored, 10);
    await damageOf(store.readFile(bad, path.join(dir, `cut-${n++}`)));
  });

  it("files past the one-buffer copy size, and streamed writes, are summed as written and checked as copied", async () => {
    const { store, root } = await fresh();
    const size = 6 * 1024 * 1024 + 3;
    const bytes = Buffer.alloc(size);
    for (let i = 0; i < size; i++) bytes[i] = (i * 131 + (i >> 12)) & 0xff;
    const local = path.join(dir, `big-${n++}`);
    fs.writeFileSync(local, bytes);
    const written = await store.writeFile(local);
    // Handed over in pieces of odd sizes, some together (one writev), some alone.
    const streamed = await store.writeFileStream(async (s) => {
      for (let at = 0; at < size; at += 300_007) {
        if (!s.write(bytes.subarray(at, Math.min(size, at + 300_007)))) await new Promise((r) => s.once("drain", r));
      }
    });
    // Many small pieces at once (joined before they are written), then a few large ones.
    const pieces = await store.writeFileStream((s) => {
      let at = 0;
      for (; at < size / 2; at += 1_201) s.write(bytes.subarray(at, Math.min(size, at + 1_201)));
      for (; at < size; at += 1_000_003) s.write(bytes.subarray(at, Math.min(size, at + 1_000_003)));
      s.end();
    });
    for (const id of [written, streamed, pieces]) {
      expect(parseFileId(id).size).toBe(size);
      const sidecars = fs.readdirSync(path.dirname(storedPathOf(root, id))).filter((f) => f.startsWith(".crc32-"));
      expect(sidecars).toEqual([`.crc32-${crc32(bytes).toString(16).padStart(8, "0")}-${size}`]);
      const copy = path.join(dir, `bigcopy-${n++}`);
      await store.readFile(id, copy);
      expect(fs.readFileSync(copy).equals(bytes)).toBe(true);
      const exported = path.join(dir, `bigexport-${n++}`);
      await store.exportFile(id, `file://${exported}`);
      expect(fs.readFileSync(exported).equals(bytes)).toBe(true);
    }
    const stored = storedPathOf(root, streamed);
    flip(stored, size - 2);
    const copy = path.join(dir, `bigbad-${n++}`);
    expect((await damageOf(store.readFile(streamed, copy))).path).toBe(stored);
    expect(fs.existsSync(copy), "no damaged copy is left").toBe(false);
    const exported = path.join(dir, `bigbadexport-${n++}`);
    await damageOf(store.exportFile(streamed, `file://${exported}`));
    expect(fs.existsSync(exported), "no damaged export is left").toBe(false);
    await damageOf(text(await store.readFileStream(streamed)));
  });

  it("updates keep one matching checksum; streams and empty files are checked too", async () => {
    const { store, root } = await fresh();
    const id = await store.writeFileStream((s) => void s.write("first"));
    const updated = await store.updateFileStream(id, (s) => void s.write("second, longer"));
    expect(await text(await store.readFileStream(updated))).toBe("second, longer");
    const dirOf = path.dirname(storedPathOf(root, id));
    expect(fs.readdirSync(dirOf).filter((f) => f.startsWith(".crc32-"))).toHaveLength(1);
    const empty = await store.getEmptyFileStoreId();
    expect(await text(await store.readFileStream(empty))).toBe("");
    fs.writeFileSync(storedPathOf(root, empty), "!");
    await damageOf(text(await store.readFileStream(empty)));
  });
});

describe("job documents and results", () => {
  it("a flipped byte in a folded document or result, or in a log entry read after the scan, is named", async () => {
    const { store, root } = await fresh();
    const jobs = [sampleJob("a"), sampleJob("b")];
    for (const j of jobs) store.assignJobId(j);
    await store.createJobs(jobs);
    await store.writeResult(jobs[0]!.id, JSON.stringify({ value: 1 }));
    // Fold it (a new leader run): documents and results become files with checksummed headers.
    const leader = new FileJobStore(root);
    await leader.resume();
    await (await leader.acquireLeaderLock()).release();
    await leader.fold();
    const doc = path.join(root, "jobs", shardOf(jobs[0]!.id), `${jobs[0]!.id}.json`);
    const result = path.join(root, "results", shardOf(jobs[0]!.id), jobs[0]!.id);
    flip(doc, fs.statSync(doc).size - 3);
    flip(result, fs.statSync(result).size - 2);
    const reader = new FileJobStore(root);
    await reader.resume();
    expect((await damageOf(reader.loadJob(jobs[0]!.id))).path).toBe(doc);
    expect((await damageOf(reader.readResult(jobs[0]!.id))).path).toBe(result);
    expect((await damageOf(Promise.resolve().then(() => reader.resultReader()(jobs[0]!.id)))).path).toBe(result);
    expect((await reader.loadJob(jobs[1]!.id)).jobName).toBe("b");

    // A log entry damaged after a reader scanned its log: the read checks the entry again.
    const c = sampleJob("c");
    leader.assignJobId(c);
    await leader.createJob(c);
    expect((await reader.loadJob(c.id)).jobName).toBe("c");
    const log = path.join(root, "log", fs.readdirSync(path.join(root, "log")).find((f) => f.endsWith(".log"))!);
    const bytes = fs.readFileSync(log);
    flip(log, bytes.indexOf(Buffer.from('"jobName":"c"')) + 12);
    const err = await damageOf(reader.loadJob(c.id));
    expect(err.path).toBe(log);
    expect(err.message).toContain(c.id);
  });
});
