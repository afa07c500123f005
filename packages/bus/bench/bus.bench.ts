/**
 * Throughput of @toil/bus. Run: `pnpm --filter @toil/bus bench` (add `-- --quick` for a short run).
 *
 *   in-process   publish N messages on the owning thread, deliver them with check() to one
 *                subscriber (batches of 1,000, like a busy leader loop). Target >= 1,000,000 msgs/s.
 *   output file  the same with connectOutputFile attached: every message is JSON-encoded and
 *                appended to a file in the system temp dir. Target >= 200,000 msgs/s.
 *   threads      informational: 2 worker threads post batches over ports from createThreadPort()
 *                (ThreadOutbox's wire format: one array of messages per postMessage) while the
 *                main thread calls check().
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { MessageBus, jobCompleted, jobIssued, queueSize, type BusMessage } from "../src/index.js";

const quick = process.argv.includes("--quick");
const N = quick ? 300_000 : 3_000_000;
const FILE_N = quick ? 200_000 : 1_000_000;
const THREAD_N = quick ? 100_000 : 500_000;
const BATCH = 1_000;
const ROUNDS = quick ? 2 : 3;

function message(i: number): BusMessage {
  const k = i % 3;
  return k === 0
    ? jobIssued({ jobId: "job-000123", jobName: "align-reads", batchId: i })
    : k === 1
      ? jobCompleted({ jobId: "job-000123", jobName: "align-reads", exitCode: 0 })
      : queueSize({ queueSize: i });
}

/** Publishes n messages (creating each one, as real publishers do) and delivers them in batches. */
function pump(bus: MessageBus, n: number): void {
  for (let i = 0; i < n; i++) {
    bus.publish(message(i));
    if (i % BATCH === BATCH - 1) bus.check();
  }
  bus.check();
}

function best(rounds: number, run: () => number): number {
  let top = 0;
  for (let r = 0; r < rounds; r++) top = Math.max(top, run());
  return top;
}

function inProcess(): number {
  const bus = new MessageBus();
  let seen = 0;
  bus.subscribe("JobIssued", () => seen++);
  bus.subscribe("JobCompleted", () => seen++);
  bus.subscribe("QueueSize", () => seen++);
  pump(bus, 50_000); // warm up
  seen = 0;
  const t0 = process.hrtime.bigint();
  pump(bus, N);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (seen !== N) throw new Error(`delivered ${seen} of ${N}`);
  bus.close();
  return N / s;
}

function outputFile(dir: string): number {
  const path = join(dir, `bus-${Math.random().toString(36).slice(2)}.jsonl`);
  const bus = new MessageBus();
  const log = bus.connectOutputFile(path, { mode: "truncate" });
  pump(bus, 20_000); // warm up
  const before = log.messageCount;
  const t0 = process.hrtime.bigint();
  pump(bus, FILE_N);
  log.close();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (log.messageCount - before !== FILE_N) throw new Error("output file missed messages");
  bus.close();
  fileBytes = statSync(path).size;
  rmSync(path);
  return FILE_N / s;
}
let fileBytes = 0;

const threadBody = `
const { workerData } = require("node:worker_threads");
const port = workerData.port;
// Same wire protocol as ThreadOutbox: arrays of messages, one postMessage per batch.
let buf = [];
for (let i = 0; i < workerData.n; i++) {
  buf.push({ type: "QueueSize", time: Date.now(), queueSize: i });
  if (buf.length === 4096) { port.postMessage(buf); buf = []; }
}
if (buf.length) port.postMessage(buf);
port.close();
`;

async function threads(): Promise<number> {
  const bus = new MessageBus();
  let seen = 0;
  bus.subscribe("QueueSize", () => seen++);
  const total = THREAD_N * 2;
  const t0 = process.hrtime.bigint();
  const done = [0, 1].map(() => {
    const port = bus.createThreadPort();
    const w = new Worker(threadBody, { eval: true, workerData: { port, n: THREAD_N }, transferList: [port] });
    return new Promise<void>((resolve, reject) => {
      w.once("error", reject);
      w.once("exit", () => resolve());
    });
  });
  let finished = false;
  void Promise.all(done).then(() => (finished = true));
  for (;;) {
    const wasFinished = finished;
    bus.check();
    if (seen >= total || wasFinished) break; // after the threads exit, one check() drains their ports
    await new Promise((r) => setImmediate(r));
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (seen !== total) throw new Error(`threads: delivered ${seen} of ${total}`);
  bus.close();
  return total / s;
}

const fmt = (x: number) => Math.round(x).toLocaleString("en-US");
const dir = mkdtempSync(join(tmpdir(), "toil-bus-bench-"));
try {
  const rows: [string, number, number, number | null][] = [];
  rows.push(["in-process publish+deliver", N, best(ROUNDS, inProcess), 1_000_000]);
  rows.push(["output file (JSON lines)", FILE_N, best(ROUNDS, () => outputFile(dir)), 200_000]);
  rows.push(["2 worker threads -> check()", THREAD_N * 2, await threads(), null]);

  console.log(`@toil/bus benchmark${quick ? " (--quick)" : ""}, node ${process.version}, best of ${ROUNDS} rounds, check() every ${BATCH} messages`);
  const head = ["scenario", "messages", "msgs/s", "target", "ok"];
  const body = rows.map(([name, n, rate, target]) => [
    name,
    fmt(n),
    fmt(rate),
    target === null ? "-" : `>= ${fmt(target)}`,
    target === null ? "-" : rate >= target ? "yes" : "NO",
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: string[]) => "| " + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ") + " |";
  console.log(line(head));
  console.log("|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|");
  for (const r of body) console.log(line(r));
  console.log(`output file: ${(fileBytes / FILE_N).toFixed(1)} bytes per message line`);
  const failed = rows.some(([, , rate, target]) => target !== null && rate < target);
  if (failed) {
    console.log("Below target (see the table). On a loaded machine, rerun before concluding.");
    process.exitCode = 1;
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
