/**
 * Benchmark of @toil/filestore. `pnpm --filter @toil/filestore bench` (add `--quick` for a small run).
 * Prints: job create+update+load rate, bulk create time and peak RSS, file write/read throughput next
 * to fs.copyFile of the same data (the ratio is the figure), and the cache-hit read time.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { JobDescription, defaultConfig, prepareStart } from "@toil/job";
import { CachingFileStore, FileJobStore } from "../src/index.js";

const quick = process.argv.includes("--quick");
const JOBS = quick ? 1_000 : 10_000;
const BULK = quick ? 10_000 : 100_000;
const SIZES: [string, number][] = quick
  ? [["1 KiB", 1024], ["1 MiB", 1 << 20], ["10 MiB", 10 << 20]]
  : [["1 KiB", 1024], ["1 MiB", 1 << 20], ["100 MiB", 100 << 20]];

const base = fs.mkdtempSync(path.join(os.tmpdir(), "toil-fs-bench-"));
let peakRss = process.memoryUsage().rss;
const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);

function job(i: number): JobDescription {
  const j = new JobDescription({ jobName: `bench${i}`, requirements: { cores: 1, memory: "100Mi", disk: "1Gi" } });
  j.attachBody({ kind: "function", module: "file:///flows/bench.js", exportName: "step", data: { i, args: ["x", i * 2] } });
  return j;
}

async function store(name: string, durable: boolean): Promise<FileJobStore> {
  const root = path.join(base, name);
  const s = new FileJobStore(root, { durable });
  await s.initialize(prepareStart(defaultConfig({ jobStore: root })));
  return s;
}

const rows: string[] = [];
const out = (line: string) => {
  rows.push(line);
  console.log(line);
};

try {
  out(`# @toil/filestore benchmark (${quick ? "quick" : "full"}), node ${process.version}, ${os.cpus().length} cores`);
  for (const durable of [true, false]) {
    const s = await store(`jobs-${durable}`, durable);
    const jobs = Array.from({ length: JOBS }, (_, i) => job(i));
    const t0 = performance.now();
    for (const j of jobs) {
      s.assignJobId(j);
      await s.createJob(j);
    }
    const t1 = performance.now();
    for (const j of jobs) {
      j.detachBody();
      await s.updateJob(j);
    }
    const t2 = performance.now();
    for (const j of jobs) await s.loadJob(j.id);
    const t3 = performance.now();
    const rate = (ms: number) => Math.round(JOBS / (ms / 1000)).toLocaleString("en-US");
    out(
      `jobs (${JOBS}, one call each, durable=${durable}): create ${rate(t1 - t0)}/s, update ${rate(t2 - t1)}/s, load ${rate(t3 - t2)}/s, ` +
        `create+update+load ${rate(t3 - t0)} jobs/s`,
    );
  }

  {
    const s = await store("bulk", true);
    const before = process.memoryUsage().rss;
    peakRss = before;
    const t0 = performance.now();
    const jobs = Array.from({ length: BULK }, (_, i) => job(i));
    for (const j of jobs) s.assignJobId(j);
    await s.createJobs(jobs);
    const t1 = performance.now();
    let count = 0;
    for await (const _ of s.jobIds()) count++;
    out(
      `bulk create ${BULK.toLocaleString("en-US")} jobs (one createJobs call, durable): ${((t1 - t0) / 1000).toFixed(2)} s ` +
        `(${Math.round(BULK / ((t1 - t0) / 1000)).toLocaleString("en-US")} jobs/s), peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB ` +
        `(+${((peakRss - before) / 2 ** 20).toFixed(0)} MiB), ${count} stored`,
    );
    // What `toil status` / `toil stats` need, on the same store.
    let t = performance.now();
    let states = 0;
    for await (const _ of s.jobStates()) states++;
    const tStates = performance.now() - t;
    t = performance.now();
    let docs = 0;
    for await (const _ of s.jobDocuments()) docs++;
    const tDocs = performance.now() - t;
    const message = JSON.stringify({ stats: { jobs: [{ jobName: "bench", wall: 1.5, cpu: 1.2, memory: 123456, disk: 4096 }] } });
    for (let i = 0; i < BULK / 10; i++) await s.writeLogs(message);
    t = performance.now();
    let messages = 0;
    await s.peekLogs(() => void messages++);
    const tPeek = performance.now() - t;
    out(
      `scans of the ${BULK.toLocaleString("en-US")}-job store: jobStates() (index) ${(tStates / 1000).toFixed(2)} s for ${states}, ` +
        `jobDocuments() (every file) ${(tDocs / 1000).toFixed(2)} s for ${docs}; peekLogs() ${(tPeek / 1000).toFixed(2)} s for ${messages} stats messages`,
    );
    await s.destroy();
  }

  {
    const s = await store("files", true);
    for (const [label, size] of SIZES) {
      const src = path.join(base, `src-${size}`);
      fs.writeFileSync(src, Buffer.alloc(size, 0x5a));
      const reps = Math.max(1, Math.min(200, Math.floor((64 << 20) / size)));
      let tCopy = 0;
      let tWrite = 0;
      let tRead = 0;
      for (let r = 0; r < reps; r++) {
        const dst = path.join(base, `copy-${r}`);
        let t = performance.now();
        await fs.promises.copyFile(src, dst);
        tCopy += performance.now() - t;
        fs.rmSync(dst);
        t = performance.now();
        const id = await s.writeFile(src);
        tWrite += performance.now() - t;
        const back = path.join(base, `back-${r}`);
        t = performance.now();
        await s.readFile(id, back);
        tRead += performance.now() - t;
        fs.rmSync(back);
        await s.deleteFile(id);
      }
      const mbps = (ms: number) => ((size * reps) / 2 ** 20 / (ms / 1000)).toFixed(0);
      out(
        `file ${label} x${reps}: fs.copyFile ${mbps(tCopy)} MB/s | writeFile ${mbps(tWrite)} MB/s (${(tWrite / tCopy).toFixed(2)}x copyFile time) | ` +
          `readFile ${mbps(tRead)} MB/s (${(tRead / tCopy).toFixed(2)}x)`,
      );
    }
    // Cost of making written data durable, paid once at the next job-state write.
    const src = path.join(base, `src-${SIZES[SIZES.length - 1]![1]}`);
    await s.writeFile(src);
    const j = job(0);
    s.assignJobId(j);
    const t = performance.now();
    await s.createJob(j);
    out(`durability flush of a ${SIZES[SIZES.length - 1]![0]} file at the next job write: ${(performance.now() - t).toFixed(1)} ms`);

    const id = await s.writeFileStream((w) => void w.write(Buffer.alloc(1 << 20, 1)));
    const times: number[] = [];
    for (let r = 0; r < 50; r++) {
      const jd = job(r);
      s.assignJobId(jd);
      const fsx = new CachingFileStore(s, jd, path.join(base, "tmp", `${r}`), {
        cacheDir: path.join(base, "cache"),
        coordinationDir: path.join(base, "coord"),
        cacheSize: 8 * 2 ** 30,
      });
      await fsx.open(async () => {
        const t0 = performance.now();
        await fsx.readGlobalFile(id);
        times.push(performance.now() - t0);
      });
      fsx.close();
    }
    const hits = times.slice(1).sort((a, b) => a - b);
    out(`cache: first read (miss, 1 MiB) ${times[0]!.toFixed(2)} ms, hit median ${hits[Math.floor(hits.length / 2)]!.toFixed(3)} ms`);
  }
} finally {
  clearInterval(rssTimer);
  fs.rmSync(base, { recursive: true, force: true });
}
