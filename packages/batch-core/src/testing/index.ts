/**
 * Conformance kit for batch systems: one call registers the whole contract's test suite with
 * vitest, against any batch system class or factory.
 *
 * @example
 * // test/conformance.test.ts of a plugin
 * import { describeBatchSystemConformance } from "@toil/batch-core/testing";
 * import MyBatchSystem from "../src/index.js";
 * describeBatchSystemConformance("my-batch", MyBatchSystem);
 *
 * @module @toil/batch-core/testing
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import type { BatchJobDescription, BatchSystem, BatchSystemClass, BatchSystemConfig, Environment } from "../batch-system.js";
import { shellCommand } from "../command.js";
import { InsufficientSystemResources } from "../errors.js";
import { BatchJobExitReason, type UpdatedBatchJobInfo } from "../exit.js";
import type { Requirements } from "../requirements.js";

/** What the kit passes to a factory: the seed's constructor arguments. */
export interface ConformanceContext {
  /** Settings for the batch system under test (a fresh workflow id and work directory). */
  config: BatchSystemConfig;
  /** Most cores one job may ask for. */
  maxCores: number;
  /** Most memory in bytes one job may ask for. */
  maxMemory: number;
  /** Most disk in bytes one job may ask for. */
  maxDisk: number;
}

/** Builds a fresh batch system for one test. */
export type BatchSystemFactoryForTests = (ctx: ConformanceContext) => BatchSystem | Promise<BatchSystem>;

/** Options of {@link describeBatchSystemConformance}. */
export interface ConformanceOptions {
  /** Multiply every wait and test timeout (a slow backend such as Slurm may use 10 or more). Default 1. */
  timeoutScale?: number;
  /** Base directory for the files jobs write; must be visible to the jobs (a shared filesystem for a cluster). Default: OS temp dir. */
  workDir?: string;
  /** How jobs invoke node (default: this process's executable path). */
  nodeCommand?: string;
  /** Whether processes of jobs are visible to the test process (same machine), so "no process left behind" can be checked. Default true. */
  localProcesses?: boolean;
  /** Whether the backend enforces `maxCores` as a limit on concurrently running jobs. Default true. */
  enforcesConcurrency?: boolean;
  /** Whether a job killed by a signal reports 128 + signal. Default true. */
  signalExitStatus?: boolean;
  /** Cores the kit's jobs request (default 1; use 0.1 to pack many jobs). */
  jobCores?: number;
  /** Names of tests to skip (as they appear in the report). */
  skip?: readonly string[];
  /** Run only these tests (by name as they appear in the report); default: all. */
  only?: readonly string[];
  /** Extra config fields passed to the batch system. */
  config?: Partial<BatchSystemConfig>;
}

function findFixture(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, "fixtures", "kit-job.mjs");
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error("Cannot find fixtures/kit-job.mjs of @toil/batch-core (broken installation).");
    dir = parent;
  }
}

/**
 * Path of the kit's job script (`fixtures/kit-job.mjs`): `node <path> <mode> ...` sleeps, exits
 * with a code, records concurrency, starts orphans, kills itself or dumps its argv, for tests of a
 * batch system beyond the kit's own.
 */
export function kitJobScript(): string {
  return findFixture();
}

const GiB = 2 ** 30;

/** Name of the conformance test that checks hostile argv, environment values and job names arrive literally. */
export const HOSTILE_TEST = "hostile arguments, environment values and job names arrive literally";

/**
 * Words a shell would act on: separators, substitutions, quotes, newlines, globs, options,
 * assignments. `canary` is a file that must never be created (the substitutions try to).
 * Batch systems must pass each of them to the job literally.
 */
export function hostileWords(canary: string): string[] {
  return [
    `a; touch ${canary}`,
    `$(touch ${canary})`,
    `\`touch ${canary}\``,
    `"double" 'single' \\back\\slash`,
    "line one\nline two\n",
    "tab\there",
    "*",
    "-e",
    "--help",
    "",
    "$HOME ${PATH} $1 $@",
    "~",
    "A=b",
    "&& || | > < & #",
    `'; touch ${canary}; '`,
    "ünïcødé ✓ 名前",
    "  spaces around  ",
  ];
}

function quote(s: string): string {
  return /^[A-Za-z0-9_./=:@%+,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return true;
  }
}

function pidsIn(dir: string): number[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.startsWith("pid-"))
    .map((f) => Number(f.slice(4)));
}

