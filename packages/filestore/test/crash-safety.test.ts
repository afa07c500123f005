/**
 * Crash safety: a child process mutates a FileJobStore and is killed with SIGKILL at random points,
 * again and again on the same store (in one lane each child also folds the earlier runs' commit
 * logs first, so kills land in the middle of folds). After every kill the store must resume, and every operation the
 * child had completed (logged "done") must be there; an operation in flight may be there or not, but
 * never half.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FileJobStore, NoSuchJobError } from "../src/index.js";
import { makeTempDir, sampleConfig } from "../src/testing/index.js";
import { bundleChild } from "./helpers/bundle.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const ITERATIONS = Number(process.env.TOIL_CRASH_ITERATIONS ?? 200);
const LANES = 2;

let dir: string;
let bundle: string;

beforeAll(async () => {
  dir = makeTempDir("toil-crash-");
  bundle = await bundleChild(path.join(here, "fixtures", "crash-writer.ts"), dir);
}, 300_000);

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
}, 300_000);

type Entry = { t: "intent"; op: string; [k: string]: unknown } | { t: "done"; id?: string };

interface Model {
  /** job id -> allowed data.n values; `null` in the set means "may be absent". */
  jobs: Map<string, Set<number | null>>;
  files: Map<string, Set<string>>;
  results: Map<string, Set<string | null>>;
  /** Jobs finished in one group (result + deletion): gone with their result, or there without it. */
  finished: Map<string, { value: string; done: boolean }>;
  /** contents of a file write in flight (its id was never logged). */
}

function replay(logFile: string): Model {
  const lines = fs.existsSync(logFile) ? fs.readFileSync(logFile, "utf8").split("\n") : [];
  // A torn last line (killed mid-append) is dropped with the empty tail.
  const entries: Entry[] = [];
  for (const l of lines) {
    try {
      entries.push(JSON.parse(l) as Entry);
    } catch {
      /* torn or empty */
    }
  }
  const m: Model = { jobs: new Map(), files: new Map(), results: new Map(), finished: new Map() };
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (e.t !== "intent") continue;
    const done = entries[i + 1]?.t === "done" ? (entries[i + 1] as { id?: string }) : undefined;
    const apply = <K, V>(map: Map<K, Set<V>>, key: K, value: V) => {
      if (done) map.set(key, new Set([value]));
      else map.set(key, new Set([...(map.get(key) ?? []), value]));
    };
    switch (e.op) {
      case "create":
        for (const [id, data] of e.jobs as [string, { n: number }][]) {
          if (!done) m.jobs.set(id, new Set([null]));
          apply(m.jobs, id, data.n);
        }
        break;
      case "update":
        apply(m.jobs, e.id as string, (e.data as { n: number }).n);
        break;
      case "delete":
        apply(m.jobs, e.id as string, null);
        m.results.delete(e.id as string);
        // (A finish cut by a kill left the job there, and a later writer deleted it.)
        m.finished.delete(e.id as string);
        break;
      case "writeFile":
        if (done?.id) m.files.set(done.id, new Set([e.content as string]));
        break;
      case "updateFile":
        apply(m.files, e.id as string, e.content as string);
        break;
      case "finish":
        apply(m.jobs, e.id as string, null);
        m.results.delete(e.id as string);
        m.finished.set(e.id as string, { value: e.value as string, done: done !== undefined });
        break;
      case "result":
        if (!m.results.has(e.id as string)) m.results.set(e.id as string, new Set([null]));
        apply(m.results, e.id as string, e.value as string);
        break;
    }
  }
  return m;
}

