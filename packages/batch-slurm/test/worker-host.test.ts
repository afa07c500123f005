// The worker host script (runtime/worker-host.mjs) on its own, as a process on this machine, with
// its directory written by hand the way the leader writes it: no Slurm needed.
import { type ChildProcess, spawn } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
const HOST = join(here, "..", "runtime", "worker-host.mjs");
const WARM = join(here, "fixtures", "warm-job.mjs");
const KEY = "9_0";

interface Started {
  dir: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  stopBeating(): void;
  send(message: object): void;
  said(): { t: string; [k: string]: unknown }[];
}

const live: Started[] = [];
afterEach(() => {
  for (const h of live.splice(0)) {
    h.child.kill("SIGKILL");
    rmSync(h.dir, { recursive: true, force: true });
  }
});

function startHost(settings: { idleSeconds: number; leaderTimeoutSeconds: number }, beat = true): Started {
  const dir = mkdtempSync(join(tmpdir(), "toil-host-"));
  mkdirSync(join(dir, "in"));
  mkdirSync(join(dir, "out"));
  writeFileSync(join(dir, "config.json"), JSON.stringify(settings));
  writeFileSync(join(dir, "control"), "alive 0000000000000001\n");
  const child = spawn(process.execPath, [HOST, dir], {
    env: { ...process.env, SLURM_ARRAY_JOB_ID: "9", SLURM_ARRAY_TASK_ID: "0", TOIL_HOST_BASE: "base" },
    stdio: ["ignore", "inherit", "inherit"],
  });
  let n = 1;
  const timer = beat ? setInterval(() => writeFileSync(join(dir, "control"), `alive ${String(++n).padStart(16, "0")}\n`), 200) : undefined;
  const exited = new Promise<number | null>((r) =>
    child.on("exit", (code) => {
      if (timer) clearInterval(timer);
      r(code);
    }),
  );
  const h: Started = {
    dir,
    child,
    exited,
    stopBeating: () => clearInterval(timer),
    send: (m) => appendFileSync(join(dir, "in", KEY), `${JSON.stringify(m)}\n`),
    said: () => {
      const file = join(dir, "out", KEY);
      if (!existsSync(file)) return [];
      return readFileSync(file, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { t: string });
    },
  };
  live.push(h);
  return h;
}

async function until(what: string, probe: () => boolean, seconds = 20): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/\) [ZX] /.test(stat);
  } catch {
    return false;
  }
}

function run(seq: number, job: { argv: string[] | null; command?: string; env?: Record<string, string> }, dir: string) {
  return {
    t: "run",
    seq,
    id: seq,
    argv: job.argv,
    command: job.command ?? (job.argv ?? []).join(" "),
    env: job.env ?? {},
    out: join(dir, `job${seq}.out`),
    err: join(dir, `job${seq}.err`),
  };
}

