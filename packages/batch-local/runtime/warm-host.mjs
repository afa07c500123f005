// Warm worker host of @toil/batch-local. Runs one job at a time, sent over the IPC channel:
// { t: "run", id, script, argv, env | envPatch: { set, unset }, cwd, stdoutPath?, stderrPath? } (the first
// job of a host carries its whole environment, later ones the difference). It imports the script
// (cached between jobs), applies the job's environment and working directory, and calls the
// script's `runWarmCommand(argv, io)`; the resolved number is the job's exit status. If the
// script does not export `runWarmCommand`, the host answers "notWarm" and the batch system
// runs the command as a fresh process. Once its first script is loaded it says { t: "loaded", id }, so
// the batch system can pace how many hosts load at once. A command may call `io.release()` once only
// its commit's sync is left: the host answers { t: "free", id } and may get the next job meanwhile.
// Finished jobs are reported as { t: "done", jobs: [{ id, code }, ...] } (those ending together, in one
// message). A crash (or process.exit) of the host ends only the jobs it was running or syncing: the
// batch system reports the host's exit status for them. When the script says the process is unfit for
// more jobs (io.retire: a job left an error unhandled), the host's next "free" or "done" carries
// `retire: true` (or it says { t: "retire" } while no job runs), and the batch system replaces it.
import { pathToFileURL } from "node:url";
import { syncBuiltinESMExports } from "node:module";
import { redirectOutput } from "@toil/batch-core/runtime/redirect-output.mjs";

// Jobs change the environment through process.env: a proxy over the real one notes that they
// did, so after a job the host reads every variable back only when one was written (reading
// ~100 variables costs a getenv each, a quarter of a millisecond per job).
const realEnv = process.env;
let envWritten = false;
const trackedEnv = new Proxy(realEnv, {
  set(target, key, value) {
    envWritten = true;
    return Reflect.set(target, key, value);
  },
  deleteProperty(target, key) {
    envWritten = true;
    return Reflect.deleteProperty(target, key);
  },
  defineProperty(target, key, descriptor) {
    envWritten = true;
    return Reflect.defineProperty(target, key, descriptor);
  },
});
function trackEnv() {
  process.env = trackedEnv;
  // `import { env } from "node:process"` names the proxy too, even where it was imported before.
  syncBuiltinESMExports();
}
trackEnv();

const hostEnv = { ...realEnv };
// What process.env holds now, as far as this host set it: consecutive jobs of one workflow carry the
// same environment, so only the differences are applied (each process.env write is a setenv call).
let appliedEnv = hostEnv;

function applyEnv(env) {
  if (env === appliedEnv) return;
  for (const key of Object.keys(appliedEnv)) if (!(key in env)) delete realEnv[key];
  for (const key of Object.keys(env)) if (appliedEnv[key] !== env[key]) realEnv[key] = env[key];
  appliedEnv = env;
}

// A job may change process.env itself, or replace the object: then the next job's environment is
// applied against what is really there, so nothing a job set leaks into the next one.
function noteJobEnvChanges() {
  if (process.env !== trackedEnv) trackEnv();
  else if (!envWritten) return;
  envWritten = false;
  const keys = Object.keys(realEnv);
  let changed = keys.length !== Object.keys(appliedEnv).length;
  for (let i = 0; !changed && i < keys.length; i++) changed = realEnv[keys[i]] !== appliedEnv[keys[i]];
  if (changed) appliedEnv = { ...realEnv };
}

const scripts = new Map();
function importScript(script) {
  let loading = scripts.get(script);
  if (!loading) {
    loading = import(pathToFileURL(script).href);
    scripts.set(script, loading);
    loading.catch(() => scripts.delete(script));
  }
  return loading;
}

let saidLoaded = false;
// Why the script said this process must run no more jobs, and whether a job is running now.
let retireReason = null;
let busy = false;
function retire(reason) {
  if (retireReason !== null) return;
  retireReason = String(reason);
  if (!busy && process.connected) process.send({ t: "retire", reason: retireReason });
}

// The environment of the previous job: later jobs arrive as a patch against it.
let lastJobEnv = null;
function jobEnvOf(msg) {
  if (msg.env) return msg.env;
  const env = { ...lastJobEnv };
  for (const key of msg.envPatch.unset) delete env[key];
  Object.assign(env, msg.envPatch.set);
  return env;
}

async function run(msg) {
  const env = jobEnvOf(msg);
  lastJobEnv = env;
  let mod;
  try {
    mod = await importScript(msg.script);
  } catch (err) {
    process.stderr.write(`warm host: cannot import ${msg.script}: ${err && err.stack ? err.stack : err}\n`);
    process.send({ t: "notWarm", id: msg.id });
    return;
  }
  if (typeof mod.runWarmCommand !== "function") {
    process.send({ t: "notWarm", id: msg.id });
    return;
  }
  // The first script is loaded: the batch system may start another host.
  if (!saidLoaded) {
    saidLoaded = true;
    process.send({ t: "loaded", id: msg.id });
  }
  applyEnv(env);
  try {
    process.chdir(msg.cwd);
  } catch {
    // keep the current directory; the job sees io.cwd
  }
  const restoreOut = redirectOutput(process.stdout, msg.stdoutPath);
  const restoreErr = redirectOutput(process.stderr, msg.stderrPath);
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    busy = false;
    restoreOut();
    restoreErr();
    noteJobEnvChanges();
  };
  // The command may say it no longer needs the process (only its commit's sync is left): the
  // host gives back its output and environment at once and tells the batch system, which frees
  // the job's resources and may send the next job while this one's sync finishes.
  // (The leader may be gone: a failed send changes nothing for this job.)
  const release = () => {
    if (restored) return;
    restore();
    if (process.connected) process.send({ t: "free", id: msg.id, ...retiring() }, () => {});
  };
  let code;
  busy = true;
  try {
    const result = await mod.runWarmCommand(msg.argv, {
      env,
      cwd: msg.cwd,
      stdoutPath: msg.stdoutPath,
      stderrPath: msg.stderrPath,
      retire,
      release,
    });
    code = Number.isInteger(result) ? result : result === undefined ? 0 : 1;
  } catch (err) {
    process.stderr.write(`${err && err.stack ? err.stack : err}\n`);
    code = 1;
  } finally {
    restore();
  }
  reportDone(msg.id, code & 0xff);
}

/** What a message says about retiring this host (nothing unless the script asked for it). */
function retiring() {
  return retireReason !== null ? { retire: true, reason: retireReason } : {};
}

// Jobs that end together (their commits share one sync) are reported in one message.
const doneQueue = [];
function reportDone(id, code) {
  doneQueue.push({ id, code });
  if (doneQueue.length === 1) setImmediate(flushDone);
}
function flushDone() {
  const jobs = doneQueue.splice(0);
  // The leader may be gone (killed): then there is nobody to tell, and nothing more to do.
  if (!process.connected) process.exit(0);
  process.send({ t: "done", jobs, ...retiring() }, (err) => {
    if (err) process.exit(0);
  });
}

// A host started before its batch system (see src/prestart.ts) is told to import the script now:
// the first job then finds it loaded. A failed import is left for that job to report.
function preload(msg) {
  importScript(msg.script).then(
    () => {
      if (!saidLoaded && process.connected) {
        saidLoaded = true;
        process.send({ t: "loaded" }, () => {});
      }
    },
    () => {},
  );
}

process.on("message", (msg) => {
  if (msg && msg.t === "run") void run(msg);
  else if (msg && msg.t === "load") preload(msg);
});
process.on("disconnect", () => process.exit(0));
if (process.connected) process.send({ t: "ready" });
