/**
 * The toil-ts workflow benchmark suite.
 *
 *   node --import tsx tooling/bench/src/main.ts [--quick] [--only case[,case...]] [--profile] [--out DIR]
 *
 * Cases: floor, fanout, chain, files, restart, status (status runs inside the restart case, on its store),
 * services (how soon a service stops after its last client), slurm, bundle (the standalone leader's
 * size and start-up), cwl (toil-cwl-runner next to cwltool: a scatter of 1,000 steps, a one-step tool),
 * startup (hello world, toil --help, a cold .ts worker), million (a fan-out of 1,000,000; full suite or
 * --only million).
 * Writes bench/results.json and bench/results.md at the repository root (or --out DIR).
 * `--profile` instead runs one fanout with `--cpu-prof` on the leader and every worker and prints
 * the heaviest functions of each.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadavg, tmpdir } from "node:os";
import { parseArgs } from "node:util";
import { type Ctx, toilRunArgs } from "./cases/common.js";
import { floorCase } from "./cases/floor.js";
import { fanoutCase } from "./cases/fanout.js";
import { chainCase } from "./cases/chain.js";
import { filesCase } from "./cases/files.js";
import { restartCase } from "./cases/restart.js";
import { bundleCase } from "./cases/bundle.js";
import { cwlCase } from "./cases/cwl.js";
import { servicesCase } from "./cases/services.js";
import { checksumCase } from "./cases/checksum.js";
import { millionCase } from "./cases/million.js";
import { physicalCase, physicalRatios } from "./cases/physical.js";
import { startupCase } from "./cases/startup.js";
import { slurmCase } from "./cases/slurm.js";
import { renderProfile, summarizeProfile } from "./profile.js";
import { environment, writeResults } from "./report.js";
import { CLI, REPO_ROOT, killActive, killPids, runToil } from "./run.js";
import { type WorkflowMode, compileWorkflows, setWorkflowMode, workflowMode } from "./workflows.js";

const CASES = ["floor", "fanout", "chain", "files", "restart", "status", "services", "slurm", "bundle", "cwl", "startup", "million"] as const;
type CaseName = (typeof CASES)[number];

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    only: { type: "string" },
    profile: { type: "boolean", default: false },
    out: { type: "string" },
    sizes: { type: "string" },
    keep: { type: "boolean", default: false },
    workflows: { type: "string" },
    "restart-size": { type: "string" },
    help: { type: "boolean", default: false },
  },
  allowPositionals: false,
});

if (values.help) {
  process.stdout.write(
    "usage: node --import tsx tooling/bench/src/main.ts [--quick] [--only floor,fanout,chain,files,restart,status,services,slurm,bundle,cwl,startup,million] [--sizes 1000,10000] [--restart-size N] [--profile] [--out DIR] [--keep]\n",
  );
  process.exit(0);
}

const log = (m: string): void => {
  process.stdout.write(`[bench] ${m}\n`);
};

const only = new Set<CaseName>();
for (const c of (values.only ?? "").split(",").filter(Boolean)) {
  if (!(CASES as readonly string[]).includes(c)) {
    process.stderr.write(`Unknown case '${c}'; cases are: ${CASES.join(", ")}.\n`);
    process.exit(2);
  }
  only.add(c as CaseName);
}
const wants = (c: CaseName): boolean => only.size === 0 || only.has(c);

if (!existsSync(CLI) && (values.profile || only.size === 0 || [...only].some((c) => c !== "floor" && c !== "bundle"))) {
  process.stderr.write(`The toil CLI is not built (${CLI} is missing). Run \`pnpm build\` at the repository root first.\n`);
  process.exit(2);
}

const tmp = mkdtempSync(join(tmpdir(), "toil-bench-"));
process.on("SIGINT", () => {
  killActive();
  process.exit(130);
});

const gitCommit = (() => {
  if (process.env.TOIL_BENCH_COMMIT) return process.env.TOIL_BENCH_COMMIT;
  try {
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: REPO_ROOT, encoding: "utf8" }).trim();
  } catch {
    return "unknown";
  }
})();

const ctx: Ctx = {
  quick: values.quick ?? false,
  tmp,
  floorMs: null,
  figures: [],
  runs: [],
  emptyWallMs: null,
  emptyLeaderPeakBytes: null,
  cleanup: [],
  log,
};

async function profile(): Promise<void> {
  const n = values.sizes ? Number(values.sizes.split(",")[0]) : ctx.quick ? 1000 : 10_000;
  const dir = join(tmp, "profile");
  const profDir = join(dir, "cpu");
  mkdirSync(profDir, { recursive: true });
  log(`profiling fanout ${n} (leader and every worker host) into ${profDir}`);
  // `--cpu-prof` is refused in NODE_OPTIONS, so a preloaded module runs the inspector's profiler in
  // every node process of the run (the leader, and the worker hosts, which inherit the environment).
  const preload = join(dirname(fileURLToPath(import.meta.url)), "cpu-prof-preload.mjs");
  const r = await runToil({
    args: toilRunArgs("fanout", join(dir, "store"), [], [String(n), join(dir, "sum")]),
    logDir: dir,
    label: "profile",
    timeoutMs: 1_800_000,
    env: { NODE_OPTIONS: `--import=${preload}`, TOIL_BENCH_CPU_PROF_DIR: profDir },
  });
  killPids(r.survivors);
  log(`run exited ${r.code ?? r.signal} in ${(r.wallMs / 1000).toFixed(2)} s`);
  const leaderPid = r.tree.records[0]?.pid;
  const files = readdirSync(profDir).filter((f) => f.endsWith(".cpuprofile"));
  const pidOf = (f: string): number => Number(f.split(".")[1]);
  files.sort((a, b) => (pidOf(a) === leaderPid ? -1 : pidOf(b) === leaderPid ? 1 : pidOf(a) - pidOf(b)));
  const parts: string[] = [
    `# CPU profile of fanout ${n}: ${(r.wallMs / 1000).toFixed(2)} s wall, exit ${r.code ?? r.signal}, load average ${loadavg().map((x) => x.toFixed(1)).join(" / ")}`,
    "",
  ];
  for (const f of files) {
    const pid = pidOf(f);
    const role = pid === leaderPid ? "leader" : f.includes("warm-host") || f.includes("worker") ? "worker host" : "process";
    parts.push(renderProfile(`${role}, pid ${pid} (${f})`, summarizeProfile(join(profDir, f), 25)));
  }
  const outFile = join(values.out ?? join(REPO_ROOT, "bench"), "profile.md");
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, parts.join("\n"));
  log(`${files.length} profiles; summary in ${outFile}${values.keep ? `; raw profiles in ${profDir}` : " (--keep keeps the raw profiles)"}`);
}

let workflowNote = "";

/**
 * Run the `.ts` workflows as they are if the build can; else transpile them to .mjs (and say so).
 * The probe is a 1-link chain: one job, the smallest real run.
 */