describe("worker host (runtime/worker-host.mjs)", () => {
  it("runs the jobs handed to it one at a time, warm when it can, each with its own environment, logs and status, then exits when idle", async () => {
    const h = startHost({ idleSeconds: 1.5, leaderTimeoutSeconds: 60 });
    await until("ready", () => h.said().some((m) => m.t === "ready"));
    const pids = join(h.dir, "pids");
    h.send(run(1, { argv: [process.execPath, WARM, pids, "0"], env: { TOIL_JOB_VAR: "one" } }, h.dir));
    h.send(run(2, { argv: [process.execPath, WARM, pids, "3"] }, h.dir));
    h.send(run(3, { argv: null, command: `echo "[$TOIL_JOB_VAR|$TOIL_HOST_BASE]"; echo oops >&2; exit 4`, env: { TOIL_JOB_VAR: "three" } }, h.dir));
    expect(await h.exited).toBe(0);
    const said = h.said();
    expect(said.map((m) => m.t)).toEqual(["ready", "start", "done", "start", "done", "start", "done", "exit"]);
    expect(said.filter((m) => m.t === "done").map((m) => [m.seq, m.code])).toEqual([
      [1, 0],
      [2, 3],
      [3, 4],
    ]);
    expect(said.at(-1)).toMatchObject({ t: "exit", why: "idle" });
    // The two warm jobs ran in the host's own process; the shell line in a child with its own variables.
    const ran = readFileSync(pids, "utf8").trim().split("\n");
    expect(ran).toEqual([String(h.child.pid), String(h.child.pid)]);
    expect(readFileSync(join(h.dir, "job1.out"), "utf8")).toContain(`job ${pids}`);
    expect(readFileSync(join(h.dir, "job3.out"), "utf8").trim()).toBe("[three|base]");
    expect(readFileSync(join(h.dir, "job3.err"), "utf8").trim()).toBe("oops");
  });

  it("a job that ends the host's process ends the host with the job's exit code, and nothing after it starts", async () => {
    const h = startHost({ idleSeconds: 30, leaderTimeoutSeconds: 60 });
    const pids = join(h.dir, "pids");
    h.send(run(1, { argv: [process.execPath, WARM, pids, "7", "exit"] }, h.dir));
    h.send(run(2, { argv: [process.execPath, WARM, pids, "0"] }, h.dir));
    expect(await h.exited).toBe(7);
    expect(h.said().map((m) => m.t)).toEqual(["ready", "start"]);
  });

  it("a job whose script retires the process (an error its code left unhandled): the job's status is reported, then the host exits and runs nothing more", async () => {
    const h = startHost({ idleSeconds: 30, leaderTimeoutSeconds: 60 });
    const pids = join(h.dir, "pids");
    h.send(run(1, { argv: [process.execPath, WARM, pids, "5", "retire"] }, h.dir));
    h.send(run(2, { argv: [process.execPath, WARM, pids, "0"] }, h.dir));
    expect(await h.exited).toBe(0);
    expect(h.said().map((m) => m.t)).toEqual(["ready", "start", "done", "exit"]);
    expect(h.said().find((m) => m.t === "done")).toMatchObject({ seq: 1, code: 5 });
    expect(h.said().at(-1)).toEqual({ t: "exit", why: "retire", reason: `job ${pids} left an error unhandled` });
  });

  it("an idle host whose last job retires the process later exits at once, not after its idle time", async () => {
    const h = startHost({ idleSeconds: 60, leaderTimeoutSeconds: 60 });
    const pids = join(h.dir, "pids");
    h.send(run(1, { argv: [process.execPath, WARM, pids, "0", "retireLater"] }, h.dir));
    const began = Date.now();
    expect(await h.exited).toBe(0);
    expect(Date.now() - began).toBeLessThan(30_000);
    expect(h.said().map((m) => m.t)).toEqual(["ready", "start", "done", "exit"]);
    expect(h.said().at(-1)).toEqual({ t: "exit", why: "retire", reason: `job ${pids} left an error unhandled after it ended` });
  });

  it("a host whose leader's heartbeat stops kills the job it runs and exits", async () => {
    const h = startHost({ idleSeconds: 60, leaderTimeoutSeconds: 1 }, false);
    const pidFile = join(h.dir, "sleeper.pid");
    h.send(run(1, { argv: null, command: `echo $$ > '${pidFile}'; exec sleep 300` }, h.dir));
    await until("the job to start", () => existsSync(pidFile) && readFileSync(pidFile, "utf8").trim() !== "");
    const sleeper = Number(readFileSync(pidFile, "utf8"));
    expect(alive(sleeper)).toBe(true);
    expect(await h.exited).toBe(0);
    expect(h.said().at(-1)).toMatchObject({ t: "exit", why: "leader" });
    await until("the job's process to be gone", () => !alive(sleeper), 5);
  });

  it("a host that starts long after its leader's last heartbeat exits at once", async () => {
    const h = startHost({ idleSeconds: 60, leaderTimeoutSeconds: 30 }, false);
    const old = new Date(Date.now() - 120_000);
    utimesSync(join(h.dir, "control"), old, old);
    const began = Date.now();
    expect(await h.exited).toBe(0);
    expect(Date.now() - began).toBeLessThan(10_000);
    expect(h.said().at(-1)).toMatchObject({ t: "exit", why: "leader" });
  });

  it("stops at once when the leader says stop", async () => {
    const h = startHost({ idleSeconds: 60, leaderTimeoutSeconds: 60 });
    await until("ready", () => h.said().some((m) => m.t === "ready"));
    h.stopBeating();
    writeFileSync(join(h.dir, "control"), "stop  0000000000000099\n");
    expect(await h.exited).toBe(0);
    expect(h.said().at(-1)).toMatchObject({ t: "exit", why: "stop" });
  });

  it("Slurm's time-limit warning (SIGINT): the running job finishes, nothing new starts, the host exits", async () => {
    const h = startHost({ idleSeconds: 60, leaderTimeoutSeconds: 60 });
    h.send(run(1, { argv: ["sleep", "1"] }, h.dir));
    await until("the job to start", () => h.said().some((m) => m.t === "start"));
    h.child.kill("SIGINT");
    await until("draining", () => h.said().some((m) => m.t === "draining"));
    h.send(run(2, { argv: ["true"] }, h.dir));
    expect(await h.exited).toBe(0);
    expect(h.said().map((m) => m.t)).toEqual(["ready", "start", "draining", "done", "exit"]);
    expect(h.said().at(-1)).toMatchObject({ why: "time" });
  });
});
