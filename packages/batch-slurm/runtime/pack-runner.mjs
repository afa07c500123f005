// Job pack runner of @toil/batch-slurm: runs several Toil jobs one after another inside one
// Slurm array task (`--slurmPackJobs`), so they share one worker start.
//
//   node pack-runner.mjs <manifest.json>
//
// The manifest: { dir, jobs: [{ id, argv, command, out, err }] } (see run-job.mjs for how one job
// runs). `out`/`err` contain "%T", replaced by "<array id>_<task>". For each job, in order: if
// <dir>/<id>.cancel exists it is skipped; otherwise <dir>/<id>.started is written, the job runs,
// and its exit status is written to <dir>/<id>.status (through a rename, so a reader never sees
// half a file). If a job ends this process (process.exit, a crash, a signal), the jobs after it
// have no `.started` file and the batch system submits them again.
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runJob } from "./run-job.mjs";

const manifest = JSON.parse(readFileSync(process.argv[2], "utf8"));
const taskId = `${process.env.SLURM_ARRAY_JOB_ID ?? "0"}_${process.env.SLURM_ARRAY_TASK_ID ?? "0"}`;
const baseEnv = { ...process.env };
const cwd = process.cwd();

function writeStatus(id, code) {
  const file = join(manifest.dir, `${id}.status`);
  writeFileSync(`${file}.tmp`, String(code));
  renameSync(`${file}.tmp`, file);
}

for (const job of manifest.jobs) {
  if (existsSync(join(manifest.dir, `${job.id}.cancel`))) continue;
  writeFileSync(join(manifest.dir, `${job.id}.started`), String(Date.now()));
  writeStatus(job.id, (await runJob(job, { baseEnv, cwd, taskId })).code);
}
process.exit(0);