async function verify(storePath: string, logFile: string): Promise<number> {
  const store = new FileJobStore(storePath);
  await store.resume(); // must always succeed
  const model = replay(logFile);
  const present = new Set<string>();
  for await (const id of store.jobIds()) present.add(id);
  for (const [id, allowed] of model.jobs) {
    let n: number | null = null;
    try {
      n = ((await store.loadJob(id)).getBody().data as { n: number }).n;
    } catch (err) {
      if (!(err instanceof NoSuchJobError)) throw err;
    }
    expect(allowed.has(n), `job ${id}: found ${n}, allowed ${[...allowed].join(",")}`).toBe(true);
    if (n !== null) expect(present.has(id)).toBe(true);
  }
  for (const [id, allowed] of model.files) {
    const chunks: Buffer[] = [];
    for await (const c of await store.readFileStream(id)) chunks.push(c as Buffer);
    const content = Buffer.concat(chunks).toString();
    expect(allowed.has(content), `file ${id}: found ${content.slice(0, 30)}`).toBe(true);
  }
  for (const [id, allowed] of model.results) {
    if (!model.jobs.has(id)) continue;
    const value = (await store.hasResult(id)) ? await store.readResult(id) : null;
    expect(allowed.has(value), `result of ${id}: ${value}`).toBe(true);
  }
  for (const [id, { value, done }] of model.finished) {
    const exists = await store.jobExists(id);
    const result = (await store.hasResult(id)) ? await store.readResult(id) : null;
    if (!exists) expect(result, `finished job ${id} is gone, so its result is there`).toBe(value);
    else expect(done, `finished job ${id} is still there after its commit was logged done`).toBe(false);
  }
  return model.jobs.size + model.files.size;
}

/** A writer started ahead of time (modules loaded), waiting for "go" on stdin. */
interface Spare {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: () => string;
}

function startSpare(storePath: string, logFile: string): Spare {
  const child = spawn(process.execPath, [bundle, storePath, logFile], { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.once("exit", (code, signal) => r({ code, signal })),
  );
  return { child, exited, stderr: () => stderr };
}

/** Start the spare's writes, SIGKILL it `delayMs` after it is ready, and wait for it to die. */
async function killAfter(spare: Spare, seed: number, delayMs: number, durable: boolean, fold: boolean): Promise<void> {
  const ready = new Promise<void>((resolve) => spare.child.stdout!.once("data", () => resolve()));
  spare.child.stdin!.write(`go ${seed} ${durable ? "durable" : "fast"} ${fold ? "fold" : "write"}\n`);
  const outcome = await Promise.race([ready.then(() => undefined), spare.exited]);
  if (outcome) throw new Error(`writer exited before it was ready (code ${outcome.code}): ${spare.stderr()}`);
  await new Promise((r) => setTimeout(r, delayMs));
  spare.child.kill("SIGKILL");
  const { code, signal } = await spare.exited;
  if (signal !== "SIGKILL") throw new Error(`writer exited on its own (code ${code}): ${spare.stderr()}`);
}

describe("crash safety (SIGKILL at random points)", () => {
  it(`the store resumes and keeps every committed job and file across ${ITERATIONS} kills`, async () => {
    const lanes = Array.from({ length: LANES }, (_, lane) => lane);
    const counts = await Promise.all(
      lanes.map(async (lane) => {
        const storePath = path.join(dir, `store-${lane}`);
        const logFile = path.join(dir, `ops-${lane}.log`);
        await new FileJobStore(storePath).initialize(sampleConfig(storePath));
        let checked = 0;
        let spare = startSpare(storePath, logFile);
        try {
          for (let i = lane; i < ITERATIONS; i += LANES) {
            const current = spare;
            // The next writer loads its modules while this one runs and the store is checked.
            spare = startSpare(storePath, logFile);
            // Lane 0 fsyncs like production every 10th run; the rest skip fsync (irrelevant to SIGKILL).
            // Lane 1 starts a new generation and folds the earlier ones' logs at every start, so
            // kills land in folds too (the kill comes 0-59 ms after the fold).
            await killAfter(current, i * 7919 + 1, (i * 37) % 60, lane === 0 && i % 10 === 0, lane === 1);
            checked = await verify(storePath, logFile);
          }
        } finally {
          spare.child.kill("SIGKILL");
          await spare.exited;
        }
        return checked;
      }),
    );
    for (const c of counts) expect(c).toBeGreaterThan(10);
  }, 300_000);
});
