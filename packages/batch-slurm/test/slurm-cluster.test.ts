// Tests against a real Slurm cluster (see the package README; CI starts a single-node cluster).
// Everything here runs in one file (hence its length) so the tests never compete for the cluster's CPUs.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  BatchJobExitReason,
  type BatchSystemConfig,
  type Requirements,
  type UpdatedBatchJobInfo,
} from "@toil/batch-core";
import { describeBatchSystemConformance } from "@toil/batch-core/testing";
import { afterEach, describe, expect, it } from "vitest";
import {
  type CommandRunner,
  countingRunner,
  SlurmBatchSystem,
  type SlurmBatchSystemOptions,
  SlurmCommandError,
  spawnCommand,
  UnknownSlurmStateError,
} from "../src/index.js";
import { describeSlurm, requireSlurm } from "../src/testing/index.js";
import { until as waitUntil } from "@toil/test-support";

const MiB = 2 ** 20;
const GiB = 2 ** 30;
const here = dirname(fileURLToPath(import.meta.url));
const node = process.execPath;

const req = (over: Partial<Requirements> = {}): Requirements => ({
  cores: 1,
  memory: 64 * MiB,
  disk: MiB,
  accelerators: [],
  preemptible: false,
  ...over,
});

/** squeue states of Slurm job ids (or array tasks), by key. */
function squeueStates(keys: readonly string[]): Record<string, string> {
  const ids = [...new Set(keys.map((k) => k.split("_")[0]))].join(",");
  const res = spawnSync("squeue", ["-h", "-t", "all", "-r", "-j", ids, "-O", "JobArrayID:|,State:|"], { encoding: "utf8" });
  const out: Record<string, string> = {};
  for (const line of res.stdout.split("\n")) {
    const [k, s] = line.split("|");
    if (k && s) out[k.trim()] = s.trim();
  }
  return out;
}

function scontrolField(key: string, field: string): string | undefined {
  const res = spawnSync("scontrol", ["show", "job", "-o", key], { encoding: "utf8" });
  return new RegExp(`(?:^|\\s)${field}=(\\S*)`).exec(res.stdout)?.[1];
}

/** Slurm's own commands are slow to poll: every 200 ms, for `seconds`. */
function until(what: string, probe: () => Promise<boolean> | boolean, seconds = 60): Promise<void> {
  return waitUntil(what, probe, { timeoutMs: seconds * 1000, intervalMs: 200 });
}

async function collect(bs: SlurmBatchSystem, n: number, seconds = 120): Promise<Map<number, UpdatedBatchJobInfo>> {
  const out = new Map<number, UpdatedBatchJobInfo>();
  const deadline = Date.now() + seconds * 1000;
  while (out.size < n) {
    if (Date.now() > deadline) throw new Error(`Only ${out.size} of ${n} jobs were reported`);
    const u = await bs.getUpdatedBatchJob(2);
    if (u) {
      expect(out.has(u.jobId)).toBe(false);
      out.set(u.jobId, u);
    }
  }
  return out;
}

