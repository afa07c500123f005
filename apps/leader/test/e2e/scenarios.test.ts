/**
 * End-to-end scenarios (numbers from the acceptance list), each through the real `toil` CLI with
 * real worker processes. Workflows: test/fixtures/scenarios.ts.
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync, chmodSync, statSync } from "node:fs";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, expect, test } from "vitest";
import { replayMessageBus } from "@toil/bus";
import { FIXTURES, REPO_ROOT, SMALL, runToil, tempDir } from "./helpers.js";

const REPO_EXAMPLES = path.join(REPO_ROOT, "examples");

const FLOW = path.join(FIXTURES, "scenarios.ts");
const FAST = [...SMALL, "--retryBackoffSeconds", "0"];

function run(scenario: string, args: string[], options: string[] = [], extra: { env?: Record<string, string> } = {}) {
  const dir = tempDir();
  const js = path.join(dir, "js");
  return { dir, js, result: runToil(["run", FLOW, "--jobStore", js, ...FAST, ...options, "--", scenario, ...args], extra) };
}

function runs(dir: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of readdirSync(dir)) if (f.endsWith(".runs")) out[f.slice(0, -5)] = readFileSync(path.join(dir, f), "utf8").length;
  return out;
}

describe("job graph, ordering and promises", { timeout: 300_000 }, () => {
  test("1: static graph runs in order (ABCDEFG) despite bad workers", async () => {
    const d = tempDir();
    const out = path.join(d, "out.txt");
    const { result } = run("static", [out, path.join(d, "counters")], ["--retryCount", "100", "--badWorker", "0.5", "--badWorkerFailInterval", "0.05"]);
    const r = await result;
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(out, "utf8")).toBe("ABCDEFG");
  });

  test("3: retry backoff grows by the factor; 5 tries then FailedJobsError", async () => {
    const d = tempDir();
    const stamps = path.join(d, "stamps");
    const { result } = run("backoff", [stamps], ["--retryCount", "4", "--retryBackoffSeconds", "0.2", "--retryBackoffFactor", "2"]);
    const r = await result;
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("FailedJobsError".slice(0, 0) + "failed job");
    const times = readFileSync(stamps, "utf8").trim().split("\n").map(Number);
    expect(times).toHaveLength(5);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    [200, 400, 800, 1600].forEach((min, i) => expect(gaps[i]).toBeGreaterThanOrEqual(min));
  });

  test("4: a failed job blocks its successor with two parents; no hang", async () => {
    const d = tempDir();
    const { result } = run("trivialDag", [d], ["--retryCount", "0"]);
    const r = await result;
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/failed job/);
    expect(existsSync(path.join(d, "F"))).toBe(true);
    expect(existsSync(path.join(d, "S"))).toBe(false);
  });

  test("5: DAG consistency with a failing grandchild", async () => {
    const d = tempDir();
    const { result } = run("dag", [d], ["--retryCount", "0"]);
    const r = await result;
    expect(r.code).toBe(1);
    expect(existsSync(path.join(d, "S"))).toBe(false);
  });

  test("11: CPU over-use warning only at least 1 s above cores x wall", async () => {
    const { result } = run("busy", []);
    const r = await result;
    expect(r.code, r.stderr).toBe(0);
    const warnings = r.stderr.split("\n").filter((l) => l.includes("may need more cores"));
    // Only the job that spun; the idle one on 0.01 cores gets none.
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("busy");
    expect(warnings[0]).toMatch(/used \d+\.\d\d s of CPU in \d+\.\d\d s with 0\.05 cores requested/);
  });

  test("12: two workflows in a row with different stores each resolve their own promise", async () => {
    for (let i = 0; i < 2; i++) {
      const { result } = run("childPromise", []);
      const r = await result;
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe("1");
    }
  });

  test("15: promised requirements bound concurrency", async () => {
    const d = tempDir();
    const { result } = run("promisedConcurrency", [path.join(d, "m"), "4", "1"], ["--maxCores", "2"]);
    const r = await result;
    expect(r.code, r.stderr).toBe(0);
    const max = Math.max(...readFileSync(path.join(d, "m", "max"), "utf8").trim().split("\n").map(Number));
    expect(max).toBeLessThanOrEqual(2);
  });

  test("16: a disk requirement computed from two files' sizes", async () => {
    const { result } = run("promisedFileDisk", []);
    const r = await result;
    expect(r.code, r.stderr).toBe(0);
  });

  test("23: hello world through a streamed file and a follow-on", async () => {
    const d = tempDir();
    const out = path.join(d, "hello.txt");
    const { result } = run("helloWorld", [out]);
    const r = await result;
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(out, "utf8")).toBe("Hello, World!");
  });

  test("25: tutorials: multiple jobs in order; binary strings via promises", async () => {
    const d = tempDir();
    const file = path.join(d, "steps");
    const a = await run("multipleJobs", [file]).result;
    expect(a.code, a.stderr).toBe(0);
    expect(readFileSync(file, "utf8").trim().split("\n")).toEqual(["first", "second or third", "second or third", "last"]);
    const b = await run("binaryStrings", []).result;
    expect(b.code, b.stderr).toBe(0);
    const strings = JSON.parse(b.stdout) as string[];
    expect(strings).toHaveLength(32);
    expect(strings).toEqual([...strings].sort());
    expect(strings[0]).toBe("00000");
  });

  test("45: diamond of no-op jobs", async () => {
    const r = await run("diamond", []).result;
    expect(r.code, r.stderr).toBe(0);
  });

  test("46: a failing job's log lists the files it touched", async () => {
    const r = await run("cats", [], ["--retryCount", "0"]).result;
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("cats.txt");
    expect(r.stderr).toContain("failing after touching files");
  });

  test("83: OMP_NUM_THREADS follows the job's cores", async () => {
    const r = await runToil(["run", FLOW, "--jobStore", path.join(tempDir(), "js"), ...FAST, "--", "omp"], {
      env: { OMP_NUM_THREADS: "" },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toBe("1 1 2");
  });
});

describe("services", { timeout: 300_000 }, () => {
  const SVC = ["--servicePollingInterval", "0.05"];

  test("26: a child service gets its parent service's start value", async () => {
    const r = await run("serviceSerialization", [], SVC).result;
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toBe("woot child of woot");
  });

  test("27: a job talks to a service through files", async () => {
    const d = tempDir();
    const out = path.join(d, "out");
    const r = await run("echo", [path.join(d, "svc"), "42", out], SVC).result;
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(out, "utf8")).toBe("42");
  });

  test("27 (restart): a service stopped because its client's successor failed starts again on --restart", async () => {
    const d = tempDir();
    const out = path.join(d, "out");
    const allow = path.join(d, "allow");
    const args = ["gatedEcho", path.join(d, "svc"), "42", out, allow];
    const { js, result } = run(args[0]!, args.slice(1), [...SVC, "--retryCount", "0"]);
    const first = await result;
    expect(first.code).toBe(1);
    expect(first.stderr).toMatch(/gatedEchoClient \(\S+\): FAILED/);
    writeFileSync(allow, "");
    const again = await runToil(["run", FLOW, "--jobStore", js, "--restart", ...FAST, ...SVC, "--", ...args]);
    expect(again.code, again.stderr).toBe(0);
    expect(readFileSync(out, "utf8")).toBe("42");
  });

  // A service host whose worker is killed is issued again with a new start flag (and, while its
  // client runs, new terminate/error flags), so the leader waits for the new attempt to start. A
  // run can still fail when the random kills use up a job's tries; --restart must then finish it.
  test("27 (bad workers): services survive worker kills with retries and restarts", async () => {
    const d = tempDir();
    const js = path.join(d, "js");
    const out = path.join(d, "out");
    let ok = false;
    let last = "";
    // Each run can fail when a job's tries run out under the random kills; restarts finish it.
    for (let attempt = 0; attempt < 15 && !ok; attempt++) {
      const restart = attempt > 0 ? ["--restart"] : [];
      const r = await runToil(
        ["run", FLOW, "--jobStore", js, ...restart, ...FAST, ...SVC, "--retryCount", "1", "--badWorker", "0.25", "--badWorkerFailInterval", "0.3", "--", "echo", path.join(d, "svc"), "42", out],
        { timeoutMs: 120_000 },
      );
      expect(r.signal, "the leader hung").toBeNull();
      ok = r.code === 0;
      last = r.stderr;
    }
    expect(ok, last.slice(-3000)).toBe(true);
    expect(readFileSync(out, "utf8")).toBe("42");
  });

  test("29: --maxServiceJobs too small is a clear deadlock error; enough slots works", async () => {
    const d = tempDir();
    const out = path.join(d, "out");
    const bad = await run("threeServices", [out], [...SVC, "--maxServiceJobs", "2", "--deadlockWait", "2"]).result;
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/service deadlocked/);
    expect(bad.stderr).toMatch(/--maxServiceJobs/);
    const good = await run("threeServices", [out], [...SVC, "--maxServiceJobs", "3"]).result;
    expect(good.code, good.stderr).toBe(0);
    expect(readFileSync(out, "utf8")).toBe("woot1 woot2 woot3");
  });

  test("31: nested services start before and stop after their clients", async () => {
    const d = tempDir();
    const counter = path.join(d, "counter");
    const r = await run("nestedServices", [counter], [...SVC, "--maxCores", "2"]).result;
    expect(r.code, r.stderr).toBe(0);
    const [cur, max] = readFileSync(counter, "utf8").split(",").map(Number);
    expect(cur).toBe(0);
    expect(max).toBe(3);
  });
});

describe("checkpoints and restarts", { timeout: 300_000 }, () => {
  test("32: with --retryCount 0 a checkpoint is not retried", async () => {
    const d = tempDir();
    const r = await run("checkpointNotRetried", [d], ["--retryCount", "0"]).result;
    expect(r.code).toBe(1);
    expect(runs(d).checkpoint).toBe(1);
  });

  test("34: a checkpointed workflow fails, then --restart succeeds", async () => {
    const d = tempDir();
    const allow = path.join(d, "allow");
    const { js, result } = run("checkpointRestart", [allow, d], ["--retryCount", "0"]);
    const first = await result;
    expect(first.code).toBe(1);
    expect(existsSync(js)).toBe(true); // kept on error
    writeFileSync(allow, "yes");
    const second = await runToil(["run", FLOW, "--jobStore", js, "--restart", ...FAST]);
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout)).toBe("allowed");
    expect(runs(d).checkpoint).toBe(2);
  });

  test("36: restart reruns only what failed", async () => {
    const d = tempDir();
    const { js, result } = run("resumable", [d], ["--retryCount", "0"]);
    const first = await result;
    expect(first.code).toBe(1);
    const second = await runToil(["run", FLOW, "--jobStore", js, "--restart", ...FAST, "--retryCount", "0"]);
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout)).toBe("resumed");
    const counts = runs(d);
    for (let i = 0; i < 5; i++) expect(counts[`good${i}`]).toBe(1);
    expect(counts.followOn).toBe(2);
    expect(second.stderr).not.toMatch(/failed with exit/);
  });

  test("restart of a missing store and start on an existing store are clear errors that change nothing", async () => {
    const d = tempDir();
    const js = path.join(d, "js");
    const missing = await runToil(["run", FLOW, "--jobStore", js, "--restart", ...FAST]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no workflow to restart/i);
    expect(existsSync(js)).toBe(false);
    const first = await runToil(["run", FLOW, "--jobStore", js, ...FAST, "--retryCount", "0", "--", "resumable", d]);
    expect(first.code).toBe(1);
    // The jobs: the commit logs (and any folded documents), names and sizes.
    const jobsState = () =>
      ["log", "jobs"].flatMap((top) =>
        (readdirSync(path.join(js, top), { recursive: true }) as string[]).map((f) => `${top}/${f}:${statSync(path.join(js, top, f)).size}`),
      );
    const before = jobsState();
    expect(before.length).toBeGreaterThan(0);
    const again = await runToil(["run", FLOW, "--jobStore", js, ...FAST, "--", "resumable", d]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already holds a workflow/);
    expect(jobsState()).toEqual(before);
  });

  test("an unchanged finished workflow returns its stored result on restart", async () => {
    const d = tempDir();
    const js = path.join(d, "js");
    const first = await runToil(["run", FLOW, "--jobStore", js, ...FAST, "--clean", "never", "--", "childPromise"]);
    expect(first.code, first.stderr).toBe(0);
    const again = await runToil(["run", FLOW, "--jobStore", js, "--restart", ...FAST]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout.trim()).toBe("1");
  });

  test("39: import, fail on a trigger, restart after fixing it, export", async () => {
    const d = tempDir();
    const input = path.join(d, "input.txt");
    writeFileSync(input, "data");
    chmodSync(input, 0o755);
    const trigger = path.join(d, "trigger");
    writeFileSync(trigger, "fail");
    const output = path.join(d, "output.txt");
    const { js, result } = run("importExport", [input, trigger, output], ["--retryCount", "0"]);
    expect((await result).code).toBe(1);
    writeFileSync(trigger, "go");
    const r = await runToil(["run", FLOW, "--jobStore", js, "--restart", ...FAST]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(output, "utf8")).toBe("data+appended");
    void statSync;
  });
});

describe("bus, logs, stats", { timeout: 300_000 }, () => {
  test("86: --writeMessages writes a bus log that replays", async () => {
    const d = tempDir();
    const bus = path.join(d, "bus.jsonl");
    const r = await run("diamond", [], ["--writeMessages", bus]).result;
    expect(r.code, r.stderr).toBe(0);
    const jobs = await replayMessageBus(bus);
    expect(jobs.size).toBeGreaterThanOrEqual(1);
    expect([...jobs.values()].every((j) => j.exitCode === 0)).toBe(true);
  });

  test("88: restart works after the bus file's directory was deleted", async () => {
    const d = tempDir();
    const busDir = path.join(d, "busdir");
    const { js, result } = run("resumable", [d], ["--retryCount", "0", "--writeMessages", path.join(busDir, "bus.jsonl")]);
    expect((await result).code).toBe(1);
    rmSync(busDir, { recursive: true, force: true });
    const again = await runToil(["run", FLOW, "--jobStore", js, "--restart", ...FAST]);
    expect(again.code, again.stderr).toBe(0);
  });

  test("89: logToLeader lines reach the leader log; --writeLogs and --writeLogsGzip", async () => {
    const d = tempDir();
    const logs = path.join(d, "logs");
    const r = await run("logging", [], ["--writeLogs", logs, "--writeLogsFromAllJobs"]).result;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/INFO Got message from job .*message from the parent/);
    expect(r.stderr).toMatch(/WARNING Got message from job .*message from the child/);
    const files = readdirSync(logs);
    expect(files.some((f) => f.endsWith(".log"))).toBe(true);
    expect(files.map((f) => readFileSync(path.join(logs, f), "utf8")).join("")).toContain("stdout of the child goes to its log");
    const gz = path.join(d, "gz");
    const r2 = await run("logging", [], ["--writeLogsGzip", gz, "--writeLogsFromAllJobs"]).result;
    expect(r2.code, r2.stderr).toBe(0);
    const gzFiles = readdirSync(gz).filter((f) => f.endsWith(".log.gz"));
    expect(gzFiles.length).toBeGreaterThan(0);
    expect(gunzipSync(readFileSync(path.join(gz, gzFiles[0]!))).length).toBeGreaterThan(0);
  });

  test("94: with --stats a job and its chained child both appear in toil stats", async () => {
    const d = tempDir();
    const js = path.join(d, "js");
    const r = await runToil(["run", FLOW, "--jobStore", js, ...FAST, "--stats", "--", "chain"]);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(js)).toBe(true); // --stats keeps the store
    const stats = await runToil(["stats", js, "--raw"]);
    expect(stats.code, stats.stderr).toBe(0);
    expect(stats.stdout).toContain("chainA");
    expect(stats.stdout).toContain("chainB");
  });
});

describe("deferred functions", { timeout: 300_000 }, () => {
  test("91: a deferred function runs after the job", async () => {
    const d = tempDir();
    const file = path.join(d, "tmpfile");
    const r = await run("defer", [file]).result;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe("true");
    expect(existsSync(file)).toBe(false);
  });

  // Toil's single-machine batch system runs a dead worker's deferred functions at shutdown when no
  // later job on the machine did: here the only job dies and is not retried.
  test("91 (dead worker): a killed job's deferred function runs by the time the leader exits", async () => {
    const d = tempDir();
    const file = path.join(d, "tmpfile");
    const r = await run("deferThenDie", [file], ["--retryCount", "0"]).result;
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/KILLED/);
    expect(existsSync(file)).toBe(false);
  });
});

describe("leader options", { timeout: 300_000 }, () => {
  test("--stopOnFirstFailure ends the run at the first job that fails for good", async () => {
    const d = tempDir();
    const r = await run("failFastAndSlow", [d], ["--retryCount", "0", "--stopOnFirstFailure"]).result;
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--stopOnFirstFailure/);
    expect(existsSync(path.join(d, "slow"))).toBe(false);
  });

  test("--maxJobDuration kills and retries over-long jobs, then fails them", async () => {
    const d = tempDir();
    const r = await run("sleeper", ["60000", path.join(d, "never")], ["--maxJobDuration", "1", "--rescueJobsFrequency", "0.5", "--retryCount", "1"]).result;
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/longer than --maxJobDuration/);
    expect(r.stderr).toMatch(/MAXJOBDURATION/);
  });

  test("--debugWorker runs the jobs inside the leader", async () => {
    const r = await runToil(["run", path.join(REPO_EXAMPLES, "fan-out-fan-in", "flow.ts"), "--jobStore", path.join(tempDir(), "js"), ...FAST, "--debugWorker", "--", "5"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe("30");
    expect(r.stderr).toMatch(/--debugWorker/);
  });
});
