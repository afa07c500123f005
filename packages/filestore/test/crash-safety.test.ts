/**
 * Crash safety: a child process mutates a FileJobStore and is killed with SIGKILL at random points,
 * again and again on the same store (in one lane each child also folds the earlier runs' commit
 * logs first, so kills land in the middle of folds). After every kill the store must resume, and every operation the
 * child had completed (logged "done") must be there; an operation in flight may be there or not, but
 * never half. The writers' own log survives the kills too: a line the kill cut short never hides
 * the next writer's first entry.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JobDescription } from "@toil/job";
import { FileJobStore } from "../src/index.js";
import { makeTempDir, sampleConfig } from "../src/testing/index.js";
import { bundleChild } from "./helpers/bundle.js";
import { replay, verify } from "./helpers/crash-model.js";
import { appendEntry, readEntries, type OpsEntry } from "./helpers/ops-log.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const ITERATIONS = Number(process.env.TOIL_CRASH_ITERATIONS ?? 200);
const LANES = 2;
/** Time for the kill loop: 300 s for the default 200 kills, more when TOIL_CRASH_ITERATIONS asks for more. */
const LOOP_TIMEOUT_MS = Math.max(300_000, ITERATIONS * 1_500);

let dir: string;
let bundle: string;

beforeAll(async () => {
  dir = makeTempDir("toil-crash-");
  bundle = await bundleChild(path.join(here, "fixtures", "crash-writer.ts"), dir);
}, 300_000);

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
}, 300_000);

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
  }, LOOP_TIMEOUT_MS);
});

describe("the writers' log across a kill", () => {
  const first: OpsEntry = { t: "intent", op: "create", jobs: [["a", { n: 1 }]] };
  const cut: OpsEntry = { t: "intent", op: "update", id: "a", data: { n: 2 } };
  const next: OpsEntry = { t: "intent", op: "delete", id: "a" };

  /** The bytes a writer appends for `entry`. */
  function appended(entry: OpsEntry): Buffer {
    const file = path.join(dir, "one-entry.log");
    fs.rmSync(file, { force: true });
    appendEntry(file, entry);
    return fs.readFileSync(file);
  }

  it("reads the next writer's first entry after a line cut at any byte", () => {
    const file = path.join(dir, "torn.log");
    const torn = appended(cut);
    for (let at = 1; at < torn.length; at++) {
      fs.rmSync(file, { force: true });
      appendEntry(file, first);
      fs.appendFileSync(file, torn.subarray(0, at)); // what SIGKILL in the middle of the append leaves
      appendEntry(file, next);
      const entries = readEntries(file);
      // The cut entry itself is there only when the cut left it whole (only its line end missing).
      expect(entries, `cut after byte ${at}`).toEqual(at === torn.length - 1 ? [first, cut, next] : [first, next]);
    }
  });

  it("holds a job deleted by the writer after a kill cut the log: it is allowed to be gone", async () => {
    const storePath = path.join(dir, "store-torn-log");
    const logFile = path.join(dir, "ops-torn-log.log");
    const store = new FileJobStore(storePath);
    await store.initialize(sampleConfig(storePath));
    const job = new JobDescription({ jobName: "crash1" });
    job.attachBody({ kind: "function", module: "file:///x.js", exportName: "f", data: { n: 100 } });
    store.assignJobId(job);
    appendEntry(logFile, { t: "intent", op: "create", jobs: [[job.id, { n: 100 }]] });
    await store.createJobs([job]);
    appendEntry(logFile, { t: "done" });
    // The writer was killed in the middle of its next intent line (the operation never started)...
    const torn = appended({ t: "intent", op: "update", id: job.id, data: { n: 101 } });
    fs.appendFileSync(logFile, torn.subarray(0, Math.floor(torn.length / 2)));
    // ...and the next writer deletes the job first thing.
    appendEntry(logFile, { t: "intent", op: "delete", id: job.id });
    await store.deleteJob(job.id);
    appendEntry(logFile, { t: "done" });
    await store.close();
    expect(replay(logFile).jobs.get(job.id)).toEqual(new Set([null]));
    await verify(storePath, logFile);
  });
});