describeSlurm("slurm (real cluster)", () => {
  describeBatchSystemConformance(
    "slurm (real cluster)",
    (ctx) => new SlurmBatchSystem({ ...ctx.config, statePollingWait: 0.25 }, ctx.maxCores, ctx.maxMemory, ctx.maxDisk),
    { timeoutScale: 4, enforcesConcurrency: false },
  );

  describe("slurm (real cluster): the plugin", () => {
    const live: SlurmBatchSystem[] = [];
    const dirs: string[] = [];
    afterEach(async () => {
      for (const bs of live.splice(0)) await bs.shutdown();
      for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
    }, 120_000);

    function make(config: Partial<BatchSystemConfig> & { batchOptions?: Record<string, unknown> } = {}, options: SlurmBatchSystemOptions = {}) {
      const dir = mkdtempSync(join(tmpdir(), "toil-slurm-"));
      dirs.push(dir);
      const { runner, counts } = countingRunner(options.runner ?? spawnCommand);
      const bs = new SlurmBatchSystem(
        { workflowId: `t${process.pid}x${dirs.length}`, batchLogsDir: join(dir, "logs"), statePollingWait: 0.25, ...config },
        2,
        16 * GiB,
        100 * GiB,
        { ...options, runner },
      );
      live.push(bs);
      return { bs, dir, counts, logs: join(dir, "logs") };
    }

    it("submits one job with Toil's resources, environment and log files, and reports its status", async () => {
      const { bs, logs, counts } = make({}, {});
      bs.setEnv("TOIL_SLURM_TEST_BATCH", "batch value");
      const weird = `a,b c 'd' "e" $HOME`;
      const id = await bs.issueBatchJob(
        `sh -c 'echo "$TOIL_SLURM_TEST_JOB|$TOIL_SLURM_TEST_BATCH"; echo oops >&2; exit 4'`,
        { jobName: "one", jobKind: "Weird Kind!", requirements: req({ cores: 1.5, memory: 100 * MiB + 1 }), walltime: 600 },
        { TOIL_SLURM_TEST_JOB: weird },
      );
      await until("the job to be submitted", () => bs.getIssuedBatchJobIds().then(() => counts.sbatch === 1));
      const [u] = (await collect(bs, 1)).values();
      expect(u).toMatchObject({ jobId: id, exitStatus: 4, exitReason: BatchJobExitReason.FAILED });
      const key = u!.backingId as string;
      expect(key).toMatch(/^\d+$/);
      expect(scontrolField(key, "JobName")).toBe(`toil_job_${id}_Weird_Kind_`);
      expect(scontrolField(key, "NumCPUs")).toBe("2");
      expect(scontrolField(key, "MinMemoryNode")).toBe("101M");
      expect(scontrolField(key, "TimeLimit")).toBe("00:10:00");
      expect(scontrolField(key, "Partition")).toBe("debug");
      const out = readFileSync(bs.formatStdOutErrPath(id, key, "out"), "utf8");
      expect(out.trim()).toBe(`${weird}|batch value`);
      expect(readFileSync(bs.formatStdOutErrPath(id, key, "err"), "utf8")).toContain("oops");
      expect(readdirSync(logs).sort()).toEqual([`toil_${bs.workflowId}.${id}.${key}.err.log`, `toil_${bs.workflowId}.${id}.${key}.out.log`]);
    });

    // Plain Slurm jobs (one per Toil job, arrays, packs): worker hosts off.
    const plain = { batchOptions: { slurmWorkers: false } };

    it("submits many jobs with equal requirements as one job array, each reported with its own status and logs", async () => {
      const { bs, counts } = make(plain);
      const want = new Map<number, number>();
      for (let i = 0; i < 8; i++) {
        want.set(await bs.issueBatchJob(`sh -c 'echo task ${i}; exit ${i}'`, { jobName: `a${i}`, requirements: req() }), i);
      }
      const odd = await bs.issueBatchJob("true", { jobName: "odd", requirements: req({ memory: 70 * MiB }) });
      const got = await collect(bs, 9);
      expect(counts.sbatch).toBe(2);
      for (const [id, code] of want) {
        const u = got.get(id)!;
        expect(u.exitStatus).toBe(code);
        expect(u.exitReason).toBe(code === 0 ? BatchJobExitReason.FINISHED : BatchJobExitReason.FAILED);
        expect(u.backingId).toMatch(/^\d+_\d+$/);
        expect(readFileSync(bs.formatStdOutErrPath(id, u.backingId!, "out"), "utf8").trim()).toBe(`task ${code}`);
      }
      expect(got.get(odd)).toMatchObject({ exitStatus: 0, exitReason: BatchJobExitReason.FINISHED });
      expect(got.get(odd)!.backingId).toMatch(/^\d+$/);
      // One squeue call per poll covered all jobs.
      expect(counts.squeue).toBeGreaterThan(0);
    });

    it("passes --slurmArgs through and lets its --time win", async () => {
      const { bs } = make({ batchOptions: { slurmArgs: `--comment="toil test" -t 5`, slurmTime: "1:00:00" } });
      const id = await bs.issueBatchJob("true", { jobName: "args", requirements: req() });
      const [u] = (await collect(bs, 1)).values();
      expect(u).toMatchObject({ jobId: id, exitStatus: 0 });
      expect(scontrolField(u!.backingId!, "TimeLimit")).toBe("00:05:00");
      const res = spawnSync("scontrol", ["show", "job", "-o", u!.backingId!], { encoding: "utf8" });
      expect(res.stdout).toContain("Comment=toil test");
    });

    it("keeps at most --maxJobs jobs in Slurm at once", async () => {
      const lists: number[] = [];
      const watch: CommandRunner = async (cmd, args, opts) => {
        if (cmd === "squeue") lists.push(args[args.indexOf("-j") + 1]!.split(",").length);
        return spawnCommand(cmd, args, opts);
      };
      const { bs, counts } = make({ maxJobs: 2, ...plain }, { runner: watch });
      for (let i = 0; i < 6; i++) await bs.issueBatchJob(`sh -c 'exit ${i}'`, { jobName: `m${i}`, requirements: req() });
      const got = await collect(bs, 6);
      expect([...got.values()].map((u) => u.exitStatus).sort()).toEqual([0, 1, 2, 3, 4, 5]);
      expect(Math.max(...lists)).toBeLessThanOrEqual(2);
      expect(counts.sbatch).toBeGreaterThanOrEqual(3);
    });

    it("splits a group into arrays of at most --slurmArrayMaxSize tasks", async () => {
      const { bs, counts } = make({ batchOptions: { slurmArrayMaxSize: 3, slurmArrayMinJobs: 2, slurmWorkers: false } });
      for (let i = 0; i < 7; i++) await bs.issueBatchJob("true", { jobName: `x${i}`, requirements: req() });
      const got = await collect(bs, 7);
      expect([...got.values()].every((u) => u.exitStatus === 0)).toBe(true);
      // 3 + 3 as arrays, the last one alone (below --slurmArrayMinJobs).
      expect(counts.sbatch).toBe(3);
      expect([...got.values()].filter((u) => /_/.test(u.backingId!))).toHaveLength(6);
    });

    it("submits one sbatch per job when arrays are turned off", async () => {
      const { bs, counts } = make({ batchOptions: { slurmArrays: false, slurmWorkers: false } });
      for (let i = 0; i < 5; i++) await bs.issueBatchJob("true", { jobName: `s${i}`, requirements: req() });
      const got = await collect(bs, 5);
      expect([...got.values()].every((u) => u.exitStatus === 0)).toBe(true);
      expect(counts.sbatch).toBe(5);
    });

    it("polls all jobs with one squeue call, splitting the id list only when the OS refuses it", async () => {
      const calls: string[][] = [];
      const tooLong: CommandRunner = async (cmd, args, opts) => {
        if (cmd === "squeue") {
          const j = args[args.indexOf("-j") + 1]!.split(",");
          calls.push(j);
          if (j.length > 2) {
            throw new SlurmCommandError("Cannot run squeue: argument list too long.", cmd, args, null, "", { spawnCode: "E2BIG" });
          }
        }
        return spawnCommand(cmd, args, opts);
      };
      const { bs } = make({ batchOptions: { slurmArrays: false, slurmWorkers: false } }, { runner: tooLong });
      for (let i = 0; i < 5; i++) await bs.issueBatchJob("true", { jobName: `p${i}`, requirements: req() });
      const got = await collect(bs, 5);
      expect(got.size).toBe(5);
      expect(Math.max(...calls.map((c) => c.length))).toBe(5);
      expect(calls.some((c) => c.length <= 2)).toBe(true);
    });

    it("kills pending and running jobs with scancel; they are never reported", async () => {
      const { bs, counts } = make({ batchOptions: { slurmArrays: false, slurmWorkers: false } });
      const running = await bs.issueBatchJob("sleep 300", { jobName: "r", requirements: req() });
      await until("the job running", async () => (await bs.getRunningBatchJobIds()).has(running));
      const pending = await bs.issueBatchJob("sleep 300", { jobName: "p", requirements: req({ memory: 30 * GiB }) }).catch((e: unknown) => e);
      // 30 GiB is above this batch system's 16 GiB maximum: refused before anything runs.
      expect(pending).toBeInstanceOf(Error);
      const held = await bs.issueBatchJob("sleep 300", { jobName: "h", requirements: req({ cores: 2 }) });
      const ids = [running, held];
      await until("both jobs submitted", () => counts.sbatch === 2);
      const keys = [...(await bs.getRunningBatchJobIds()).keys()];
      expect(keys).toContain(running);
      await bs.killBatchJobs(ids);
      expect(await bs.getIssuedBatchJobIds()).toEqual([]);
      expect(await bs.getUpdatedBatchJob(1)).toBeNull();
      expect(counts.scancel).toBe(1);
    });

    it("shutdown cancels every job it issued", async () => {
      const { bs, counts } = make(plain);
      const runner: string[] = [];
      bs.setMessageBus({ publish: (m) => void (m.type === "ExternalBatchId" && runner.push(m.externalBatchId)) });
      for (let i = 0; i < 5; i++) await bs.issueBatchJob("sleep 300", { jobName: `z${i}`, requirements: req() });
      await until("jobs submitted", () => counts.sbatch === 1);
      await until("a job running", async () => (await bs.getRunningBatchJobIds()).size > 0);
      const before = readdirSync(join(dirname(bs.getBatchLogsDir())), { recursive: true }).length;
      expect(before).toBeGreaterThan(0);
      await bs.shutdown();
      live.splice(live.indexOf(bs), 1);
      const states = squeueStates(runner);
      expect(runner).toHaveLength(5);
      // Unstarted array tasks cancelled together show as one record of the array itself.
      for (const k of runner) expect(states[k] ?? states[k.split("_")[0]!]).toBe("CANCELLED");
    });

    it.each([
      ["as a Slurm job of its own", plain],
      ["on a worker host (as a child process of the host)", {}],
    ])("a job over its memory request ends MEMLIMIT (cgroup enforcement), and runs with more memory: %s", async (_how, options) => {
      const { bs } = make(options);
      const hog = `${node} -e "const b = Buffer.alloc(400 * 1024 * 1024, 1); setTimeout(() => console.log(b.length), 1500)"`;
      const small = await bs.issueBatchJob(hog, { jobName: "hog", requirements: req({ memory: 200 * MiB }) });
      const [u] = (await collect(bs, 1)).values();
      expect(u).toMatchObject({ jobId: small, exitReason: BatchJobExitReason.MEMLIMIT, exitStatus: 253 });
      const big = await bs.issueBatchJob(hog, { jobName: "hog", requirements: req({ memory: 800 * MiB }) });
      const [v] = (await collect(bs, 1)).values();
      expect(v).toMatchObject({ jobId: big, exitStatus: 0, exitReason: BatchJobExitReason.FINISHED });
    });

    it("retries a failing squeue with backoff", async () => {
      let failures = 0;
      const flaky: CommandRunner = async (cmd, args, opts) => {
        if (cmd === "squeue" && failures < 2) {
          failures++;
          return { stdout: "", stderr: "squeue: error: Socket timed out on send/recv operation", exitCode: 1 };
        }
        return spawnCommand(cmd, args, opts);
      };
      const { bs } = make({ statePollingWait: 0.1 }, { runner: flaky });
      const id = await bs.issueBatchJob("true", { jobName: "f", requirements: req() });
      const [u] = (await collect(bs, 1)).values();
      expect(u).toMatchObject({ jobId: id, exitStatus: 0 });
      expect(failures).toBe(2);
    });

    it("gives up with a clear error after --statePollingTimeout", async () => {
      const down: CommandRunner = async (cmd, args, opts) =>
        cmd === "squeue"
          ? { stdout: "", stderr: "squeue: error: Unable to contact slurm controller (connect failure)", exitCode: 1 }
          : spawnCommand(cmd, args, opts);
      const { bs } = make({ statePollingWait: 0.1, statePollingTimeout: 1 }, { runner: down });
      await bs.issueBatchJob("true", { jobName: "d", requirements: req() });
      let err: unknown;
      await until("the error", async () => {
        err = await bs.getUpdatedBatchJob(1).then(() => undefined, (e: unknown) => e);
        return err !== undefined;
      });
      expect(err).toBeInstanceOf(SlurmCommandError);
      expect((err as Error).message).toMatch(/squeue failed .*Unable to contact slurm controller.*--statePollingTimeout/);
    });

    it("an unknown Slurm state is a clear error", async () => {
      const odd: CommandRunner = async (cmd, args, opts) => {
        const res = await spawnCommand(cmd, args, opts);
        return cmd === "squeue" ? { ...res, stdout: res.stdout.replace(/\|(PENDING|RUNNING|COMPLETED|COMPLETING)\|/g, "|EXPLODED|") } : res;
      };
      const { bs } = make({}, { runner: odd });
      await bs.issueBatchJob("true", { jobName: "u", requirements: req() });
      const err = await bs.getUpdatedBatchJob(10).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(UnknownSlurmStateError);
      expect((err as Error).message).toContain("EXPLODED");
    });

    it("finds jobs squeue has forgotten with sacct (the job completion log here)", async () => {
      const forgetful: CommandRunner = async (cmd, args, opts) => {
        const res = await spawnCommand(cmd, args, opts);
        // Pretend the jobs ended long ago: squeue lists only unfinished ones.
        if (cmd === "squeue") return { ...res, stdout: res.stdout.split("\n").filter((l) => /\|(PENDING|RUNNING|COMPLETING)\|/.test(l)).join("\n") };
        return res;
      };
      const { bs, counts } = make({ batchOptions: { slurmArrays: false, slurmWorkers: false } }, { runner: forgetful });
      const a = await bs.issueBatchJob("sh -c 'exit 6'", { jobName: "s1", requirements: req() });
      const b = await bs.issueBatchJob("true", { jobName: "s2", requirements: req() });
      const got = await collect(bs, 2, 60);
      expect(got.get(a)).toMatchObject({ exitStatus: 6, exitReason: BatchJobExitReason.FAILED });
      expect(got.get(b)).toMatchObject({ exitStatus: 0, exitReason: BatchJobExitReason.FINISHED });
      expect(counts.sacct).toBeGreaterThan(0);
    });

    it("refuses accelerators other than GPUs, and GPUs on a cluster without GPU partitions", async () => {
      const { bs } = make();
      await expect(bs.issueBatchJob("true", { jobName: "t", requirements: req({ accelerators: [{ kind: "tpu", count: 1 }] }) })).rejects.toThrow(/GPUs/);
      await expect(bs.issueBatchJob("true", { jobName: "g", requirements: req({ accelerators: [{ kind: "gpu", count: 1 }] }) })).rejects.toThrow(/--slurmGPUPartition/);
      expect(await bs.getIssuedBatchJobIds()).toEqual([]);
    });

    it("reports jobs Slurm refuses at submission as failed, with sbatch's reason", async () => {
      const { bs } = make({ batchOptions: { slurmPartition: "no_such_partition" } });
      const id = await bs.issueBatchJob("true", { jobName: "r", requirements: req() });
      const [u] = (await collect(bs, 1)).values();
      expect(u).toMatchObject({ jobId: id, exitStatus: 255, exitReason: BatchJobExitReason.ERROR });
      expect(bs.getSchedulingStatusMessage()).toMatch(/Invalid partition/i);
    });

    describe("worker hosts (the default)", () => {
      const WARM = join(here, "fixtures", "warm-job.mjs");
      type Seen = { type: string; hostId?: string; reason?: string; shape?: string; batchId?: number; externalBatchId?: string };
      function listen(bs: SlurmBatchSystem): Seen[] {
        const messages: Seen[] = [];
        bs.setMessageBus({ publish: (m) => void messages.push(m as Seen) });
        return messages;
      }
      const hostOf = (messages: Seen[], id: number): string | undefined => messages.filter((m) => m.type === "ExternalBatchId" && m.batchId === id).at(-1)?.externalBatchId;

      it("runs many jobs on a few hosts, warm, each with its own status, log files and wall time; hosts are announced on the bus and cancelled at shutdown", async () => {
        const { bs, dir, counts, logs } = make();
        const messages = listen(bs);
        const ids: number[] = [];
        for (let i = 0; i < 30; i++) {
          ids.push(await bs.issueBatchJob(`${node} ${WARM} ${join(dir, `j${i}`)} ${i % 5}`, { jobName: `w${i}`, requirements: req({ cores: 0.1 }) }));
        }
        // While the first hosts start, the status says so, in words (the leader shows it).
        await until("the jobs to wait for hosts", () => /Slurm worker hosts: \d+ busy, \d+ idle, \d+ starting; \d+ jobs waiting for a host/.test(bs.getSchedulingStatusMessage() ?? ""), 30);
        const got = await collect(bs, 30);
        ids.forEach((id, i) => {
          expect(got.get(id)).toMatchObject({ exitStatus: i % 5, exitReason: i % 5 === 0 ? BatchJobExitReason.FINISHED : BatchJobExitReason.FAILED });
          expect(got.get(id)!.wallTime === null || got.get(id)!.wallTime! >= 0).toBe(true);
        });
        const hosts = [...new Set([...got.values()].map((u) => u.backingId as string))];
        for (const k of hosts) expect(k).toMatch(/^\d+_\d+$/);
        // Far fewer Slurm jobs than Toil jobs, submitted in one or two arrays.
        expect(hosts.length).toBeLessThanOrEqual(8);
        expect(counts.sbatch).toBeLessThanOrEqual(3);
        // Each host ran its jobs in its own process, one after another: one pid per host.
        for (const k of hosts) {
          const pids = new Set(ids.filter((id) => got.get(id)!.backingId === k).flatMap((id) => readFileSync(join(dir, `j${ids.indexOf(id)}`), "utf8").trim().split("\n")));
          expect(pids.size).toBe(1);
        }
        // A host has exactly the jobs' resources; each job has its own log files, named with its host.
        expect(scontrolField(hosts[0]!, "MinMemoryNode")).toBe("64M");
        expect(scontrolField(hosts[0]!, "NumCPUs")).toBe("1");
        expect(scontrolField(hosts[0]!, "JobName")).toMatch(/^toil_host_\d+_workers$/);
        expect(readFileSync(bs.formatStdOutErrPath(ids[3]!, got.get(ids[3]!)!.backingId!, "out"), "utf8")).toContain(`job ${join(dir, "j3")}`);
        // Every host that ran a job was announced; a host may also start after the others took
        // every job, and run none.
        const started = messages.filter((m) => m.type === "WorkerHostStarted");
        const startedIds = started.map((m) => m.hostId as string).sort();
        expect(startedIds).toEqual(expect.arrayContaining(hosts));
        expect(startedIds.length).toBeLessThanOrEqual(8);
        expect(started[0]!.shape).toBe("1 CPU, 64M memory");
        await bs.shutdown();
        live.splice(live.indexOf(bs), 1);
        const states = squeueStates(startedIds);
        for (const k of startedIds) expect(["CANCELLED", "COMPLETED"]).toContain(states[k]);
        expect(messages.filter((m) => m.type === "WorkerHostStopped").map((m) => m.hostId).sort()).toEqual(startedIds);
        // The hosts' directory (here in the batch logs directory: no job store) is gone.
        expect(readdirSync(join(logs, `toil_${bs.workflowId}.hosts`))).toEqual([]);
      });

      it("a host with nothing to do exits after --slurmWorkerIdleTime and frees its allocation; the next job gets a new host", async () => {
        const { bs } = make({ batchOptions: { slurmWorkerIdleTime: 2 } });
        const messages = listen(bs);
        await bs.issueBatchJob("true", { jobName: "first", requirements: req() });
        const [u] = (await collect(bs, 1)).values();
        const key = u!.backingId as string;
        await until("the idle host to end", () => squeueStates([key])[key] === "COMPLETED", 60);
        await until("its stop on the bus", () => messages.some((m) => m.type === "WorkerHostStopped" && m.hostId === key && m.reason === "idle"), 30);
        await bs.issueBatchJob("true", { jobName: "second", requirements: req() });
        const [v] = (await collect(bs, 1)).values();
        expect(v).toMatchObject({ exitStatus: 0 });
        expect(v!.backingId).not.toBe(key);
      });

      it("a job whose host is cancelled under it (scancel) runs again on another host, and is reported once, without using a retry", async () => {
        const { bs, dir } = make();
        const messages = listen(bs);
        const count = join(dir, "runs");
        // The first run sleeps (and loses its host); the second ends at once.
        const id = await bs.issueBatchJob(`sh -c 'echo x >> ${count}; [ $(wc -l < ${count}) -gt 1 ] || sleep 300'`, { jobName: "victim", requirements: req() });
        await until("the job to run", () => existsSync(count));
        const key = hostOf(messages, id)!;
        expect(spawnSync("scancel", [key]).status).toBe(0);
        const [u] = (await collect(bs, 1)).values();
        expect(u).toMatchObject({ jobId: id, exitStatus: 0, exitReason: BatchJobExitReason.FINISHED });
        expect(u!.backingId).not.toBe(key);
        expect(readFileSync(count, "utf8")).toBe("x\nx\n");
        expect(await bs.getUpdatedBatchJob(1)).toBeNull();
      });

      it("a job whose host ends under it by node failure, preemption or time limit runs again without using a retry; after three such ends it is reported LOST", async () => {
        // The hosts are really cancelled; squeue's answer says the state Slurm would give them then.
        const endAs = new Map<string, string>();
        const rewrite: CommandRunner = async (cmd, args, opts) => {
          const res = await spawnCommand(cmd, args, opts);
          if (cmd !== "squeue") return res;
          const lines = res.stdout.split("\n").map((line) => {
            const f = line.split("|");
            const state = endAs.get(f[1]?.trim() ?? "");
            if (state && /CANCELLED/.test(f[2] ?? "")) f[2] = state;
            return f.join("|");
          });
          return { ...res, stdout: lines.join("\n") };
        };
        const { bs, dir } = make({}, { runner: rewrite });
        const messages = listen(bs);
        const count = join(dir, "runs");
        const id = await bs.issueBatchJob(`sh -c 'echo x >> ${count}; sleep 300'`, { jobName: "unlucky", requirements: req() });
        const runs = () => (existsSync(count) ? readFileSync(count, "utf8").split("\n").length - 1 : 0);
        for (const [i, state] of ["NODE_FAIL", "PREEMPTED", "TIMEOUT", "NODE_FAIL"].entries()) {
          await until(`run ${i + 1}`, () => runs() === i + 1, 120);
          const key = hostOf(messages, id)!;
          endAs.set(key, state);
          expect(spawnSync("scancel", [key]).status).toBe(0);
          if (i < 3) expect(await bs.getUpdatedBatchJob(0)).toBeNull();
        }
        const [u] = (await collect(bs, 1)).values();
        expect(u).toMatchObject({ jobId: id, exitReason: BatchJobExitReason.LOST });
        expect(u!.exitStatus).not.toBe(0);
        expect(runs()).toBe(4);
        expect(messages.filter((m) => m.type === "WorkerHostStopped").map((m) => m.reason)).toEqual(expect.arrayContaining(["NODE_FAIL", "PREEMPTED", "TIMEOUT"]));
      });

      it("a job that ends its host's process reports its exit code; the other jobs run on other hosts", async () => {
        const { bs, dir } = make();
        const ender = await bs.issueBatchJob(`${node} ${WARM} ${join(dir, "e")} 7 exit`, { jobName: "ender", requirements: req({ cores: 0.1 }) });
        const others: number[] = [];
        for (let i = 0; i < 4; i++) others.push(await bs.issueBatchJob(`${node} ${WARM} ${join(dir, `o${i}`)} 0`, { jobName: `o${i}`, requirements: req({ cores: 0.1 }) }));
        const got = await collect(bs, 5);
        expect(got.get(ender)).toMatchObject({ exitStatus: 7, exitReason: BatchJobExitReason.FAILED });
        for (const id of others) expect(got.get(id)).toMatchObject({ exitStatus: 0 });
      });

      it("a warm job over its memory request ends MEMLIMIT with Slurm's note in its log, and the next job gets a new host", async () => {
        const { bs, dir } = make();
        const hog = await bs.issueBatchJob(`${node} ${WARM} ${join(dir, "h")} 0 hog`, { jobName: "hog", requirements: req({ memory: 150 * MiB }) });
        const [u] = (await collect(bs, 1)).values();
        expect(u).toMatchObject({ jobId: hog, exitStatus: 253, exitReason: BatchJobExitReason.MEMLIMIT });
        expect(readFileSync(bs.formatStdOutErrPath(hog, u!.backingId!, "err"), "utf8")).toMatch(/more memory than this job's request.*\n.*oom-kill event/);
        const next = await bs.issueBatchJob(`${node} ${WARM} ${join(dir, "n")} 0`, { jobName: "next", requirements: req({ memory: 150 * MiB }) });
        const [v] = (await collect(bs, 1)).values();
        expect(v).toMatchObject({ jobId: next, exitStatus: 0 });
        expect(v!.backingId).not.toBe(u!.backingId);
      });

      it("a host that keeps much more memory after its jobs than after its first one is replaced by a fresh one", async () => {
        const { bs, dir } = make({ batchOptions: { slurmMaxWorkers: 1 } });
        const messages = listen(bs);
        const ids: number[] = [];
        // Each job leaves 30 MiB reachable: after a few, a 200 MiB host has used more than a quarter of its room.
        for (let i = 0; i < 4; i++) ids.push(await bs.issueBatchJob(`${node} ${WARM} ${join(dir, `l${i}`)} 0 leak`, { jobName: `l${i}`, requirements: req({ memory: 200 * MiB }) }));
        const got = await collect(bs, 4);
        for (const id of ids) expect(got.get(id)).toMatchObject({ exitStatus: 0, exitReason: BatchJobExitReason.FINISHED });
        expect(new Set([...got.values()].map((u) => u.backingId)).size).toBeGreaterThanOrEqual(2);
        await until("a host's stop on the bus", () => messages.some((m) => m.type === "WorkerHostStopped" && m.reason === "memory"), 30);
      });

      it("killing a running job cancels its host; a waiting job still runs, once, and the killed one is never reported", async () => {
        const { bs, dir } = make({ batchOptions: { slurmMaxWorkers: 1 } });
        const messages = listen(bs);
        const sleeper = await bs.issueBatchJob(`${node} ${WARM} ${join(dir, "s")} 0 sleep`, { jobName: "sleeper", requirements: req() });
        const waiter = await bs.issueBatchJob(`${node} ${WARM} ${join(dir, "w")} 0`, { jobName: "waiter", requirements: req() });
        await until("the sleeper to run", async () => (await bs.getRunningBatchJobIds()).has(sleeper));
        const key = hostOf(messages, sleeper)!;
        await bs.killBatchJobs([sleeper]);
        expect(["CANCELLED", "COMPLETING"]).toContain(squeueStates([key])[key]);
        const [u] = (await collect(bs, 1)).values();
        expect(u).toMatchObject({ jobId: waiter, exitStatus: 0 });
        expect(await bs.getUpdatedBatchJob(1)).toBeNull();
        expect(readFileSync(join(dir, "w"), "utf8").trim().split("\n")).toHaveLength(1);
      });

      it("jobs of different shapes get hosts of their own shape, never more than --slurmMaxWorkers at once", async () => {
        const { bs } = make({ batchOptions: { slurmMaxWorkers: 1 } });
        const messages = listen(bs);
        const small: number[] = [];
        const large: number[] = [];
        for (let i = 0; i < 3; i++) small.push(await bs.issueBatchJob("sleep 0.2", { jobName: `s${i}`, requirements: req({ memory: 64 * MiB }) }));
        for (let i = 0; i < 2; i++) large.push(await bs.issueBatchJob("sleep 0.2", { jobName: `l${i}`, requirements: req({ memory: 96 * MiB }) }));
        const got = await collect(bs, 5);
        const hostsOf = (ids: number[]) => new Set(ids.map((id) => got.get(id)!.backingId as string));
        expect(hostsOf(small).size).toBe(1);
        expect(hostsOf(large).size).toBe(1);
        expect(scontrolField([...hostsOf(small)][0]!, "MinMemoryNode")).toBe("64M");
        expect(scontrolField([...hostsOf(large)][0]!, "MinMemoryNode")).toBe("96M");
        // One host at a time: the first stopped (told to, to make room) before the second started.
        const events = messages.filter((m) => m.type === "WorkerHostStarted" || m.type === "WorkerHostStopped").map((m) => m.type);
        expect(events.slice(0, 3)).toEqual(["WorkerHostStarted", "WorkerHostStopped", "WorkerHostStarted"]);
      });

      it("a host only takes a job its time left allows; a job longer than the hosts' time limit goes out as a Slurm job of its own", async () => {
        const { bs } = make({ batchOptions: { slurmWorkerTime: "3:00" } });
        await bs.issueBatchJob("true", { jobName: "first", requirements: req() });
        const [first] = (await collect(bs, 1)).values();
        const old = first!.backingId as string;
        expect(scontrolField(old, "TimeLimit")).toBe("00:03:00");
        await new Promise((r) => setTimeout(r, 4000));
        // 130 s and Slurm's 30 s warning fit in a fresh 3-minute host, not in one that has run for a few seconds.
        const fits = await bs.issueBatchJob("true", { jobName: "fits-a-new-host", requirements: req(), walltime: 130 });
        const tooLong = await bs.issueBatchJob("true", { jobName: "too-long", requirements: req(), walltime: 200 });
        const got = await collect(bs, 2);
        expect(got.get(fits)).toMatchObject({ exitStatus: 0 });
        expect(got.get(fits)!.backingId).toMatch(/^\d+_\d+$/);
        expect(got.get(fits)!.backingId).not.toBe(old);
        expect(got.get(tooLong)).toMatchObject({ exitStatus: 0 });
        expect(got.get(tooLong)!.backingId).toMatch(/^\d+$/);
        expect(scontrolField(got.get(tooLong)!.backingId!, "JobName")).toBe(`toil_job_${tooLong}_job`);
        // Its own walltime (200 s; Slurm rounds limits up to whole minutes).
        expect(scontrolField(got.get(tooLong)!.backingId!, "TimeLimit")).toBe("00:04:00");
      });

      it("--slurmPlainJobs sends the jobs whose name matches out as Slurm jobs of their own", async () => {
        const { bs } = make({ batchOptions: { slurmPlainJobs: "^big" } });
        const big = await bs.issueBatchJob("true", { jobName: "big-assembly", requirements: req() });
        const small = await bs.issueBatchJob("true", { jobName: "small", requirements: req() });
        const got = await collect(bs, 2);
        expect(got.get(big)!.backingId).toMatch(/^\d+$/);
        expect(got.get(small)!.backingId).toMatch(/^\d+_\d+$/);
      });

      it("worker hosts that cannot start are turned off after three tries, with a warning to the logger (not a process warning), and the jobs run as Slurm jobs of their own", async () => {
        const broken = join(mkdtempSync(join(tmpdir(), "toil-slurm-")), "broken-host.mjs");
        dirs.push(dirname(broken));
        writeFileSync(broken, 'console.error("this host cannot start"); process.exit(3);\n');
        const warnings: string[] = [];
        const logged: string[] = [];
        const onWarning = (w: Error) => warnings.push(w.message);
        process.on("warning", onWarning);
        try {
          const { bs } = make({}, { workerHostScript: broken, logger: (level, message) => void logged.push(`${level}: ${message}`) });
          const ids = [await bs.issueBatchJob("true", { jobName: "a", requirements: req() }), await bs.issueBatchJob("sh -c 'exit 2'", { jobName: "b", requirements: req() })];
          const got = await collect(bs, 2);
          expect(got.get(ids[0]!)).toMatchObject({ exitStatus: 0 });
          expect(got.get(ids[1]!)).toMatchObject({ exitStatus: 2 });
          for (const u of got.values()) expect(u.backingId).toMatch(/^\d+(_\d+)?$/);
          expect(logged.some((w) => /^warn: Worker hosts are turned off .*this host cannot start/s.test(w)), logged.join("\n")).toBe(true);
          expect(warnings.filter((w) => /worker host/i.test(w))).toEqual([]);
        } finally {
          process.off("warning", onWarning);
        }
      });
    });

    describe("job packs (--slurmPackJobs)", () => {
      const WARM = join(here, "fixtures", "warm-job.mjs");
      const pack = { batchOptions: { slurmPackJobs: 4 } };
      const pids = (file: string): string[] => readFileSync(file, "utf8").trim().split("\n");

      it("runs 11 jobs in 3 array tasks, warm jobs sharing one process per task, each with its own status and logs", async () => {
        const { bs, dir, counts } = make(pack);
        const ids: number[] = [];
        for (let i = 0; i < 10; i++) {
          ids.push(await bs.issueBatchJob(`${node} ${WARM} ${join(dir, `j${i}`)} ${i === 3 ? 3 : 0}`, { jobName: `w${i}`, requirements: req({ cores: 0.1 }) }));
        }
        const shell = await bs.issueBatchJob("sh -c 'echo from sh; exit 5'", { jobName: "sh", requirements: req({ cores: 0.1 }) });
        const got = await collect(bs, 11);
        expect(counts.sbatch).toBe(1);
        ids.forEach((id, i) => expect(got.get(id)).toMatchObject({ exitStatus: i === 3 ? 3 : 0, exitReason: i === 3 ? BatchJobExitReason.FAILED : BatchJobExitReason.FINISHED }));
        expect(got.get(shell)).toMatchObject({ exitStatus: 5, exitReason: BatchJobExitReason.FAILED });
        const keys = new Set([...got.values()].map((u) => u.backingId));
        expect(keys.size).toBe(3);
        for (const k of keys) expect(k).toMatch(/^\d+_[0-2]$/);
        // Jobs of one task ran in one process (the pack runner): as many processes as tasks.
        const byTask = new Map<string, Set<string>>();
        ids.forEach((id, i) => {
          const key = got.get(id)!.backingId as string;
          const set = byTask.get(key) ?? new Set<string>();
          for (const pid of pids(join(dir, `j${i}`))) set.add(pid);
          byTask.set(key, set);
        });
        for (const set of byTask.values()) expect(set.size).toBe(1);
        // Each job has its own log files, named with its task.
        expect(readFileSync(bs.formatStdOutErrPath(ids[0]!, got.get(ids[0]!)!.backingId as string, "out"), "utf8")).toContain(`job ${join(dir, "j0")}`);
        expect(readFileSync(bs.formatStdOutErrPath(shell, got.get(shell)!.backingId as string, "out"), "utf8")).toContain("from sh");
      });

      it("a job that ends its pack's process fails with its exit code; the jobs after it are submitted again", async () => {
        const { bs, dir, counts } = make(pack);
        const modes = ["", "exit", "", ""];
        const ids: number[] = [];
        for (let i = 0; i < 4; i++) {
          ids.push(await bs.issueBatchJob(`${node} ${WARM} ${join(dir, `j${i}`)} ${i === 1 ? 7 : 0} ${modes[i]}`, { jobName: `e${i}`, requirements: req({ cores: 0.1 }) }));
        }
        const got = await collect(bs, 4);
        expect(got.get(ids[0]!)).toMatchObject({ exitStatus: 0, exitReason: BatchJobExitReason.FINISHED });
        expect(got.get(ids[1]!)).toMatchObject({ exitStatus: 7, exitReason: BatchJobExitReason.FAILED });
        for (const i of [2, 3]) {
          expect(got.get(ids[i]!)).toMatchObject({ exitStatus: 0 });
          expect(pids(join(dir, `j${i}`))).toHaveLength(1);
        }
        // One array, then the two jobs that never ran, one sbatch each (too few for an array).
        expect(counts.sbatch).toBe(3);
      });

      it("a job of a pack over the task's memory limit ends as MEMLIMIT; the jobs after it are submitted again", async () => {
        const { bs, dir } = make(pack);
        const ids: number[] = [];
        for (let i = 0; i < 4; i++) {
          ids.push(await bs.issueBatchJob(`${node} ${WARM} ${join(dir, `m${i}`)} 0 ${i === 1 ? "hog" : ""}`, { jobName: `m${i}`, requirements: req({ cores: 0.1, memory: 150 * MiB }) }));
        }
        const got = await collect(bs, 4);
        expect(got.get(ids[0]!)).toMatchObject({ exitStatus: 0, exitReason: BatchJobExitReason.FINISHED });
        expect(got.get(ids[1]!)).toMatchObject({ exitStatus: 253, exitReason: BatchJobExitReason.MEMLIMIT });
        for (const i of [2, 3]) {
          expect(got.get(ids[i]!)).toMatchObject({ exitStatus: 0 });
          expect(pids(join(dir, `m${i}`))).toHaveLength(1);
        }
      });

      it("killing a running job of a pack stops its task; the pack's other jobs still run, once, and the killed one is never reported", async () => {
        const { bs, dir } = make(pack);
        const ids: number[] = [];
        for (let i = 0; i < 4; i++) {
          ids.push(await bs.issueBatchJob(`${node} ${WARM} ${join(dir, `k${i}`)} 0 ${i === 0 ? "sleep" : ""}`, { jobName: `k${i}`, requirements: req({ cores: 0.1 }) }));
        }
        await until("the sleeper to run", async () => (await bs.getRunningBatchJobIds()).has(ids[0]!), 120);
        await bs.killBatchJobs([ids[0]!]);
        const got = await collect(bs, 3);
        expect([...got.keys()].sort()).toEqual(ids.slice(1).sort());
        for (const u of got.values()) expect(u.exitStatus).toBe(0);
        for (const i of [1, 2, 3]) expect(pids(join(dir, `k${i}`))).toHaveLength(1);
        expect(await bs.getUpdatedBatchJob(1)).toBeNull();
      });
    });

    it("runs jobs marked local on the single-machine batch system", async (ctx) => {
      const leaderDir = resolve(here, "../../../apps/leader");
      if (!existsSync(join(leaderDir, "node_modules/@toil/batch-local/package.json"))) {
        // In CI (TOIL_TEST_REQUIRE_SLURM=1) the workspace install provides it: a skip there would hide a broken install.
        if (requireSlurm) throw new Error("@toil/batch-local is not installed next to the leader (apps/leader/node_modules): run pnpm install");
        ctx.skip("@toil/batch-local is not installed next to the leader");
      }
      const { bs, counts } = make({}, { localSearchFrom: [leaderDir] });
      const messages: { type: string; batchId?: number; batchSystem?: string }[] = [];
      bs.setMessageBus({ publish: (m) => messages.push(m as (typeof messages)[number]) });
      const slurmJob = await bs.issueBatchJob("true", { jobName: "remote", requirements: req() });
      const id = await bs.issueBatchJob("sh -c 'exit 9'", { jobName: "loc", requirements: req({ cores: 0.5 }), local: true });
      expect(await bs.getIssuedBatchJobIds()).toContain(id);
      const got = await collect(bs, 2);
      expect(got.get(id)).toMatchObject({ jobId: id, exitStatus: 9 });
      expect(got.get(slurmJob)).toMatchObject({ exitStatus: 0 });
      expect(counts.sbatch).toBe(1);
      // The single-machine system's own ids never leak: its ExternalBatchId messages carry ours.
      const external = messages.filter((m) => m.type === "ExternalBatchId");
      expect(external.find((m) => m.batchSystem === "slurm")?.batchId).toBe(slurmJob);
      expect(external.filter((m) => m.batchSystem !== "slurm").map((m) => m.batchId)).toEqual([id]);
    });

    it("a local job's output goes to the output option (the leader prints it), never to the leader's own stdout and stderr; the logger gets the single-machine system's messages", async (ctx) => {
      const leaderDir = resolve(here, "../../../apps/leader");
      if (!existsSync(join(leaderDir, "node_modules/@toil/batch-local/package.json"))) {
        // In CI (TOIL_TEST_REQUIRE_SLURM=1) the workspace install provides it: a skip there would hide a broken install.
        if (requireSlurm) throw new Error("@toil/batch-local is not installed next to the leader (apps/leader/node_modules): run pnpm install");
        ctx.skip("@toil/batch-local is not installed next to the leader");
      }
      const received: Record<"stdout" | "stderr", string> = { stdout: "", stderr: "" };
      const logged: string[] = [];
      const { bs } = make(
        {},
        {
          localSearchFrom: [leaderDir],
          output: (stream, chunk) => void (received[stream] += chunk.toString("utf8")),
          logger: (_level, message) => void logged.push(message),
        },
      );
      const id = await bs.issueBatchJob("sh -c 'echo local-out; echo local-err >&2'", { jobName: "loc", requirements: req({ cores: 0.5 }), local: true });
      const missing = await bs.issueBatchJob("/nonexistent/toil-test-command", { jobName: "gone", requirements: req({ cores: 0.5 }), local: true });
      const got = await collect(bs, 2);
      expect(got.get(id)).toMatchObject({ exitStatus: 0 });
      expect(got.get(missing)?.exitStatus).not.toBe(0);
      await until("the output to arrive", () => received.stdout.includes("local-out") && received.stderr.includes("local-err"), 10);
      expect(logged.join("\n")).toContain("/nonexistent/toil-test-command");
    });
  });
});
