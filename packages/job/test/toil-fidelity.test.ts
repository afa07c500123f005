// Places where a workflow written for Toil used to behave differently here: function-job options,
// the no-op job, what a FileID says about its file, and which options a restart carries over.
import { describe, expect, expectTypeOf, it } from "vitest";
import {
  FileID,
  FunctionWrappingJob,
  Job,
  JobFunctionWrappingJob,
  JobUsageError,
  NoopJob,
  asFileID,
  defaultConfig,
  executeJob,
  prepareRestart,
  prepareStart,
  promisedRequirement,
  saveJobGraph,
  serializeValue,
  type FileStore,
  type JobDescription,
  type JobStoreView,
} from "../src/index.js";
import { Greet, add, double, fn1, spawnChildren as withJob } from "./fixtures/index.js";
import { LocalFileStore, ResultStore } from "./fixtures/helpers.js";


function byName(descriptions: JobDescription[], name: string): JobDescription {
  const d = descriptions.find((x) => x.jobName === name && x.unitName !== "");
  if (!d) throw new Error(`no job ${name} with a unit name among ${descriptions.map((x) => x.jobName).join(", ")}`);
  return d;
}

describe("function jobs take the options class jobs take", () => {
  const options = { name: "sample-7", cores: 2, memory: "1Gi", disk: "5Mi", checkpoint: true } as const;

  it("Job.wrapFn / wrapJobFn: requirements, checkpoint, and Toil's name as the unit name", () => {
    for (const job of [Job.wrapFn(options, fn1, "a"), Job.wrapJobFn(options, withJob, 1)]) {
      const d = job.description;
      expect(d.unitName).toBe("sample-7");
      expect(d.checkpoint).toBe(true);
      expect(d.requirements).toMatchObject({ cores: 2, memory: 2 ** 30, disk: 5 * 2 ** 20 });
    }
    expect(Job.wrapFn(options, fn1, "a")).toBeInstanceOf(FunctionWrappingJob);
    expect(Job.wrapJobFn(options, withJob, 1)).toBeInstanceOf(JobFunctionWrappingJob);
    // The function's name stays the job's name.
    expect(Job.wrapFn(options, fn1, "a").description.jobName).toBe("fn1");
  });

  it("addChildFn / addFollowOnFn / addChildJobFn / addFollowOnJobFn pass them through", () => {
    const root = new Greet("root");
    const made = [
      root.addChildFn({ ...options, checkpoint: false, name: "c" }, fn1, "x"),
      root.addFollowOnFn({ ...options, checkpoint: false, name: "f" }, add, 1, 2),
      root.addChildJobFn({ ...options, checkpoint: false, name: "cj" }, withJob, 3),
      root.addFollowOnJobFn({ ...options, checkpoint: false, name: "fj" }, withJob, 4),
    ];
    expect(made.map((j) => j.description.unitName)).toEqual(["c", "f", "cj", "fj"]);
    for (const j of made) expect(j.description.requirements).toMatchObject({ cores: 2, memory: 2 ** 30 });
    const { descriptions } = saveJobGraph(root);
    expect(byName(descriptions, "add").requirements.cores).toBe(2);
  });

  it("a checkpoint function job is saved as a checkpoint", () => {
    const { descriptions } = saveJobGraph(Job.wrapFn({ checkpoint: true, name: "cp" }, fn1, "a"));
    expect(byName(descriptions, "fn1").checkpoint).toBe(true);
  });

  it("options may hold promised requirements, like a class job's", () => {
    const root = Job.wrapFn(add, 1, 2);
    const child = root.addFollowOnFn({ cores: promisedRequirement(double, root.rv()) }, fn1, "x");
    const { descriptions } = saveJobGraph(root);
    // The job is saved as the small shell that evaluates the requirement first (Toil's values).
    expect(descriptions.find((d) => d.id === child.jobStoreId)!.cores).toBe(0.1);
  });

  it("the argument types still follow the function", () => {
    expectTypeOf(Job.wrapFn({ cores: 1 }, add, 1, 2)).toEqualTypeOf<FunctionWrappingJob<[number, number], number>>();
    expectTypeOf(new Greet("r").addChildJobFn({ name: "n" }, withJob, 2)).toEqualTypeOf<JobFunctionWrappingJob<[number], Promise<unknown>>>();
    // @ts-expect-error: add takes numbers
    Job.wrapFn({ cores: 1 }, add, "1", 2);
    // @ts-expect-error: options go first, not after the function
    Job.wrapFn(add, { cores: 1 }, 1, 2);
  });

  it("bad options are refused with a clear error", () => {
    expect(() => Job.wrapFn({ name: "a", unitName: "b" }, fn1, "x")).toThrow(JobUsageError);
    expect(() => (Job.wrapFn as (...a: unknown[]) => unknown)({ cores: 1 }, "not a function")).toThrow(/expects a function/);
  });
});

