/**
 * Handing a commit log over (commit-log/handover.ts): a process that closes its store cleanly
 * offers its log to the next process on the machine, which continues it, so processes that run one
 * after another leave one log, not one each; real child processes check that concurrent ones never
 * write the same log, that a killed writer's log is never continued, and that a reader keeps
 * reading a released log whose writer has exited.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FileJobStore, type FileJobStoreOptions } from "../src/index.js";
import { EntryKind, scanRecord } from "../src/commit-log/record.js";
import { OFFER_DIR } from "../src/commit-log/handover.js";
import { storeOpener } from "./helpers/stores.js";
import { makeTempDir, sampleJob } from "../src/testing/index.js";
import { bundleChild } from "./helpers/bundle.js";
import { runChild } from "./helpers/child.js";

let dir: string;
let bundle: string;
beforeAll(async () => {
  dir = makeTempDir("toil-handover-");
  bundle = await bundleChild(path.join(import.meta.dirname, "fixtures", "handover-child.ts"), dir);
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const OPTIONS: FileJobStoreOptions = { durable: false };

const { fresh, open } = storeOpener(() => dir, OPTIONS);

function assigned(store: FileJobStore, name: string): ReturnType<typeof sampleJob> {
  const job = sampleJob(name);
  store.assignJobId(job);
  return job;
}

function logFiles(root: string): string[] {
  return fs.readdirSync(path.join(root, "log")).filter((f) => f.endsWith(".log"));
}

async function jobNames(store: FileJobStore): Promise<string[]> {
  const names: string[] = [];
  for await (const j of store.jobs()) names.push(j.jobName);
  return names.sort();
}

interface ChildRun {
  pid: number;
  ids: string[];
  kill: () => Promise<void>;
}

/** Run the fixture: resolves once it printed its jobs (mode "close": once it exited). */
async function child(root: string, count: number, mode: "close" | "hold"): Promise<ChildRun> {
  const { out, kill } = await runChild(bundle, [root, String(count), mode], mode === "hold" ? "\n" : undefined);
  return { ...(JSON.parse(out) as { pid: number; ids: string[] }), kill };
}

/**
 * Every job entry of every log with the pid of the writer that held the log when it was appended
 * (the pid in the log's name, then in each Owner entry).
 */
function entriesByWriter(root: string): Map<string, { log: string; writerPid: number }> {
  const out = new Map<string, { log: string; writerPid: number }>();
  const pidOf = (logName: string) => Number(/^g\d+-(\d+)\./.exec(logName)![1]);
  for (const log of logFiles(root)) {
    const buf = fs.readFileSync(path.join(root, "log", log));
    let writerPid = pidOf(log);
    let at = 0;
    for (;;) {
      const step = scanRecord(buf, at, 0);
      if (step.type !== "record") break;
      for (const e of step.entries) {
        if (e.kind === EntryKind.Owner) writerPid = pidOf(e.id);
        if (e.kind === EntryKind.JobPut) out.set(e.id, { log, writerPid });
      }
      at += step.length;
    }
  }
  return out;
}

describe("handing a commit log to the next process on the machine", () => {
  it("continues the log a store closed cleanly, and readers see what the next writer appends", async () => {
    const root = await fresh();
    const first = await open(root);
    await first.createJobs([assigned(first, "first")]);
    await first.close();
    const [log] = logFiles(root);
    expect(fs.readdirSync(path.join(root, "log", OFFER_DIR))).toEqual([log]);

    const reader = await open(root);
    expect(await jobNames(reader)).toEqual(["first"]);
    const second = await open(root);
    await second.createJobs([assigned(second, "second")]);
    expect(logFiles(root)).toEqual([log]);
    expect(fs.readdirSync(path.join(root, "log", OFFER_DIR))).toEqual([]);
    expect(await jobNames(reader)).toEqual(["first", "second"]);
    await second.close();
    expect(await jobNames(await open(root))).toEqual(["first", "second"]);
  });

  it("leaves one log for processes run one after another, and a reader keeps reading it after its writers exit", async () => {
    const root = await fresh();
    const reader = await open(root);
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const run = await child(root, 2, "close");
      ids.push(...run.ids);
      // Each writer has exited: the reader checks whether a log it read to the end can still change.
      for (let k = 0; k < 3; k++) expect(await jobNames(reader)).toHaveLength(ids.length);
    }
    expect(logFiles(root)).toHaveLength(1);
    const byWriter = entriesByWriter(root);
    expect([...byWriter.keys()].sort()).toEqual([...ids].sort());
  });

  it("never gives one log to two processes at once", async () => {
    const root = await fresh();
    const runs: ChildRun[] = [];
    for (let round = 0; round < 4; round++) runs.push(...(await Promise.all(Array.from({ length: 6 }, () => child(root, 3, "close")))));
    const byWriter = entriesByWriter(root);
    for (const run of runs) {
      for (const id of run.ids) expect(byWriter.get(id)?.writerPid, `job ${id} of process ${run.pid}`).toBe(run.pid);
    }
    expect(logFiles(root).length).toBeLessThanOrEqual(6);
    expect((await jobNames(await open(root))).length).toBe(72);
  });

  it("never continues the log of a process that was killed", async () => {
    const root = await fresh();
    const killed = await child(root, 1, "hold");
    await killed.kill();
    const next = await child(root, 1, "close");
    const byWriter = entriesByWriter(root);
    expect(byWriter.get(next.ids[0]!)!.log).not.toBe(byWriter.get(killed.ids[0]!)!.log);
    expect(logFiles(root)).toHaveLength(2);
    expect(await jobNames(await open(root))).toHaveLength(2);
  });
});
