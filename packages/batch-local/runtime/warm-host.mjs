// Warm worker host of @toil/batch-local. Runs one job at a time, sent over the IPC channel:
// { t: "run", id, script, argv, env, cwd, stdoutPath?, stderrPath? }. It imports the script
// (cached between jobs), applies the job's environment and working directory, and calls the
// script's `runWarmCommand(argv, io)`; the resolved number is the job's exit status. If the
// script does not export `runWarmCommand`, the host answers "notWarm" and the batch system
// runs the command as a fresh process. A crash (or process.exit) of the host ends only the job
// it was running: the batch system reports the host's exit status for that job.
import { openSync, closeSync, writeSync } from "node:fs";
import { pathToFileURL } from "node:url";

const hostEnv = { ...process.env };

function applyEnv(env) {
  for (const key of Object.keys(process.env)) if (!(key in env)) delete process.env[key];
  for (const [key, value] of Object.entries(env)) process.env[key] = value;
}

function redirect(stream, path) {
  if (!path) return () => {};
  const fd = openSync(path, "a");
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

async function run(msg) {
  let mod;
  try {
    mod = await import(pathToFileURL(msg.script).href);
  } catch (err) {
    process.stderr.write(`warm host: cannot import ${msg.script}: ${err && err.stack ? err.stack : err}\n`);
    process.send({ t: "notWarm", id: msg.id });
    return;
  }
  if (typeof mod.runWarmCommand !== "function") {
    process.send({ t: "notWarm", id: msg.id });
    return;
  }
  applyEnv(msg.env);
  try {
    process.chdir(msg.cwd);
  } catch {
    // keep the current directory; the job sees io.cwd
  }
  const restoreOut = redirect(process.stdout, msg.stdoutPath);
  const restoreErr = redirect(process.stderr, msg.stderrPath);
  let code;
  try {
    const result = await mod.runWarmCommand(msg.argv, {
      env: msg.env,
      cwd: msg.cwd,
      stdoutPath: msg.stdoutPath,
      stderrPath: msg.stderrPath,
    });
    code = Number.isInteger(result) ? result : result === undefined ? 0 : 1;
  } catch (err) {
    process.stderr.write(`${err && err.stack ? err.stack : err}\n`);
    code = 1;
  } finally {
    restoreOut();
    restoreErr();
    applyEnv(hostEnv);
  }
  process.send({ t: "done", id: msg.id, code: code & 0xff });
}

process.on("message", (msg) => {
  if (msg && msg.t === "run") void run(msg);
});
process.on("disconnect", () => process.exit(0));
process.send({ t: "ready" });
