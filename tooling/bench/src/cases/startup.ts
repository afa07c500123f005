/**
 * Start-up: what a run costs before any work, next to a bare `node -e ""` measured in the same run
 * (for the two ratios, right before each measurement).
 *
 * - the hello-world example (`examples/hello-world/flow.ts`, TypeScript) end to end, median of a few runs;
 * - `toil --help` as a multiple of the floor;
 * - a cold worker: `node <toil-worker> <store> <jobId>` running one trivial job defined in a `.ts`
 *   module, as a multiple of the floor (what every job of a batch system without warm workers pays,
 *   Slurm's included);
 * - 60 cold workers in a row on one store: the last ten against the first ten (full suite only).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Ctx } from "./common.js";
import { CLI, REPO_ROOT, median, timeCommand } from "../run.js";

const HELLO = join(REPO_ROOT, "examples", "hello-world", "flow.ts");
/** The job module of the cold-worker figures. */
const TRIVIAL_MODULE = "export function trivial(n: number): number {\n  return n + 1;\n}\n";
const WORKER = join(REPO_ROOT, "apps", "leader", "dist", "worker.js");

function helloWorld(ctx: Ctx, dir: string): void {
  const k = ctx.quick ? 3 : 7;
  const times: number[] = [];
  let failure: string | undefined;
  for (let i = 0; i < k + 1; i++) {
    const store = join(dir, `hello-${i}`);
    const t = performance.now();
    const r = spawnSync(process.execPath, [CLI, "run", HELLO, "--jobStore", store, "--logLevel", "warning", "--", "bench"], { encoding: "utf8", cwd: dir });
    const ms = performance.now() - t;
    if (r.status !== 0 || !r.stdout.includes("Hello, bench!")) {
      failure = `exit ${r.status}: ${(r.stderr || r.stdout).trim().split("\n").slice(-3).join(" / ").slice(0, 300)}`;
      break;
    }
    if (i > 0) times.push(ms); // the first run warms the page cache
  }
  const ms = failure ? null : median(times);
  ctx.figures.push({
    id: "startup.helloWorldSeconds",
    case: "startup",
    figure: "start-up: the hello-world example (.ts), `toil run` end to end (median)",
    value: ms === null ? null : ms / 1000,
    unit: "s",
    ...(ctx.floorMs && ms !== null ? { baseline: { value: ctx.floorMs / 1000, unit: "s", label: "floor" }, ratio: ms / ctx.floorMs } : {}),
    target: { op: "<=", value: 0.5 },
    published: "Toil: a 3-job workflow takes 2.8 s",
    ...(failure ? { note: failure } : { note: `runs: ${times.map((t) => (t / 1000).toFixed(2)).join(", ")} s` }),
  });
}

/**
 * A bare `node -e ""`, timed right before each measurement of a start-up figure: the floor of the
 * same moment. How long a bare Node takes to start moves by a factor of three on the shared virtual
 * machines we measure on (21–65 ms within one day), while what our start-up adds on top of it moves
 * far less, so a ratio to a floor taken minutes earlier measures the machine, not the code.
 */
function bareNodeMs(): number {
  return timeCommand(process.execPath, ["-e", ""]);
}

function floorNote(ctx: Ctx, floors: number[]): string {
  return `bare node right before each: median ${median(floors).toFixed(1)} ms (the suite's floor, taken at its start: ${ctx.floorMs?.toFixed(1)} ms)`;
}

function helpRatio(ctx: Ctx): void {
  if (!ctx.floorMs) return;
  const t: number[] = [];
  const floors: number[] = [];
  timeCommand(process.execPath, [CLI, "--help"]);
  for (let i = 0; i < (ctx.quick ? 3 : 9); i++) {
    floors.push(bareNodeMs());
    t.push(timeCommand(process.execPath, [CLI, "--help"]));
  }
  const ms = median(t);
  const floor = median(floors);
  ctx.figures.push({
    id: "startup.helpFloorMultiple",
    case: "startup",
    figure: "start-up: `toil --help` as a multiple of a bare `node -e \"\"`",
    value: ms / floor,
    unit: "× floor",
    baseline: { value: floor, unit: "ms", label: "bare node, interleaved" },
    target: { op: "<=", value: 2 },
    note: `${ms.toFixed(0)} ms; ${floorNote(ctx, floors)}`,
  });
}

