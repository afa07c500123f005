// Worker host of @toil/batch-slurm: one Slurm job (an array task) that runs Toil jobs one at a
// time, as the leader hands them out, until it has been idle for a while.
//
//   node worker-host.mjs <hosts dir>
//
// Everything goes through files in the hosts directory, on the shared file system (no network
// port): <dir>/config.json (settings), <dir>/control (the leader's heartbeat: its content changes
// every few seconds; "stop ..." means stop now), <dir>/in/<key> (jobs for this host, one JSON line
// each, appended by the leader) and <dir>/out/<key> (what this host says, one JSON line each,
// appended by it). <key> is "<array id>_<task>". Both files only grow, and each has one writer,
// so a reader that opens them anew sees every complete line (close-to-open consistency on NFS).
//
// In:  {"t":"run","seq":n,"id":batchId,"argv":[...]|null,"command":"...","env":{...},"out":path,"err":path}
//      {"t":"stop"}                                  exit once idle
// Out: {"t":"ready","pid":..,"node":..,"uptime":s}  loaded and waiting
//      {"t":"start","seq":n}                         began job n (written before it runs)
//      {"t":"done","seq":n,"code":c,"wall":s,"oom"?:true}  job n ended with status c (oom: the
//                                                    cgroup's out-of-memory handler killed it)
//      {"t":"draining"}                              Slurm's time limit is near: no new jobs
//      {"t":"exit","why":"idle"|"stop"|"leader"|"time"|"signal"|"memory"|"retire","reason"?:".."}
//                                                    (retire: a job's code left an error unhandled,
//                                                    so this process runs no more jobs; reason says which)
// Once "exit" is written the host starts nothing more: a job handed to it after that (no "start"
// line) never ran, and the leader gives it to another host. A host whose leader's heartbeat has not
// changed for leaderTimeoutSeconds kills the job it runs (if any), cancels the hosts of its
// leader still pending in Slurm (the array ids are in <dir>/arrays), and exits.
import { spawnSync } from "node:child_process";
import { appendFileSync, closeSync, fstatSync, openSync, readFileSync, readSync, watch } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { anonMemory, memoryLimit } from "./cgroup-memory.mjs";
import { killRunningChild, onUnfit, runJob, unfit } from "./run-job.mjs";

const dir = process.argv[2];
const key =
  process.env.SLURM_ARRAY_JOB_ID && process.env.SLURM_ARRAY_TASK_ID
    ? `${process.env.SLURM_ARRAY_JOB_ID}_${process.env.SLURM_ARRAY_TASK_ID}`
    : (process.env.SLURM_JOB_ID ?? String(process.pid));
const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
const inbox = join(dir, "in", key);
const outbox = join(dir, "out", key);
const control = join(dir, "control");
const baseEnv = { ...process.env };
const cwd = process.cwd();
const idleMs = Number(config.idleSeconds) * 1000;
const leaderTimeoutMs = Number(config.leaderTimeoutSeconds) * 1000;

let exited = false;
let draining = false;
let busy = false;
let idleSince = Date.now();

function say(message) {
  appendFileSync(outbox, `${JSON.stringify(message)}\n`);
}

// The leader is gone: nobody will cancel the hosts still pending in Slurm, so the first host to
// notice does (the leader lists its host arrays in <dir>/arrays). A cluster that does not allow
// scancel on compute nodes leaves them pending; each exits at once when it starts (see checkLeader).
function cancelPendingHosts() {
  let ids;
  try {
    ids = readFileSync(join(dir, "arrays"), "utf8").split("\n").filter((l) => /^\d+$/.test(l));
  } catch {
    return;
  }
  if (ids.length > 0) spawnSync("scancel", ["--state=PENDING", ...ids], { stdio: "ignore", timeout: 10_000 });
}

function exit(why, code = 0) {
  if (why === "leader") cancelPendingHosts();
  if (!exited) {
    exited = true;
    try {
      say({ t: "exit", why, ...(why === "retire" ? { reason: unfit() } : {}) });
    } catch {
      // the directory is gone: the leader has cleaned up
    }
  }
  killRunningChild();
  process.exit(code);
}

// ---- the leader's heartbeat