async function chooseWorkflowMode(): Promise<void> {
  const forced = values.workflows as WorkflowMode | undefined;
  if (forced !== undefined && forced !== "ts" && forced !== "mjs") throw new Error("--workflows must be ts or mjs");
  if (forced === "mjs") {
    compileWorkflows(["fanout", "chain", "files", "skewed", "cpu", "services"]);
    setWorkflowMode("mjs");
    workflowNote = "workflows transpiled to .mjs (--workflows mjs)";
    return;
  }
  if (forced === "ts") return;
  const probe = async (): Promise<{ ok: boolean; why: string }> => {
    const dir = mkdtempSync(join(tmp, "probe-"));
    const out = join(dir, "out");
    const r = await runToil({ args: toilRunArgs("chain", join(dir, "store"), [], ["1", out]), logDir: dir, label: "probe", timeoutMs: 120_000 });
    killPids(r.survivors);
    const errLine = r.stderr.split("\n").find((l) => /Error|error/.test(l));
    return { ok: r.code === 0 && existsSync(out), why: (errLine ?? `exit ${r.code ?? r.signal}`).slice(0, 240) };
  };
  const ts = await probe();
  if (ts.ok) {
    log("probe: the .ts workflows run as they are");
    return;
  }
  compileWorkflows(["fanout", "chain", "files", "skewed", "cpu", "services"]);
  setWorkflowMode("mjs");
  const mjs = await probe();
  if (mjs.ok) {
    workflowNote = `the .ts workflow files fail in this build (${ts.why}); the suite ran them transpiled to .mjs (same code, types stripped)`;
  } else {
    setWorkflowMode("ts");
    workflowNote = `a 1-job probe workflow failed both as .ts (${ts.why}) and transpiled to .mjs (${mjs.why}); figures below are failures of the engine, not of the workloads`;
  }
  log(`probe: ${workflowNote}`);
}

