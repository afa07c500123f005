import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { externalBatchId, MessageBus } from "@toil/bus";
import { BatchJobExitReason } from "@toil/batch-core";
import { afterEach, describe, expect, it, onTestFinished } from "vitest";
import { cleanup, desc, makeBatchSystem, next, tempDir, until } from "./helpers.js";
import { localJobArgv } from "../src/command.js";

afterEach(cleanup, 60_000);

/** A job that starts a tree of signal-ignoring processes holding a shared lock on `lock`. */
function lockHoldingJob(lock: string, ready: string, hide: boolean): string {
  // Each level ignores TERM/INT/HUP; the second level starts in a new session (setsid), and with
  // `hide` the job's own shell exits right away, orphaning the tree.
  const leaf = `trap '' TERM INT HUP; exec flock -s ${lock} sleep 1000`;
  const mid = `trap '' TERM INT HUP; setsid sh -c \\"${leaf}\\" & flock -s ${lock} sleep 1000 & touch ${ready}; wait`;
  const tail = hide ? `while [ ! -e ${ready} ]; do sleep 0.05; done; exit 0` : "wait";
  return `sh -c "trap '' TERM INT HUP; setsid sh -c '${mid}' & ${tail}"`;
}

function lockIsFree(lock: string): boolean {
  return spawnSync("flock", ["-x", "-n", lock, "true"]).status === 0;
}

describe("process trees (scenario 78)", () => {
  for (const hide of [false, true]) {
    it(`shutdown kills every descendant of a job${hide ? " that orphaned itself" : ""}, even signal-ignoring ones in other sessions`, async () => {
      const dir = tempDir();
      const lock = join(dir, "lock");
      const ready = join(dir, "ready");
      writeFileSync(lock, "");
      const bs = makeBatchSystem({}, { warmWorkers: false });
      await bs.issueBatchJob(lockHoldingJob(lock, ready, hide), desc("escape"));
      await until("the tree holds the lock", () => existsSync(ready) && !lockIsFree(lock));
      if (hide) await next(bs); // the job's own process ended; its descendants live on
      await bs.shutdown();
      expect(lockIsFree(lock)).toBe(true);
    }, 60_000);
  }

  it("kill of a job takes its escaped descendants down too", async () => {
    const dir = tempDir();
    const lock = join(dir, "lock");
    const ready = join(dir, "ready");
    writeFileSync(lock, "");
    const bs = makeBatchSystem({}, { warmWorkers: false });
    const id = await bs.issueBatchJob(lockHoldingJob(lock, ready, false), desc("escape"));
    await until("the tree holds the lock", () => existsSync(ready) && !lockIsFree(lock));
    await bs.killBatchJobs([id]);
    expect(lockIsFree(lock)).toBe(true);
    expect(await bs.getUpdatedBatchJob(0)).toBeNull();
  }, 60_000);
});

describe("exit statuses", () => {
  it("reports 128 + signal for a job killed by a signal", async () => {
    const bs = makeBatchSystem({}, { warmWorkers: false });
    await bs.issueBatchJob("sh -c 'kill -TERM $$'", desc("term"));
    const u = await next(bs);
    expect(u.exitStatus).toBe(143);
    expect(u.exitReason).toBe(BatchJobExitReason.KILLED);
  });

  it("a command that cannot be started is a clear, immediate failure", async () => {
    const warnings: string[] = [];
    const bs = makeBatchSystem({}, { warmWorkers: false, logger: (_l, m) => warnings.push(m) });
    const id = await bs.issueBatchJob("/no/such/program --x", desc("missing"));
    const u = await next(bs);
    expect(u).toMatchObject({ jobId: id, exitStatus: 127, exitReason: BatchJobExitReason.ERROR });
    expect(warnings.join()).toMatch(/\/no\/such\/program/);
    // The shell path reports the shell's own 127.
    await bs.issueBatchJob("/no/such/program && true", desc("missing-shell"));
    expect((await next(bs)).exitStatus).toBe(127);
  });

  it("reports wall time and the pid as backing id, and publishes ExternalBatchId on the bus", async () => {
    const bs = makeBatchSystem({}, { warmWorkers: false });
    const bus = new MessageBus();
    const seen: unknown[] = [];
    bus.subscribe("ExternalBatchId", (m) => seen.push(m));
    bs.setMessageBus(bus);
    const id = await bs.issueBatchJob("sleep 0.2", desc("timed"));
    const u = await next(bs);
    expect(u.wallTime).toBeGreaterThanOrEqual(0.15);
    expect(Number(u.backingId)).toBeGreaterThan(0);
    bus.check();
    expect(seen).toEqual([
      { ...externalBatchId({ batchId: id, externalBatchId: u.backingId as string, batchSystem: "single_machine" }), time: expect.any(Number) },
    ]);
  });

  it("writes per-job std-out/err files when asked", async () => {
    const logs = tempDir();
    const bs = makeBatchSystem({}, { warmWorkers: false, stdio: "files" }, { batchLogsDir: logs });
    const id = await bs.issueBatchJob("sh -c 'echo out; echo err >&2'", desc("io"));
    await next(bs);
    expect(readFileSync(bs.formatStdOutErrPath(id, "local", "out"), "utf8")).toBe("out\n");
    expect(readFileSync(bs.formatStdOutErrPath(id, "local", "err"), "utf8")).toBe("err\n");
  });

  it("hands a job's stdout/stderr to the output option instead of the leader's own", async () => {
    const seen: Record<string, string> = { stdout: "", stderr: "" };
    const bs = makeBatchSystem({}, { warmWorkers: false, output: (stream, chunk) => (seen[stream] += chunk.toString()) });
    await bs.issueBatchJob("sh -c 'echo out; echo err >&2'", desc("io"));
    expect((await next(bs)).exitStatus).toBe(0);
    for (let i = 0; i < 100 && (seen.stdout === "" || seen.stderr === ""); i++) await new Promise((r) => setTimeout(r, 20));
    expect(seen).toEqual({ stdout: "out\n", stderr: "err\n" });
  });

  it("runs plain commands without a shell and others through /bin/sh", async () => {
    const dir = tempDir();
    const bs = makeBatchSystem({}, { warmWorkers: false });
    await bs.issueBatchJob(`sh -c 'echo $0 > ${dir}/argv0' "hello world"`, desc("quoted"));
    await bs.issueBatchJob(`echo piped | cat > ${dir}/piped`, desc("shell"));
    await next(bs);
    await next(bs);
    expect(readFileSync(join(dir, "argv0"), "utf8")).toBe("hello world\n");
    expect(readFileSync(join(dir, "piped"), "utf8")).toBe("piped\n");
    // What each line was executed as: its own words, or the shell.
    expect(localJobArgv(`sh -c 'echo $0 > ${dir}/argv0' "hello world"`, { jobName: "quoted" })).toEqual([
      "sh",
      "-c",
      `echo $0 > ${dir}/argv0`,
      "hello world",
    ]);
    expect(localJobArgv(`echo piped | cat > ${dir}/piped`, { jobName: "shell" })).toBeNull();
  });
});