let lastBeat;
let lastBeatChange = Date.now();
let firstCheck = true;
function checkLeader() {
  let beat;
  let age = 0;
  try {
    const fd = openSync(control, "r");
    try {
      age = Date.now() - fstatSync(fd).mtimeMs;
      beat = readFileSync(fd, "utf8");
    } finally {
      closeSync(fd);
    }
  } catch {
    beat = undefined;
  }
  if (beat !== undefined && beat.startsWith("stop")) exit("stop");
  // A host that starts long after its leader's last heartbeat (it was pending while the leader
  // died) need not wait for the timeout again.
  if (firstCheck && age > leaderTimeoutMs) exit("leader");
  firstCheck = false;
  if (beat !== lastBeat) {
    lastBeat = beat;
    lastBeatChange = Date.now();
  } else if (Date.now() - lastBeatChange > leaderTimeoutMs) {
    exit("leader");
  }
}
setInterval(checkLeader, Math.max(200, Math.min(2000, leaderTimeoutMs / 10))).unref();

// ---- signals: Slurm's time-limit warning (SIGINT, --signal=B:INT@30) and cancellation (SIGTERM)

process.on("SIGINT", () => {
  draining = true;
  try {
    say({ t: "draining" });
  } catch {
    // nothing to tell
  }
  if (!busy) exit("time");
});
process.on("SIGTERM", () => exit("signal", 143));

// ---- unfit: a job's code left an error unhandled (a rejection, or an exception from a timer, even
// one that fires after its job ended). The job it came from is failed by the worker; this process
// runs no further job, so the next gets a fresh host.

onUnfit(() => {
  if (!busy) exit("retire");
});

// ---- memory: a host that keeps more after its jobs than it did after its first one, by a quarter
// of its room, is replaced by a fresh one, so a job never starts with much less room than it
// would have in a process of its own. (What a job leaves reachable, and what the runtime keeps,
// add up over thousands of jobs.)

const limit = memoryLimit();
let baseline;
function grown() {
  if (limit === undefined) return false;
  let used = anonMemory();
  if (used === undefined) return false;
  if (baseline === undefined) {
    baseline = used;
    return false;
  }
  const allowed = baseline + 0.25 * Math.max(0, limit - baseline);
  if (used <= allowed) return false;
  if (typeof globalThis.gc === "function") {
    globalThis.gc();
    used = anonMemory() ?? used;
  }
  return used > allowed;
}

// ---- the inbox

let offset = 0;
let partial = "";
function readInbox() {
  let fd;
  try {
    fd = openSync(inbox, "r");
  } catch {
    return [];
  }
  try {
    const size = fstatSync(fd).size;
    if (size <= offset) return [];
    const buf = Buffer.alloc(size - offset);
    const n = readSync(fd, buf, 0, buf.length, offset);
    offset += n;
    const text = partial + buf.subarray(0, n).toString("utf8");
    const lines = text.split("\n");
    partial = lines.pop() ?? "";
    return lines.filter((l) => l.trim() !== "").map((l) => JSON.parse(l));
  } finally {
    closeSync(fd);
  }
}

let wake;
function waitForWork(ms) {
  return new Promise((resolveWait) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      wake = undefined;
      resolveWait();
    }
    wake = done;
  });
}

// The inbox may not exist yet: create it, so it can be watched (the leader appends to it).
appendFileSync(inbox, "");
try {
  watch(inbox, { persistent: false }, () => wake?.());
} catch {
  // no change notifications here (for example NFS): the polling below still finds new jobs
}

say({ t: "ready", pid: process.pid, node: hostname(), uptime: process.uptime() });
checkLeader();

let pollMs = 5;
for (;;) {
  for (const message of readInbox()) {
    if (exited) break;
    if (message.t === "stop") exit("stop");
    if (message.t !== "run") continue;
    busy = true;
    say({ t: "start", seq: message.seq });
    const began = Date.now();
    const { code, oom } = await runJob(message, { baseEnv, cwd, taskId: key });
    say({ t: "done", seq: message.seq, code, wall: (Date.now() - began) / 1000, ...(oom ? { oom: true } : {}) });
    busy = false;
    idleSince = Date.now();
    pollMs = 5;
    if (unfit() !== null) exit("retire");
    if (draining) exit("time");
    if (grown()) exit("memory");
  }
  if (Date.now() - idleSince >= idleMs) exit("idle");
  await waitForWork(Math.min(pollMs, Math.max(1, idleSince + idleMs - Date.now())));
  // Poll quickly right after a job (the next one usually follows at once), then back off.
  pollMs = Math.min(pollMs * 1.5, 1000);
}
