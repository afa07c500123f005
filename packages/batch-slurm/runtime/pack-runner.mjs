// Job pack runner of @toil/batch-slurm: runs several Toil jobs one after another inside one
// Slurm array task (`--slurmPackJobs`), so they share one worker start.
//
//   node pack-runner.mjs <manifest.json>
//
// The manifest: { dir, jobs: [{ id, argv, command, out, err }] }; `argv` is the exact argument
// array (run without a shell), or null for a job issued as a shell command line (run by `sh -c`). `out`/`err` contain "%T", replaced
// by "<array id>_<task>". For each job, in order: if <dir>/<id>.cancel exists it is skipped;
// otherwise <dir>/<id>.started is written, the job runs, and its exit status is written to
// <dir>/<id>.status (through a rename, so a reader never sees half a file). A job whose command is
// `<node> <script> ...` where the script exports `runWarmCommand(argv, io)` runs in this process
// (the script is imported once); any other argv runs as a child process (no shell).
// If a job ends this process (process.exit, a crash, a signal), the jobs after it have no
// `.started` file and the batch system submits them again.
import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const manifest = JSON.parse(readFileSync(process.argv[2], "utf8"));
const taskId = `${process.env.SLURM_ARRAY_JOB_ID ?? "0"}_${process.env.SLURM_ARRAY_TASK_ID ?? "0"}`;
const baseEnv = { ...process.env };
const cwd = process.cwd();
const modules = new Map();

function writeStatus(id, code) {
  const file = join(manifest.dir, `${id}.status`);
  writeFileSync(`${file}.tmp`, String(code));
  renameSync(`${file}.tmp`, file);
}

function redirect(stream, path) {
  const fd = openSync(path, "a", 0o600);
  const original = stream.write;
  stream.write = function (chunk, encoding, cb) {
    if (typeof encoding === "function") {
      cb = encoding;
      encoding = undefined;
    }
    writeSync(fd, typeof chunk === "string" ? Buffer.from(chunk, encoding || "utf8") : chunk);
    if (cb) process.nextTick(cb);
    return true;
  };
  return () => {
    stream.write = original;
    closeSync(fd);
  };
}

async function warmEntry(argv) {
  if (!Array.isArray(argv) || argv.length < 2 || !/^node(js)?(\d+)?$/.test(basename(argv[0]))) return undefined;
  const script = resolve(cwd, argv[1]);
  if (!/\.(c|m)?js$/.test(script) || !existsSync(script)) return undefined;
  let loading = modules.get(script);
  if (!loading) {
    loading = import(pathToFileURL(script).href).then(
      (m) => (typeof m.runWarmCommand === "function" ? m.runWarmCommand : undefined),
      () => undefined,
    );
    modules.set(script, loading);
  }
  return loading;
}

function runChild(job, out, err) {
  return new Promise((done) => {
    const o = openSync(out, "a", 0o600);
    const e = openSync(err, "a", 0o600);
    const [file, ...args] = Array.isArray(job.argv) ? job.argv : ["/bin/sh", "-c", `exec ${job.command}`];
    let child;
    try {
      child = spawn(file, args, { stdio: ["ignore", o, e], env: baseEnv });
    } catch (error) {
      writeSync(e, `toil job pack: cannot start job ${job.id}: ${error && error.message ? error.message : error}\n`);
      closeSync(o);
      closeSync(e);
      done(127);
      return;
    }
    closeSync(o);
    closeSync(e);
    child.on("error", () => done(127));
    child.on("exit", (code, signal) => done(code ?? 128 + (signal ? osSignal(signal) : 0)));
  });
}

function osSignal(name) {
  const n = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15 }[name];
  return n ?? 0;
}

for (const job of manifest.jobs) {
  if (existsSync(join(manifest.dir, `${job.id}.cancel`))) continue;
  writeFileSync(join(manifest.dir, `${job.id}.started`), String(Date.now()));
  const out = job.out.replace("%T", taskId);
  const err = job.err.replace("%T", taskId);
  const warm = await warmEntry(job.argv);
  let code;
  if (warm) {
    // A job may change the environment or the directory: each starts from the task's own.
    for (const k of Object.keys(process.env)) if (!(k in baseEnv)) delete process.env[k];
    Object.assign(process.env, baseEnv);
    process.chdir(cwd);
    const restoreOut = out === "/dev/null" ? () => {} : redirect(process.stdout, out);
    const restoreErr = err === "/dev/null" ? () => {} : redirect(process.stderr, err);
    try {
      code = await warm(job.argv, { env: { ...baseEnv }, cwd, ...(out !== "/dev/null" ? { stdoutPath: out } : {}), ...(err !== "/dev/null" ? { stderrPath: err } : {}) });
    } catch (e) {
      process.stderr.write(`toil job pack: job ${job.id} threw: ${e && e.stack ? e.stack : e}\n`);
      code = 1;
    } finally {
      restoreOut();
      restoreErr();
    }
    if (typeof code !== "number" || !Number.isInteger(code)) code = 1;
  } else {
    code = await runChild(job, out, err);
  }
  writeStatus(job.id, code);
}
process.exit(0);
