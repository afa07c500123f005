// How @toil/batch-slurm's job pack runner and worker host run one Toil job inside a Slurm job.
//
// A job is { id, argv, command, out, err }: `argv` is the exact argument array (run without a
// shell), or null for a job issued as a shell command line (run by `sh -c`). A job whose argv is
// `<node> <script.js|.mjs|.cjs> ...`, where the script's source mentions `runWarmCommand` and the
// script exports it, runs in this process (the script is imported once and kept); any other argv
// runs as a child process. A script is never imported unless its source mentions the export, so a
// script with top-level side effects never runs twice.
//
// The script may call `io.retire(reason)` (the toil worker does when a job's code left an error
// unhandled, even after the job ended): this process is then unfit for more jobs in itself. Later
// jobs of a pack run as child processes; a worker host exits once its job is done (see onUnfit).
import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync, statSync, writeSync } from "node:fs";
import { basename, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { redirectOutput } from "@toil/batch-core/runtime/redirect-output.mjs";
import { oomKills } from "./cgroup-memory.mjs";

const modules = new Map();

// Why a script said this process must run no more jobs in itself, and who wants to know.
let unfitReason = null;
const unfitListeners = [];

/** Why this process must run no more jobs in itself (a job left an error unhandled), or null. */
export function unfit() {
  return unfitReason;
}

/** Calls `listener(reason)` once when the process becomes unfit (at once if it already is). */
export function onUnfit(listener) {
  if (unfitReason !== null) listener(unfitReason);
  else unfitListeners.push(listener);
}

function retire(reason) {
  if (unfitReason !== null) return;
  unfitReason = String(reason);
  for (const listener of unfitListeners.splice(0)) {
    try {
      listener(unfitReason);
    } catch {
      // a listener's failure must not hide the fault
    }
  }
}

function mentionsWarmEntry(script) {
  try {
    return statSync(script).isFile() && readFileSync(script, "utf8").includes("runWarmCommand");
  } catch {
    return false;
  }
}

/** The script's `runWarmCommand` when `argv` runs such a script with node, else undefined. */
export async function warmEntry(argv, cwd) {
  if (!Array.isArray(argv) || argv.length < 2 || !/^node(js)?(\d+)?$/.test(basename(argv[0]))) return undefined;
  const script = resolve(cwd, argv[1]);
  if (!/\.(c|m)?js$/.test(script)) return undefined;
  let loading = modules.get(script);
  if (!loading) {
    loading = mentionsWarmEntry(script)
      ? import(pathToFileURL(script).href).then(
          (m) => (typeof m.runWarmCommand === "function" ? m.runWarmCommand : undefined),
          () => undefined,
        )
      : Promise.resolve(undefined);
    modules.set(script, loading);
  }
  return loading;
}

function osSignal(name) {
  const n = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15 }[name];
  return n ?? 0;
}

/** The child process of the job running now, if it runs as one (so it can be killed). */
let currentChild;

/** Kills the job's child process group, if the running job is one. */
export function killRunningChild() {
  const child = currentChild;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
}

function runChild(job, env, cwd, out, err) {
  return new Promise((done) => {
    const o = openSync(out, "a", 0o600);
    const e = openSync(err, "a", 0o600);
    const [file, ...args] = Array.isArray(job.argv) ? job.argv : ["/bin/sh", "-c", job.command];
    let child;
    try {
      child = spawn(file, args, { stdio: ["ignore", o, e], env, cwd, detached: true });
    } catch (error) {
      writeSync(e, `toil: cannot start job ${job.id}: ${error && error.message ? error.message : error}\n`);
      closeSync(o);
      closeSync(e);
      done(127);
      return;
    }
    closeSync(o);
    closeSync(e);
    currentChild = child;
    child.on("error", (error) => {
      try {
        const fd = openSync(err, "a", 0o600);
        writeSync(fd, `toil: cannot start job ${job.id}: ${error && error.message ? error.message : error}\n`);
        closeSync(fd);
      } catch {
        // the log is not writable: the status says enough
      }
      done(error && error.code === "EACCES" ? 126 : 127);
    });
    child.on("exit", (code, signal) => done(code ?? 128 + (signal ? osSignal(signal) : 0)));
  }).finally(() => {
    currentChild = undefined;
  });
}

/**
 * Runs one job as a child process; a child killed by the cgroup's out-of-memory handler (SIGKILL
 * while the cgroup's count of such kills grew) is flagged `oom`.
 */
async function runChildJob(job, env, cwd, out, err) {
  const before = oomKills();
  const code = await runChild(job, env, cwd, out, err);
  if (code !== 137 || before === undefined) return { code, oom: false };
  const after = oomKills();
  if (after === undefined || after <= before) return { code, oom: false };
  try {
    const fd = openSync(err, "a", 0o600);
    writeSync(fd, `toil: job ${job.id} was killed by the cgroup out-of-memory handler (oom-kill event in its Slurm job's memory cgroup): it used more memory than it asked for.\n`);
    closeSync(fd);
  } catch {
    // the log is not writable: the status says enough
  }
  return { code, oom: true };
}

/**
 * Runs one job and resolves to `{ code, oom }`: its exit status, and whether the cgroup's
 * out-of-memory handler killed it (only told apart for a job run as a child process: one that
 * runs in this process takes the process with it). `baseEnv` is the environment every job starts
 * from (the Slurm job's own); the job's `env` (if any) is laid over it, and `process.env` and the
 * working directory are reset to it for a job that runs in this process. `taskId` replaces `%T`
 * in the job's log paths.
 */
export async function runJob(job, { baseEnv, cwd, taskId }) {
  const env = { ...baseEnv, ...(job.env ?? {}) };
  const out = job.out.replace("%T", taskId);
  const err = job.err.replace("%T", taskId);
  const warm = unfitReason === null ? await warmEntry(job.argv, cwd) : undefined;
  if (!warm) return runChildJob(job, env, cwd, out, err);
  // A job may change the environment or the directory: each starts from the Slurm job's own.
  for (const k of Object.keys(process.env)) if (!(k in env)) delete process.env[k];
  for (const [k, v] of Object.entries(env)) if (process.env[k] !== v) process.env[k] = v;
  try {
    process.chdir(cwd);
  } catch {
    // keep the current directory; the job sees io.cwd
  }
  const restoreOut = out === "/dev/null" ? () => {} : redirectOutput(process.stdout, out, 0o600);
  const restoreErr = err === "/dev/null" ? () => {} : redirectOutput(process.stderr, err, 0o600);
  let code;
  try {
    code = await warm(job.argv, {
      env: { ...env },
      cwd,
      ...(out !== "/dev/null" ? { stdoutPath: out } : {}),
      ...(err !== "/dev/null" ? { stderrPath: err } : {}),
      retire,
    });
  } catch (e) {
    process.stderr.write(`toil: job ${job.id} threw: ${e && e.stack ? e.stack : e}\n`);
    code = 1;
  } finally {
    restoreOut();
    restoreErr();
  }
  if (code === undefined) return { code: 0, oom: false };
  return { code: typeof code === "number" && Number.isInteger(code) ? code & 0xff : 1, oom: false };
}