async function main(): Promise<void> {
  const t0 = performance.now();
  log(`${ctx.quick ? "quick" : "full"} run; temp dir ${tmp}`);
  if (values.profile || only.size === 0 || [...only].some((c) => c !== "floor" && c !== "bundle")) await chooseWorkflowMode();
  if (values.profile) {
    await profile();
    return;
  }
  floorCase(ctx); // every per-job figure is compared with it, so it always runs
  physicalCase(ctx); // so is every per-job figure with one fdatasync and one rename of the store's disk
  if (wants("startup")) await startupCase(ctx);
  if (wants("fanout") || wants("chain") || wants("restart") || wants("status")) {
    const sizes = values.sizes
      ? values.sizes.split(",").map(Number)
      : ctx.quick
        ? [200]
        : [1000, 10_000, 100_000];
    // fanout 0 measures the fixed cost of a run; other figures subtract it.
    await fanoutCase(ctx, wants("fanout") ? [0, ...sizes] : [0]);
  }
  if (wants("chain")) await chainCase(ctx, ctx.quick ? 100 : 10_000, ctx.quick ? 100 : 1000);
  if (wants("files")) {
    await filesCase(ctx);
    checksumCase(ctx);
  }
  if (wants("restart") || wants("status")) {
    await restartCase(ctx, wants("status"), values["restart-size"] ? Number(values["restart-size"]) : undefined);
  }
  if (wants("services")) await servicesCase(ctx);
  // The largest size runs in the full suite only (about half an hour; --only million runs it alone).
  if (!ctx.quick && wants("million")) await millionCase(ctx, undefined);
  if (wants("slurm")) await slurmCase(ctx);
  if (wants("bundle")) await bundleCase(ctx);
  if (wants("cwl")) await cwlCase(ctx);
  physicalRatios(ctx);
  const durationS = (performance.now() - t0) / 1000;
  const outDir = values.out ?? join(REPO_ROOT, "bench");
  const env = { ...environment(ctx.quick, gitCommit), workflows: workflowMode(), ...(workflowNote ? { workflowNote } : {}) };
  const { json, md } = writeResults(outDir, env, ctx.figures, ctx.floorMs, durationS, ctx.runs);
  log(`wrote ${json} and ${md}`);
  process.stdout.write(`\n${(await import("node:fs")).readFileSync(md, "utf8")}`);
  // Wrong results and crashes fail the suite (so CI notices a broken engine); slowness never does,
  // except in quick mode, where every run is small and a time-out means something hangs.
  if (!values.keep) for (const dir of ctx.cleanup) rmSync(dir, { recursive: true, force: true });
  const broken = ctx.runs.filter((r) => !r.ok && (ctx.quick || !r.timedOut));
  if (broken.length > 0) {
    process.stderr.write(`\n[bench] ${broken.length} run(s) failed: ${broken.map((r) => `${r.label} (${r.note ?? "failed"})`).join("; ")}\n`);
    process.exitCode = 1;
  }
}

try {
  await main();
} finally {
  if (!values.keep) rmSync(tmp, { recursive: true, force: true });
}