describe("process identity", () => {
  it("a pid with its start time names one process: stable while it runs, another for the next process, null once gone", async () => {
    const { processStartTime } = await import("../src/process-tree.js");
    const mine = processStartTime(process.pid);
    expect(mine).toMatch(/^\d+$/);
    expect(processStartTime(process.pid)).toBe(mine);
    // A child started 50 ms from now has a later start time (clock ticks are 10 ms).
    await new Promise((r) => setTimeout(r, 50));
    const child = spawnSync(process.execPath, ["-e", "console.log(require('fs').readFileSync('/proc/self/stat', 'utf8'))"], { encoding: "utf8" });
    const childStat = child.stdout;
    const childStart = childStat.slice(childStat.lastIndexOf(")") + 2).split(" ")[19];
    expect(Number(childStart)).toBeGreaterThan(Number(mine));
    expect(processStartTime(child.pid!)).not.toBe(childStart);
  });
});

describe("the sweep after a job ends", () => {
  it("kills a process it saw carrying the job's marker, but not another process that reused its pid", async () => {
    const { processStartTime } = await import("../src/process-tree.js");
    const { EscapedProcessSweeper } = await import("../src/escaped-processes.js");
    const { spawn } = await import("node:child_process");
    // Two unrelated processes the sweep was told it saw with job 7's marker: one as the very same
    // process (same start time), one as an earlier process with its pid (another start time).
    const same = spawn("sleep", ["30"], { stdio: "ignore" });
    const reused = spawn("sleep", ["30"], { stdio: "ignore" });
    onTestFinished(() => {
      same.kill("SIGKILL");
      reused.kill("SIGKILL");
    });
    await until("both sleeps run", () => processStartTime(same.pid!) !== null && processStartTime(reused.pid!) !== null);
    const seen = new Map([
      [same.pid!, { owner: 7, start: processStartTime(same.pid!)! }],
      [reused.pid!, { owner: 7, start: String(Number(processStartTime(reused.pid!)) - 1) }],
    ]);
    const sweeper = new EscapedProcessSweeper("TOIL_BATCH_LOCAL_JOB=test-token.", () => false, seen);
    sweeper.jobEnded(7);
    sweeper.stop();
    expect(sweeper.sweep()).toEqual([same.pid]);
    await until("the sweep killed the job's process", () => same.signalCode !== null);
    expect(same.signalCode).toBe("SIGKILL");
    // The reused pid was read again: it carries no marker, so it is known as nobody's.
    expect(seen.get(reused.pid!)?.owner).toBeNull();
  });

  it("leaves a job's processes alone while that job runs again, and does nothing for jobs that did not end", async () => {
    const { EscapedProcessSweeper } = await import("../src/escaped-processes.js");
    const { spawn } = await import("node:child_process");
    const marked = spawn("sleep", ["30"], { stdio: "ignore", env: { ...process.env, TOIL_BATCH_LOCAL_JOB: "t2.4" } });
    onTestFinished(() => void marked.kill("SIGKILL"));
    await until("the sleep runs", () => marked.pid !== undefined && existsSync(`/proc/${marked.pid}`));
    let running = true;
    const sweeper = new EscapedProcessSweeper("TOIL_BATCH_LOCAL_JOB=t2.", () => running);
    sweeper.stop();
    expect(sweeper.sweep()).toEqual([]); // job 4 has not ended
    sweeper.jobEnded(4);
    sweeper.stop();
    expect(sweeper.sweep()).toEqual([]); // it runs again
    running = false;
    sweeper.jobEnded(4);
    sweeper.stop();
    expect(sweeper.sweep()).toEqual([marked.pid]);
  });
});