/** A new store in `dir` for cold workers, and how to add one trivial `.ts` job to it (resolves to its id). */
async function trivialJobStore(dir: string, name: string): Promise<{ locator: string; addJob: (n: number) => Promise<string>; close: () => Promise<void> }> {
  const { FileJobStore } = (await import("@toil/filestore")) as typeof import("@toil/filestore");
  const job = (await import("@toil/job")) as typeof import("@toil/job");
  const module = join(dir, "trivial.ts");
  writeFileSync(module, TRIVIAL_MODULE);
  const { trivial } = (await job.importWorkflowModule(module)) as { trivial: (n: number) => number };
  const locator = join(dir, name);
  const store = new FileJobStore(locator);
  const config = job.prepareStart(job.defaultConfig({ jobStore: locator, workDir: dir }));
  await store.initialize(config);
  return {
    locator: store.locator,
    async addJob(n) {
      const root = job.Job.wrapFn(trivial, n);
      const { descriptions } = job.saveJobGraph(root);
      for (const d of descriptions) d.assignConfig(config);
      await store.createJobs(descriptions);
      return root.jobStoreId;
    },
    close: () => store.close(),
  };
}

async function coldWorker(ctx: Ctx, dir: string): Promise<void> {
  const note = (why: string) =>
    ctx.figures.push({ id: "startup.coldWorkerFloorMultiple", case: "startup", figure: "start-up: a cold worker running one trivial `.ts` job, as a multiple of the floor", value: null, unit: "× floor", target: { op: "<=", value: 2.5 }, note: why });
  if (!existsSync(WORKER)) return void note(`not built: ${WORKER} is missing`);
  if (!ctx.floorMs) return void note("no floor measured");
  const store = await trivialJobStore(dir, "cold-store");
  const k = ctx.quick ? 3 : 9;
  const times: number[] = [];
  const floors: number[] = [];
  for (let i = 0; i < k + 1; i++) {
    const jobId = await store.addJob(i);
    if (i > 0) floors.push(bareNodeMs());
    const t = performance.now();
    const r = spawnSync(process.execPath, [WORKER, store.locator, jobId], { encoding: "utf8", cwd: dir });
    const ms = performance.now() - t;
    if (r.status !== 0) return void note(`the worker exited ${r.status}: ${r.stderr.trim().slice(-300)}`);
    if (i > 0) times.push(ms);
  }
  const ms = median(times);
  const floor = median(floors);
  ctx.figures.push({
    id: "startup.coldWorkerFloorMultiple",
    case: "startup",
    figure: "start-up: a cold worker running one trivial `.ts` job, as a multiple of the floor",
    value: ms / floor,
    unit: "× floor",
    baseline: { value: floor, unit: "ms", label: "bare node, interleaved" },
    target: { op: "<=", value: 2.5 },
    published: "a Toil worker start: 220 ms",
    note: `${ms.toFixed(0)} ms (median of ${k}; each a fresh \`node toil-worker\` process loading the worker, the store and the job's module); ${floorNote(ctx, floors)}`,
  });
}

/**
 * Cold workers one after another on one store (what a batch system that starts a process per job
 * does): the last ten against the first ten. Each process reads every log of the store, so this
 * stays near 1 only while processes run one after another do not each add a log (they continue the
 * log the one before released; see @toil/filestore's "Handing a log over").
 */
async function coldWorkersInARow(ctx: Ctx, dir: string): Promise<void> {
  const id = "startup.coldWorkersInARowLastToFirst";
  const figure = "start-up: 60 cold workers in a row on one store, the last ten against the first ten (median)";
  if (!existsSync(WORKER)) return;
  const store = await trivialJobStore(dir, "in-a-row-store");
  const jobIds: string[] = [];
  for (let i = 0; i < 60; i++) jobIds.push(await store.addJob(i));
  await store.close();
  const times: number[] = [];
  for (const jobId of jobIds) {
    const t = performance.now();
    const r = spawnSync(process.execPath, [WORKER, store.locator, jobId], { encoding: "utf8", cwd: dir });
    times.push(performance.now() - t);
    if (r.status !== 0) return void ctx.figures.push({ id, case: "startup", figure, value: null, unit: "×", note: `a worker exited ${r.status}: ${r.stderr.trim().slice(-300)}` });
  }
  const first = median(times.slice(0, 10));
  const last = median(times.slice(-10));
  const logs = readdirSync(join(dir, "in-a-row-store", "log")).filter((f) => f.endsWith(".log")).length;
  ctx.figures.push({
    id,
    case: "startup",
    figure,
    value: last / first,
    unit: "×",
    baseline: { value: first, unit: "ms", label: "first ten" },
    note: `first ten ${first.toFixed(0)} ms, last ten ${last.toFixed(0)} ms; the store has ${logs} log${logs === 1 ? "" : "s"} after them`,
  });
}

export async function startupCase(ctx: Ctx): Promise<void> {
  const dir = mkdtempSync(join(ctx.tmp, "startup-"));
  ctx.log("start-up: hello world, toil --help, a cold worker...");
  try {
    helloWorld(ctx, dir);
    helpRatio(ctx);
    await coldWorker(ctx, dir);
    if (!ctx.quick) await coldWorkersInARow(ctx, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