describe("NoopJob", () => {
  it("is public, runs without a module to import, returns nothing, and joins two branches", async () => {
    const root = new Greet("root");
    const left = root.addChildFn(fn1, "l");
    const right = root.addChildFn(fn1, "r");
    const join = new NoopJob({ cores: 0.1, memory: "1Mi", disk: "1Mi" });
    left.addChild(join);
    right.addChild(join);
    join.addChildFn(fn1, "after");
    const { descriptions } = saveJobGraph(root);
    const joinDesc = descriptions.find((d) => d.id === join.description.id)!;
    expect(joinDesc.predecessorNumber).toBe(2);
    const out = await executeJob(joinDesc, new LocalFileStore(joinDesc.id), {
      resolver: new ResultStore(),
      importModule: () => Promise.reject(new Error("a no-op job imports nothing")),
    });
    expect(out.returnValue).toEqual(serializeValue(undefined));
  });
});

describe("fileStore.jobStore", () => {
  it("is typed as the job-facing part of the job store, so shared files need no cast", () => {
    expectTypeOf<FileStore["jobStore"]>().toEqualTypeOf<JobStoreView>();
    expectTypeOf<JobStoreView["readSharedFile"]>().returns.resolves.toEqualTypeOf<Buffer>();
  });
});

describe("FileID.size / FileID.executable (Toil's FileID.size and .executable)", () => {
  it("reads them from the id itself", () => {
    expect(FileID.size(asFileID("1024:-:f/abcdefghijklmnop/a.txt"))).toBe(1024);
    expect(FileID.executable(asFileID("1024:-:f/abcdefghijklmnop/a.txt"))).toBe(false);
    expect(FileID.size("0:x:j/job1/abcdefghijklmnop/run.sh")).toBe(0);
    expect(FileID.executable("0:x:j/job1/abcdefghijklmnop/run.sh")).toBe(true);
    expect(FileID.executable("7:xl:f/abcdefghijklmnop/a")).toBe(true);
  });
  it("refuses a string that is not a FileID", () => {
    for (const bad of ["bogus", "", "12:q:f/x/y", "-1:-:f/x/y"]) expect(() => FileID.size(bad)).toThrow(TypeError);
  });
});

describe("--restart and the fault-injection and debugging options", () => {
  const first = prepareStart(
    defaultConfig({ jobStore: "/js", badWorker: 0.5, badWorkerFailInterval: 2, disableWorkerOutputCapture: true, retryCount: 5 }),
  );

  it("are not carried over from the first run (Toil rebuilds them from the new command line)", () => {
    const restarted = prepareRestart(first, {});
    expect(restarted.badWorker).toBe(0);
    expect(restarted.badWorkerFailInterval).toBe(0.01);
    expect(restarted.disableWorkerOutputCapture).toBe(false);
    expect(restarted.debugWorker).toBe(false);
    // Other stored options keep the documented rule: stored value unless given again.
    expect(restarted.retryCount).toBe(5);
  });

  it("apply again when given again", () => {
    const restarted = prepareRestart(first, { badWorker: 0.25, badWorkerFailInterval: 1 });
    expect(restarted.badWorker).toBe(0.25);
    expect(restarted.badWorkerFailInterval).toBe(1);
  });
});