/**
 * Register the batch-system conformance suite (vitest `describe`/`it`) for a batch system.
 *
 * @param name label of the suite
 * @param target the batch system class (constructed as `new C(config, maxCores, maxMemory, maxDisk)`) or a factory
 * @param options timeouts, work directory and capability switches
 */
export function describeBatchSystemConformance(
  name: string,
  target: BatchSystemClass | BatchSystemFactoryForTests,
  options: ConformanceOptions = {},
): void {
  const scale = options.timeoutScale ?? 1;
  const fixture = findFixture();
  const nodeCmd = options.nodeCommand ?? process.execPath;
  const localProcesses = options.localProcesses ?? true;
  const jobCores = options.jobCores ?? 1;
  const skip = new Set(options.skip ?? []);
  const factory: BatchSystemFactoryForTests =
    typeof (target as BatchSystemClass).prototype?.issueBatchJob === "function"
      ? (ctx) => new (target as BatchSystemClass)(ctx.config, ctx.maxCores, ctx.maxMemory, ctx.maxDisk)
      : (target as BatchSystemFactoryForTests);

  const live: BatchSystem[] = [];
  const dirs: string[] = [];
  let counter = 0;

  const only = options.only ? new Set(options.only) : null;
  const test = (title: string, fn: () => Promise<void>, seconds = 30) =>
    (skip.has(title) || (only !== null && !only.has(title)) ? it.skip : it)(title, fn, seconds * 1000 * scale);

  function tempDir(): string {
    const base = options.workDir ?? tmpdir();
    const d = mkdtempSync(join(base, "toil-kit-"));
    dirs.push(d);
    return d;
  }

  async function make(limits: Partial<Omit<ConformanceContext, "config">> = {}): Promise<BatchSystem> {
    const workDir = tempDir();
    const ctx: ConformanceContext = {
      config: { workflowId: `kit-${process.pid}-${++counter}`, workDir, ...options.config },
      maxCores: limits.maxCores ?? 2,
      maxMemory: limits.maxMemory ?? 2 * GiB,
      maxDisk: limits.maxDisk ?? 2 * GiB,
    };
    const bs = await factory(ctx);
    live.push(bs);
    return bs;
  }

  function req(over: Partial<Requirements> = {}): Requirements {
    return { cores: jobCores, memory: 64 * 2 ** 20, disk: 2 ** 20, accelerators: [], preemptible: false, ...over };
  }

  function desc(jobName: string, over: Partial<Requirements> = {}): BatchJobDescription {
    return { jobName, requirements: req(over) };
  }

  /** A command running the kit's job script. */
  function kitJob(...args: (string | number)[]): string {
    return [nodeCmd, fixture, ...args.map(String)].map(quote).join(" ");
  }

  async function waitFor<T>(what: string, probe: () => Promise<T | null | undefined | false>, seconds = 20): Promise<T> {
    const deadline = Date.now() + seconds * 1000 * scale;
    let delay = 10;
    for (;;) {
      const v = await probe();
      if (v) return v;
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 250 * scale);
    }
  }

  async function nextUpdate(bs: BatchSystem, seconds = 30): Promise<UpdatedBatchJobInfo> {
    const deadline = Date.now() + seconds * 1000 * scale;
    for (;;) {
      const left = Math.max(0.05, (deadline - Date.now()) / 1000);
      const u = await bs.getUpdatedBatchJob(Math.min(left, 5 * scale));
      if (u) return u;
      if (Date.now() > deadline) throw new Error("Timed out waiting for getUpdatedBatchJob to report a job");
    }
  }

  async function runOne(bs: BatchSystem, command: string, env?: Environment, over?: Partial<Requirements>): Promise<UpdatedBatchJobInfo> {
    const id = await bs.issueBatchJob(command, desc("kit", over), env);
    const u = await nextUpdate(bs);
    expect(u.jobId).toBe(id);
    return u;
  }

  describe(`batch system conformance: ${name}`, () => {
    afterEach(async () => {
      for (const bs of live.splice(0)) await bs.shutdown();
      for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
    }, 120_000 * scale);

    test("issued and running ids, kill, then never reported", async () => {
      const bs = await make();
      const a = await bs.issueBatchJob(kitJob("sleep", 1000), desc("a"));
      const b = await bs.issueBatchJob(kitJob("sleep", 1000), desc("b"));
      expect(a).not.toBe(b);
      expect(new Set(await bs.getIssuedBatchJobIds())).toEqual(new Set([a, b]));
      const running = await waitFor("both jobs running", async () => {
        const r = await bs.getRunningBatchJobIds();
        return r.has(a) && r.has(b) ? r : null;
      });
      for (const secs of running.values()) expect(secs).toBeGreaterThanOrEqual(0);
      await bs.killBatchJobs([a, b]);
      expect((await bs.getRunningBatchJobIds()).size).toBe(0);
      expect(await bs.getIssuedBatchJobIds()).toEqual([]);
      expect(await bs.getUpdatedBatchJob(0)).toBeNull();
    });

    test("a finished job is reported once with status, reason, wall time", async () => {
      const bs = await make();
      const id = await bs.issueBatchJob(kitJob("exit", 0), desc("ok"));
      const u = await nextUpdate(bs);
      expect(u.jobId).toBe(id);
      expect(u.exitStatus).toBe(0);
      expect([BatchJobExitReason.FINISHED, null]).toContain(u.exitReason);
      if (u.wallTime !== null) expect(u.wallTime).toBeGreaterThan(0);
      expect(await bs.getUpdatedBatchJob(0)).toBeNull();
      expect(await bs.getIssuedBatchJobIds()).not.toContain(id);
    });

    test("every job is reported exactly once", async () => {
      const bs = await make();
      const want = new Map<number, number>();
      for (let i = 0; i < 12; i++) want.set(await bs.issueBatchJob(kitJob("exit", i), desc(`j${i}`, { cores: 0.1 })), i);
      const seen = new Map<number, number>();
      while (seen.size < want.size) {
        const u = await nextUpdate(bs);
        expect(seen.has(u.jobId)).toBe(false);
        expect(want.has(u.jobId)).toBe(true);
        seen.set(u.jobId, u.exitStatus);
      }
      expect(seen).toEqual(want);
      expect(await bs.getUpdatedBatchJob(0)).toBeNull();
      expect(await bs.getIssuedBatchJobIds()).toEqual([]);
    });

    test("killing unknown ids is a no-op", async () => {
      const bs = await make();
      await bs.killBatchJobs([987654, -1]);
      const id = await bs.issueBatchJob(kitJob("exit", 0), desc("after"));
      await bs.killBatchJobs([id + 1000]);
      expect((await nextUpdate(bs)).jobId).toBe(id);
    });

    test("a killed queued or running job is never reported", async () => {
      const bs = await make({ maxCores: 1 });
      const running = await bs.issueBatchJob(kitJob("sleep", 1000), desc("running", { cores: 1 }));
      const queued = await bs.issueBatchJob(kitJob("exit", 0), desc("queued", { cores: 1 }));
      await waitFor("the first job running", async () => (await bs.getRunningBatchJobIds()).has(running));
      await bs.killBatchJobs([queued]);
      await bs.killBatchJobs([running]);
      const witness = await bs.issueBatchJob(kitJob("exit", 7), desc("witness", { cores: 1 }));
      const u = await nextUpdate(bs);
      expect(u.jobId).toBe(witness);
      expect(u.exitStatus).toBe(7);
      expect(await bs.getUpdatedBatchJob(0)).toBeNull();
    });

    test("exit status and reason of failures", async () => {
      const bs = await make();
      const u = await runOne(bs, kitJob("exit", 3));
      expect(u.exitStatus).toBe(3);
      expect([BatchJobExitReason.FAILED, null]).toContain(u.exitReason);
      const s = await runOne(bs, "sh -c 'exit 5'");
      expect(s.exitStatus).toBe(5);
    });

    if (options.signalExitStatus ?? true) {
      test("a job killed by a signal reports 128 + signal", async () => {
        const bs = await make();
        const u = await runOne(bs, kitJob("signal", "SIGKILL"));
        expect(u.exitStatus).toBe(137);
        expect([BatchJobExitReason.KILLED, BatchJobExitReason.FAILED, null]).toContain(u.exitReason);
      });
    }

    test("a job that ends its own process reports that exit status, and the next job runs", async () => {
      const bs = await make();
      expect((await runOne(bs, kitJob("processexit", 9))).exitStatus).toBe(9);
      expect((await runOne(bs, kitJob("exit", 4))).exitStatus).toBe(4);
    });

    test("a variable a job sets in its own process does not reach the next job", async () => {
      const bs = await make();
      expect((await runOne(bs, kitJob("leakenv", "TOIL_KIT_LEAKED"))).exitStatus).toBe(0);
      expect((await runOne(bs, kitJob("procenv", "TOIL_KIT_LEAKED"))).exitStatus).toBe(0);
    });

    test("a command that cannot start fails clearly", async () => {
      const bs = await make();
      const u = await runOne(bs, "/nonexistent/toil-kit-no-such-command --flag");
      expect(u.exitStatus).not.toBe(0);
    });

    test("setEnv applies to jobs issued afterwards", async () => {
      const bs = await make();
      expect((await runOne(bs, kitJob("envcheck", "TOIL_KIT_FOO", "bar"))).exitStatus).toBe(42);
      bs.setEnv("TOIL_KIT_FOO", "bar");
      expect((await runOne(bs, kitJob("envcheck", "TOIL_KIT_FOO", "bar"))).exitStatus).toBe(23);
    });

    test("setEnv without a value copies the leader's value, and refuses an unset one", async () => {
      const bs = await make();
      process.env.TOIL_KIT_COPIED = "copied";
      try {
        bs.setEnv("TOIL_KIT_COPIED");
      } finally {
        delete process.env.TOIL_KIT_COPIED;
      }
      expect((await runOne(bs, kitJob("envcheck", "TOIL_KIT_COPIED", "copied"))).exitStatus).toBe(23);
      expect(() => bs.setEnv("TOIL_KIT_SURELY_UNSET_VARIABLE")).toThrow(/TOIL_KIT_SURELY_UNSET_VARIABLE/);
    });

    test("per-job environment applies to that job only and wins over setEnv", async () => {
      const bs = await make();
      expect((await runOne(bs, kitJob("envcheck", "TOIL_KIT_FOO", "bar"), { TOIL_KIT_FOO: "bar" })).exitStatus).toBe(23);
      expect((await runOne(bs, kitJob("envcheck", "TOIL_KIT_FOO", "bar"))).exitStatus).toBe(42);
      bs.setEnv("TOIL_KIT_FOO", "batch");
      expect((await runOne(bs, kitJob("envcheck", "TOIL_KIT_FOO", "job"), { TOIL_KIT_FOO: "job" })).exitStatus).toBe(23);
    });

    test("requests that can never fit are refused at issue time", async () => {
      const bs = await make({ maxCores: 2, maxMemory: 1e9, maxDisk: 2001 });
      const refused = async (over: Partial<Requirements>, resource: string) => {
        const err = await bs.issueBatchJob(kitJob("exit", 0), desc("too-big", over)).then(
          () => null,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(InsufficientSystemResources);
        expect((err as InsufficientSystemResources).resource).toBe(resource);
        expect((err as Error).message).toContain(resource);
      };
      await refused({ cores: 2000, memory: 10, disk: 100 }, "cores");
      await refused({ cores: 1, memory: 5000e9, disk: 100 }, "memory");
      await refused({ cores: 1, memory: 10, disk: 2e9 }, "disk");
      await refused({ cores: 1, memory: 10, disk: 100, accelerators: [{ kind: "turbo-encabulator", count: 1 }] }, "accelerators");
      expect(await bs.getIssuedBatchJobIds()).toEqual([]);
      const ok = await runOne(bs, kitJob("exit", 0), undefined, { cores: 1, memory: 10, disk: 100 });
      expect(ok.exitStatus).toBe(0);
    });

    if (options.enforcesConcurrency ?? true) {
      test("issued includes queued jobs; running respects maxCores", async () => {
        const bs = await make({ maxCores: 1 });
        const ids: number[] = [];
        for (let i = 0; i < 3; i++) ids.push(await bs.issueBatchJob(kitJob("sleep", 1000), desc(`q${i}`, { cores: 1 })));
        expect(new Set(await bs.getIssuedBatchJobIds())).toEqual(new Set(ids));
        await waitFor("one job running", async () => (await bs.getRunningBatchJobIds()).size === 1);
        expect((await bs.getRunningBatchJobIds()).size).toBe(1);
        const msg = bs.getSchedulingStatusMessage();
        expect(msg === null || typeof msg === "string").toBe(true);
        await bs.killBatchJobs(ids);
        expect(await bs.getIssuedBatchJobIds()).toEqual([]);
      });

      test("concurrency never exceeds maxCores / cores per job", async () => {
        for (const [maxCores, cores, limit] of [
          [1, 1, 1],
          [1, 0.5, 2],
        ] as const) {
          const bs = await make({ maxCores });
          const dir = tempDir();
          const n = 5;
          for (let i = 0; i < n; i++) await bs.issueBatchJob(kitJob("concurrency", dir, 0.3), desc(`c${i}`, { cores }));
          for (let i = 0; i < n; i++) expect((await nextUpdate(bs)).exitStatus).toBe(0);
          const seen = readdirSync(dir)
            .filter((f) => f.startsWith("seen-"))
            .map((f) => Number(readFileSync(join(dir, f), "utf8")));
          expect(seen).toHaveLength(n);
          expect(Math.max(...seen)).toBeLessThanOrEqual(limit);
        }
      }, 60);
    }

    test("scheduling status message and worker contexts have the right types", async () => {
      const bs = await make();
      const msg = bs.getSchedulingStatusMessage();
      expect(msg === null || typeof msg === "string").toBe(true);
      expect(Array.isArray(bs.getWorkerContexts())).toBe(true);
    });

    if (localProcesses) {
      test("kill takes down the whole process tree, including escaped signal-ignoring descendants", async () => {
        const bs = await make();
        const dir = tempDir();
        const id = await bs.issueBatchJob(kitJob("orphans", dir, 1000), desc("orphans"));
        await waitFor("descendants started", async () => existsSync(join(dir, "ready")));
        const pids = pidsIn(dir);
        expect(pids.length).toBeGreaterThanOrEqual(5);
        await bs.killBatchJobs([id]);
        expect(pids.filter(alive)).toEqual([]);
        expect(await bs.getUpdatedBatchJob(0)).toBeNull();
      }, 60);

      test("shutdown leaves no process behind", async () => {
        const bs = await make();
        const dir = tempDir();
        await bs.issueBatchJob(kitJob("orphans", dir, 1000), desc("orphans"));
        const pidDir = tempDir();
        await bs.issueBatchJob(kitJob("pidfile", join(pidDir, "pid-job"), 1000), desc("sleeper", { cores: 0.5 }));
        await waitFor("descendants started", async () => existsSync(join(dir, "ready")));
        await waitFor("second job started", async () => existsSync(join(pidDir, "pid-job")));
        const pids = [...pidsIn(dir), Number(readFileSync(join(pidDir, "pid-job"), "utf8"))];
        await bs.shutdown();
        live.splice(live.indexOf(bs), 1);
        expect(pids.filter(alive)).toEqual([]);
      }, 60);
    }

    test(HOSTILE_TEST, async () => {
      const bs = await make();
      const dir = tempDir();
      const canary = join(dir, "canary-created-by-a-shell");
      const words = hostileWords(canary);
      const envValue = `x; touch ${canary}; $(touch ${canary}) \`touch ${canary}\` 'q' "dq"\nsecond line`;
      const setEnvValue = `\$(touch ${canary})'"\n;`;
      const jobName = `job; touch ${canary} $(touch ${canary}) \`x\` '"\nnext`;
      bs.setEnv("TOIL_KIT_HOSTILE_SET", setEnvValue);
      // With jobDesc.argv (what the leader issues), and the shell form alone (what a caller may issue).
      for (const withArgv of [true, false]) {
        const out = join(dir, `argv-${withArgv}.json`);
        const argv = [nodeCmd, fixture, "argvdump", out, "TOIL_KIT_HOSTILE", ...words];
        const jd: BatchJobDescription = { jobName, jobKind: jobName, requirements: req(), ...(withArgv ? { argv } : {}) };
        const id = await bs.issueBatchJob(shellCommand(argv), jd, { TOIL_KIT_HOSTILE: envValue });
        const u = await nextUpdate(bs);
        expect(u.jobId).toBe(id);
        expect(u.exitStatus).toBe(0);
        const got = JSON.parse(readFileSync(out, "utf8")) as { args: string[]; env: string | null };
        expect(got.args).toEqual(words);
        expect(got.env).toBe(envValue);
      }
      const envOut = join(dir, "setenv.txt");
      expect((await runOne(bs, kitJob("writeenv", "TOIL_KIT_HOSTILE_SET", envOut))).exitStatus).toBe(0);
      expect(readFileSync(envOut, "utf8")).toBe(setEnvValue);
      expect(existsSync(canary)).toBe(false);
    }, 60);

    test("issueBatchJob after shutdown is refused", async () => {
      const bs = await make();
      await bs.shutdown();
      live.splice(live.indexOf(bs), 1);
      await expect(bs.issueBatchJob(kitJob("exit", 0), desc("late"))).rejects.toThrow();
    });
  });
}
