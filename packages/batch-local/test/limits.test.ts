/**
 * `--scale` is applied before the limits are checked (as in Toil), and a job that cannot fit says
 * what will let it run: a limit the user set can be raised, the machine's size cannot.
 */
import { availableParallelism } from "node:os";
import { InsufficientSystemResources } from "@toil/batch-core";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, desc, makeBatchSystem, next } from "./helpers.js";

afterEach(cleanup, 60_000);

async function refusal(promise: Promise<unknown>): Promise<InsufficientSystemResources> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InsufficientSystemResources);
  return err as InsufficientSystemResources;
}

describe("--scale and the resource limits", () => {
  it("a 3-core job with --maxCores 2 --scale 0.5 runs (the cores are scaled first)", async () => {
    const bs = makeBatchSystem({ maxCores: Math.min(2, availableParallelism()) }, { warmWorkers: false }, { scale: 0.5 });
    const cores = Math.min(2, availableParallelism()) * 1.5;
    const id = await bs.issueBatchJob("true", desc("three", { cores }));
    const done = await next(bs);
    expect(done).toMatchObject({ jobId: id, exitStatus: 0 });
  });

  it("without --scale the same job is refused, naming --maxCores and --scale as fixes a restart can apply", async () => {
    const cpus = availableParallelism();
    if (cpus < 2) return; // the user's limit can only be below the machine's with 2 CPUs or more
    const bs = makeBatchSystem({ maxCores: 1 });
    const err = await refusal(bs.issueBatchJob("true", desc("two", { cores: 2 })));
    expect(err.restartOptions).toEqual(["--maxCores", "--scale"]);
    expect(err.message).toMatch(/Raise --maxCores \(this machine has \d+ CPUs\)/);
    expect(err.message).toContain("--scale 0.5");
  });

  it("more cores than the machine has: --maxCores cannot help, so the advice does not offer it", async () => {
    const cpus = availableParallelism();
    const bs = makeBatchSystem({ maxCores: Infinity });
    const err = await refusal(bs.issueBatchJob("true", desc("huge", { cores: cpus * 2 })));
    expect(err.message).toContain(`this machine has ${cpus} CPU`);
    expect(err.message).toContain("whatever --maxCores says");
    expect(err.message).not.toMatch(/raise the batch system's limit|Raise --maxCores/);
    expect(err.message).toContain("--batchSystem slurm");
    expect(err.restartOptions).toEqual(["--scale"]);
    // The --scale it suggests does let the job run.
    const suggested = Number(/--scale ([\d.]+)/.exec(err.message)![1]);
    expect(suggested).toBe(0.5);
    const scaled = makeBatchSystem({ maxCores: Infinity }, { warmWorkers: false }, { scale: suggested });
    await scaled.issueBatchJob("true", desc("huge", { cores: cpus * 2 }));
    expect((await next(scaled)).exitStatus).toBe(0);
  });

  it("more memory than the machine has: only changing the job (or the batch system) helps", async () => {
    const bs = makeBatchSystem({ maxMemory: Infinity });
    const err = await refusal(bs.issueBatchJob("true", desc("mem", { cores: 0.1, memory: 2 ** 60 })));
    expect(err.restartOptions).toEqual([]);
    expect(err.message).toContain("physical memory");
    expect(err.message).not.toMatch(/Raise --maxMemory/);
    const limited = makeBatchSystem({ maxMemory: 2 ** 20 });
    const err2 = await refusal(limited.issueBatchJob("true", desc("mem", { cores: 0.1, memory: 2 ** 21 })));
    expect(err2.restartOptions).toEqual(["--maxMemory"]);
  });
});
