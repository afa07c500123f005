import { readFileSync, statfsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { InsufficientSystemResources } from "@toil/batch-core";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, desc, drain, kitJob, makeBatchSystem, next, observedConcurrency, tempDir, until } from "./helpers.js";

afterEach(cleanup, 60_000);

describe("single machine scheduling", () => {
  it("caps limits at what the machine has, with a warning", () => {
    const bs = makeBatchSystem({ maxCores: 1000, maxMemory: 1e18, maxDisk: 1e18 });
    expect(bs.maxCores).toBe(availableParallelism());
    expect(bs.maxMemory).toBeLessThan(1e18);
    expect(bs.maxDisk).toBeLessThan(1e18);
    expect(bs.warnings.join("\n")).toMatch(/maxCores.*1000/);
    expect(bs.warnings.join("\n")).toMatch(/maxMemory/);
    expect(bs.warnings.join("\n")).toMatch(/maxDisk/);
    expect(makeBatchSystem({ maxCores: 1 }).warnings).toEqual([]);
  });

  it("accounts cores in tenths, rounding requests up (a 0.1-core machine runs 0.05-core jobs one at a time)", async () => {
    const bs = makeBatchSystem({ maxCores: 0.1 }, { warmWorkers: true });
    const dir = tempDir();
    for (let i = 0; i < 4; i++) await bs.issueBatchJob(kitJob("concurrency", dir, 0.1), desc(`j${i}`, { cores: 0.05 }));
    expect((await drain(bs, 4)).map((u) => u.exitStatus)).toEqual([0, 0, 0, 0]);
    expect(Math.max(...observedConcurrency(dir))).toBe(1);
    await expect(bs.issueBatchJob("true", desc("big", { cores: 0.2 }))).rejects.toBeInstanceOf(InsufficientSystemResources);
  });

  it("concurrency stays within maxCores / cores per job (scenario 79)", async () => {
    const ncpu = availableParallelism();
    const maxes = [...new Set([0.1, 1, ncpu / 2, ncpu])].filter((m) => m >= 0.1);
    for (const maxCores of maxes) {
      const perJob = [...new Set([0.1, 1, maxCores / 2, maxCores])].filter((c) => c >= 0.1 && c <= maxCores);
      for (const coresPerJob of perJob) {
        for (const load of [1, 2]) {
          const bs = makeBatchSystem({ maxCores }, { warmWorkers: true });
          const slots = Math.floor(Math.round(maxCores * 10) / Math.ceil(Math.round(coresPerJob * 100) / 10));
          const jobs = Math.min(Math.max(1, Math.ceil(slots * load)), 8);
          const dir = tempDir();
          for (let i = 0; i < jobs; i++) await bs.issueBatchJob(kitJob("concurrency", dir, 0.05), desc(`c${i}`, { cores: coresPerJob }));
          const results = await drain(bs, jobs);
          expect(results.every((u) => u.exitStatus === 0)).toBe(true);
          const seen = observedConcurrency(dir);
          expect(seen).toHaveLength(jobs);
          expect(Math.max(...seen), `maxCores ${maxCores}, ${coresPerJob} cores/job, ${jobs} jobs`).toBeLessThanOrEqual(
            Math.min(slots, jobs),
          );
          await bs.shutdown();
        }
      }
    }
  }, 180_000);

  it("two jobs that together need more than the disk never run together (scenario 81)", async () => {
    const work = tempDir();
    const s = statfsSync(work);
    const free = s.bavail * s.bsize;
    const bs = makeBatchSystem({ maxDisk: free }, { warmWorkers: true }, { workDir: work });
    const dir = tempDir();
    const half = Math.floor(bs.maxDisk / 2);
    await bs.issueBatchJob(kitJob("concurrency", dir, 0.3), desc("a", { cores: 0.1, disk: half }));
    await bs.issueBatchJob(kitJob("concurrency", dir, 0.3), desc("b", { cores: 0.1, disk: half + 500 }));
    await drain(bs, 2);
    expect(Math.max(...observedConcurrency(dir))).toBe(1);
  });

  it("respects maxJobs slots", async () => {
    const bs = makeBatchSystem({ maxCores: 2 }, { warmWorkers: true }, { maxJobs: 1 });
    const dir = tempDir();
    for (let i = 0; i < 3; i++) await bs.issueBatchJob(kitJob("concurrency", dir, 0.1), desc(`s${i}`, { cores: 0.1 }));
    await drain(bs, 3);
    expect(Math.max(...observedConcurrency(dir))).toBe(1);
  });

  it("a big job waiting for cores does not block smaller ones behind it, and the status message says why", async () => {
    const bs = makeBatchSystem({ maxCores: 2 });
    const small1 = await bs.issueBatchJob("sleep 1000", desc("small-running", { cores: 1 }));
    const big = await bs.issueBatchJob("true", desc("big", { cores: 2 }));
    const small2 = await bs.issueBatchJob("true", desc("small-quick", { cores: 1 }));
    const u = await next(bs);
    expect(u.jobId).toBe(small2);
    expect(bs.getSchedulingStatusMessage()).toMatch(new RegExp(`Not enough cores to run job ${big}`));
    expect((await bs.getRunningBatchJobIds()).has(big)).toBe(false);
    await bs.killBatchJobs([small1]);
    expect((await next(bs)).jobId).toBe(big);
    expect(bs.getSchedulingStatusMessage()).toBeNull();
  });

  it("sets OMP_NUM_THREADS from cores unless already set (scenario 83)", async () => {
    const bs = makeBatchSystem({ maxCores: 2 }, { warmWorkers: false });
    const dir = tempDir();
    const omp = async (cores: number, env?: Record<string, string>) => {
      const f = join(dir, `omp-${cores}-${Math.random()}`);
      await bs.issueBatchJob(kitJob("writeenv", "OMP_NUM_THREADS", f), desc("omp", { cores }), env);
      expect((await next(bs)).exitStatus).toBe(0);
      return readFileSync(f, "utf8");
    };
    expect(await omp(0.1)).toBe("1");
    expect(await omp(1)).toBe("1");
    expect(await omp(2)).toBe("2");
    expect(await omp(2, { OMP_NUM_THREADS: "5" })).toBe("5");
    const saved = process.env.OMP_NUM_THREADS;
    process.env.OMP_NUM_THREADS = "7";
    try {
      const bs2 = makeBatchSystem({ maxCores: 2 }, { warmWorkers: false });
      const f = join(dir, "omp-leader");
      await bs2.issueBatchJob(kitJob("writeenv", "OMP_NUM_THREADS", f), desc("omp", { cores: 2 }));
      await next(bs2);
      expect(readFileSync(f, "utf8")).toBe("7");
    } finally {
      if (saved === undefined) delete process.env.OMP_NUM_THREADS;
      else process.env.OMP_NUM_THREADS = saved;
    }
  });

  it("schedules accelerators as a set and sets CUDA_VISIBLE_DEVICES to the acquired ones", async () => {
    const bs = makeBatchSystem({ maxCores: 2 }, { accelerators: 2, warmWorkers: false });
    const dir = tempDir();
    const gpu = [{ kind: "gpu", count: 1 }];
    await bs.issueBatchJob(`sh -c 'echo $CUDA_VISIBLE_DEVICES > ${dir}/a; sleep 0.3'`, desc("a", { cores: 0.1, accelerators: gpu }));
    await bs.issueBatchJob(`sh -c 'echo $CUDA_VISIBLE_DEVICES > ${dir}/b; sleep 0.3'`, desc("b", { cores: 0.1, accelerators: gpu }));
    await bs.issueBatchJob(`sh -c 'echo $CUDA_VISIBLE_DEVICES > ${dir}/c'`, desc("c", { cores: 0.1, accelerators: [{ kind: "gpu", count: 2 }] }));
    await drain(bs, 3);
    const a = readFileSync(join(dir, "a"), "utf8").trim();
    const b = readFileSync(join(dir, "b"), "utf8").trim();
    expect(new Set([a, b])).toEqual(new Set(["0", "1"]));
    expect(readFileSync(join(dir, "c"), "utf8").trim()).toBe("0,1");
    await expect(bs.issueBatchJob("true", desc("x", { accelerators: [{ kind: "gpu", count: 3 }] }))).rejects.toThrow(/accelerators/);
    await expect(bs.issueBatchJob("true", desc("y", { accelerators: [{ kind: "fpga", count: 1 }] }))).rejects.toBeInstanceOf(
      InsufficientSystemResources,
    );
    const none = makeBatchSystem({}, { accelerators: [] });
    await expect(none.issueBatchJob("true", desc("z", { accelerators: [{ kind: "gpu", count: 1 }] }))).rejects.toThrow(
      /no accelerators are available/,
    );
  });

  it("waits until a killed job is really gone before kill returns", async () => {
    const bs = makeBatchSystem();
    const id = await bs.issueBatchJob("sleep 1000", desc("s"));
    await until("running", async () => (await bs.getRunningBatchJobIds()).has(id));
    const [pid] = bs.leftoverProcesses();
    expect(pid).toBeGreaterThan(0);
    await bs.killBatchJobs([id]);
    expect(bs.leftoverProcesses()).toEqual([]);
    expect(() => process.kill(pid as number, 0)).toThrow();
  });
});
