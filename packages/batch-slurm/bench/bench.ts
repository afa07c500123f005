// Throughput of the Slurm batch system on a real cluster: N trivial jobs issued at once, on worker
// hosts (the default), and as Slurm jobs of their own with and without job arrays. Prints jobs/s
// and how many sbatch/squeue/sacct/scancel calls it took.
//   pnpm --filter @toil/batch-slurm bench            (N = 200 and 1000)
//   pnpm --filter @toil/batch-slurm bench --quick    (N = 20)
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { countingRunner, SlurmBatchSystem, spawnCommand } from "../src/index.js";

const quick = process.argv.includes("--quick");
const sizes = quick ? [20] : [200, 1000];

if (spawnSync("sbatch", ["--version"], { stdio: "ignore" }).status !== 0) {
  const msg = "batch-slurm bench: sbatch is not on PATH; no Slurm cluster to measure.";
  if (process.env.TOIL_TEST_REQUIRE_SLURM === "1") {
    console.error(msg);
    process.exit(1);
  }
  console.log(`${msg} Skipped.`);
  process.exit(0);
}

type Mode = "hosts" | "arrays" | "single";
const MODE_OPTIONS: Record<Mode, Record<string, unknown>> = {
  hosts: {},
  arrays: { slurmWorkers: false },
  single: { slurmWorkers: false, slurmArrays: false },
};
const MODE_LABELS: Record<Mode, string> = { hosts: "worker hosts", arrays: "job arrays", single: "one sbatch per job" };

interface Row {
  jobs: number;
  mode: Mode;
  submitSeconds: number;
  totalSeconds: number;
  counts: Record<string, number>;
}

async function run(n: number, mode: Mode): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), "toil-slurm-bench-"));
  let lastSbatchEnd = 0;
  const { runner, counts } = countingRunner(async (cmd, args, opts) => {
    const res = await spawnCommand(cmd, args, opts);
    if (cmd === "sbatch") lastSbatchEnd = performance.now();
    return res;
  });
  const bs = new SlurmBatchSystem(
    { workflowId: `bench${process.pid}`, batchLogsDir: dir, noStdOutErr: true, statePollingWait: 0.5, batchOptions: MODE_OPTIONS[mode] },
    2,
    2 ** 40,
    2 ** 40,
    { runner },
  );
  const requirements = { cores: 1, memory: 100 * 2 ** 20, disk: 0, accelerators: [], preemptible: false };
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await bs.issueBatchJob("true", { jobName: `b${i}`, requirements });
  let done = 0;
  let failed = 0;
  while (done < n) {
    const u = await bs.getUpdatedBatchJob(5);
    if (!u) continue;
    done++;
    if (u.exitStatus !== 0) failed++;
  }
  const end = performance.now();
  await bs.shutdown();
  rmSync(dir, { recursive: true, force: true });
  if (failed) throw new Error(`${failed} of ${n} trivial jobs failed`);
  return { jobs: n, mode, submitSeconds: (lastSbatchEnd - t0) / 1000, totalSeconds: (end - t0) / 1000, counts: { ...counts } };
}

const rows: Row[] = [];
for (const n of sizes) {
  for (const mode of ["single", "arrays", "hosts"] as const) rows.push(await run(n, mode));
}
console.log("| jobs | mode | last sbatch (s) | all ended (s) | jobs/s | sbatch | squeue | sacct | scancel |");
console.log("|---:|---|---:|---:|---:|---:|---:|---:|---:|");
for (const r of rows) {
  const c = (k: string): number => r.counts[k] ?? 0;
  console.log(
    `| ${r.jobs} | ${MODE_LABELS[r.mode]} | ${r.submitSeconds.toFixed(2)} | ${r.totalSeconds.toFixed(2)} | ${(r.jobs / r.totalSeconds).toFixed(1)} | ${c("sbatch")} | ${c("squeue")} | ${c("sacct")} | ${c("scancel")} |`,
  );
}
