import type { Requirements } from "@toil/batch-core";
import { describe, expect, it } from "vitest";
import {
  NoSuitablePartitionError,
  PartitionSet,
  parseSinfo,
  parseSlurmArgs,
  resolveSlurmSettings,
  resourceArgs,
  SlurmArgsError,
  SlurmOptionError,
  type SbatchSettings,
  SLURM_OPTIONS,
} from "../src/index.js";
import { slurmArgsWords } from "../src/options.js";
import { validateBatchSystemOptionSpecs } from "@toil/batch-core";

// The shape of a cluster with short/medium/long CPU partitions and one GPU partition
// (the table Toil's own Slurm tests use, in sinfo's "%P %G %l %p %c %m" form).
const SINFO = `PARTITION GRES TIMELIMIT PRIO_TIER CPUS MEMORY
short* (null) 1:00:00 500 256+ 1996800+
medium (null) 12:00:00 500 256+ 1996800+
long (null) 14-00:00:00 500 256+ 1996800+
gpu gpu:A100:8 1-00:00:00 5000 256 996800
gpu gpu:A5500:8 1-00:00:00 5000 256 1996800
high_priority (null) 1-00:00:00 65000 256+ 1996800+
`;
const partitions = new PartitionSet(parseSinfo(SINFO));
const choose = (t: number | undefined, gpu: boolean) => partitions.choose(t, gpu);

const MiB = 2 ** 20;
const req = (over: Partial<Requirements> = {}): Requirements => ({
  cores: 1,
  memory: 100 * MiB,
  disk: 0,
  accelerators: [],
  preemptible: false,
  ...over,
});
const base: SbatchSettings = {
  allocateMem: true,
  defaultAllMem: false,
  time: undefined,
  partition: undefined,
  gpuPartition: undefined,
  pe: undefined,
  qos: undefined,
  gpuQos: undefined,
  memoryIsProduct: false,
  defaultMemory: undefined,
};
function build(opts: { settings?: Partial<SbatchSettings>; args?: string; r?: Partial<Requirements>; walltime?: number; env?: Record<string, string> } = {}) {
  return resourceArgs(
    { requirements: req(opts.r), walltime: opts.walltime ?? 5, environment: opts.env ?? {} },
    { ...base, ...opts.settings },
    parseSlurmArgs(slurmArgsWords(opts.args ?? "")),
    choose,
  );
}

describe("sinfo partitions", () => {
  it("merges repeated partitions and marks GRES and the default", () => {
    const ps = parseSinfo(SINFO);
    expect(ps.map((p) => p.name)).toEqual(["short", "medium", "long", "gpu", "high_priority"]);
    expect(ps.find((p) => p.name === "short")?.isDefault).toBe(true);
    expect(ps.find((p) => p.name === "gpu")?.gres).toBe(true);
  });

  it.each([
    [0, "short"],
    [600, "short"],
    [3600, "short"],
    [2 * 3600, "medium"],
    [6 * 86400, "long"],
    [8 * 86400, "long"],
  ])("a %d s job goes to %s", (t, name) => {
    expect(partitions.choose(t, false)).toBe(name);
  });

  it("refuses a job longer than every partition", () => {
    expect(() => partitions.choose(365 * 86400, false)).toThrow(NoSuitablePartitionError);
    expect(() => partitions.choose(365 * 86400, false)).toThrow(/--slurmPartition/);
  });

  it("sends GPU jobs to the GPU partition with the lowest priority tier", () => {
    expect(partitions.defaultGpuPartition?.name).toBe("gpu");
    expect(partitions.choose(3600, true)).toBe("gpu");
  });

  it("refuses GPU jobs on a cluster without GPU partitions", () => {
    const cpuOnly = new PartitionSet(parseSinfo("debug*|(null)|infinite|1\n"));
    expect(() => cpuOnly.choose(60, true)).toThrow(/--slurmGPUPartition/);
  });

  it("passes no partition when time is unknown or sinfo gave nothing", () => {
    expect(partitions.choose(undefined, false)).toBeUndefined();
    expect(new PartitionSet([]).choose(100, false)).toBeUndefined();
  });

  it("reads the local cluster's recorded sinfo", () => {
    const ps = parseSinfo("debug*|(null)|infinite|1\n");
    expect(ps).toEqual([{ name: "debug", gres: false, timeLimit: Infinity, priority: 1, isDefault: true }]);
  });
});

describe("sbatch arguments", () => {
  it("builds Toil's defaults: export, partition by time, memory in MiB rounded up, cpus rounded up, time", () => {
    expect(build({ r: { memory: 100 * MiB + 1, cores: 1.5 } })).toEqual([
      "--export=ALL",
      "--partition=short",
      "--mem=101M",
      "--cpus-per-task=2",
      "--time=0:5",
    ]);
  });

  it("omits --time without a time limit, and --mem with --slurmAllocateMem false", () => {
    const args = resourceArgs({ requirements: req(), environment: {} }, { ...base, allocateMem: false }, parseSlurmArgs([]), choose);
    expect(args).toEqual(["--export=ALL", "--cpus-per-task=1"]);
  });

  it("gives default-memory jobs a whole node with --slurmDefaultAllMem", () => {
    expect(build({ settings: { defaultAllMem: true, defaultMemory: 100 * MiB } })).toContain("--mem=0");
    expect(build({ settings: { defaultAllMem: true, defaultMemory: 200 * MiB } })).toContain("--mem=100M");
  });

  it("asks for memory per CPU with --memoryIsProduct", () => {
    expect(build({ settings: { memoryIsProduct: true }, r: { cores: 4, memory: 400 * MiB } })).toContain("--mem-per-cpu=100M");
  });

  it("uses --slurmTime over the job's walltime, and --time in --slurmArgs over both", () => {
    expect(build({ settings: { time: 30 } })).toContain("--time=0:30");
    const a = build({ settings: { time: 30 }, args: "--time 10:00:00" });
    expect(a).toContain("--time=0:36000");
    expect(a).toContain("--partition=medium");
  });

  it.each(["--partition foo", "--partition=foo", "-p foo", "-pfoo"])("lets %s in --slurmArgs pick the partition", (args) => {
    const a = build({ args, settings: { partition: "foobar" } });
    expect(a.filter((x) => x.startsWith("--partition"))).toEqual(["--partition=foo"]);
  });

  it("uses --slurmPartition over the automatic choice", () => {
    expect(build({ settings: { partition: "foobar" } })).toContain("--partition=foobar");
  });

  it("uses --slurmPE for multi-core jobs and --slurmGPUPartition/--slurmGPUQOS for GPU jobs", () => {
    const s = { partition: "p", pe: "smp", gpuPartition: "gpux", qos: "normal", gpuQos: "gpuq" };
    expect(build({ settings: s, r: { cores: 2 } })).toEqual(expect.arrayContaining(["--partition=smp", "--qos=normal"]));
    expect(build({ settings: s, r: { cores: 1 } })).toContain("--partition=p");
    const g = build({ settings: s, r: { cores: 2, accelerators: [{ kind: "gpu", count: 2 }] } });
    expect(g).toEqual(expect.arrayContaining(["--partition=gpux", "--qos=gpuq", "--gres=gpu:2"]));
  });

  it("sends GPU jobs to the default GPU partition automatically", () => {
    expect(build({ r: { accelerators: [{ kind: "gpu", count: 1 }] } })).toEqual(
      expect.arrayContaining(["--partition=gpu", "--gres=gpu:1"]),
    );
  });

  it("takes --qos from --slurmArgs over --slurmQOS", () => {
    expect(build({ settings: { qos: "a" }, args: "--qos=b" })).toContain("--qos=b");
    expect(build({ settings: { qos: "a" }, args: "--qos=b" })).not.toContain("--qos=a");
  });

  it("replaces ALL by a user --export and appends the job's variables; --export-file suppresses --export", () => {
    expect(build({ args: "--export=NONE", env: { A: "1" } })).toContain("--export=NONE,A=1");
    const f = build({ args: "--export-file=/tmp/e" });
    expect(f.some((x) => x.startsWith("--export="))).toBe(false);
    expect(f).toContain("--export-file=/tmp/e");
  });

  it("refuses a comma in a variable that must go through a user --export", () => {
    expect(() => build({ args: "--export=NONE", env: { A: "1,2" } })).toThrow(SlurmArgsError);
  });

  it("passes other arguments through, in order and before Toil's", () => {
    const a = build({ args: `--account=lab --comment "two words" -J custom` });
    expect(a.slice(0, 5)).toEqual(["--account=lab", "--comment", "two words", "-J", "custom"]);
  });

  it.each(["--mem=10G", "--mem 10G", "--mem-per-cpu=1G", "--mem-per-gpu=1G", "-c 4", "-c4", "--cpus-per-task=4", "--cpus-per-gpu=2"])(
    "refuses %s in --slurmArgs as a conflict with Toil's own flags",
    (args) => {
      expect(() => parseSlurmArgs(slurmArgsWords(args))).toThrow(SlurmArgsError);
      expect(() => parseSlurmArgs(slurmArgsWords(args))).toThrow(/requirement/);
    },
  );

  it.each(["--array=0-3", "--wrap=true", "--parsable"])("refuses %s, which Toil manages", (args) => {
    expect(() => parseSlurmArgs(slurmArgsWords(args))).toThrow(SlurmArgsError);
  });

  it("says which option lacks a value", () => {
    expect(() => parseSlurmArgs(["--partition"])).toThrow(/--partition needs a value/);
  });
});

describe("--slurmArgs word splitting", () => {
  it("splits like a POSIX shell", () => {
    expect(slurmArgsWords(`a 'b c' "d \\"e\\"" f\\ g  `)).toEqual(["a", "b c", 'd "e"', "f g"]);
    expect(slurmArgsWords("")).toEqual([]);
  });
  it("rejects unbalanced quotes", () => {
    expect(() => slurmArgsWords(`--comment "x`)).toThrow(SlurmArgsError);
    expect(() => slurmArgsWords(`--comment "x`)).toThrow(/--slurmArgs.*double quote/);
    expect(() => slurmArgsWords(`'x`)).toThrow(/single quote/);
  });
});

describe("options", () => {
  it("declares valid option specs with TOIL_SLURM_* variables", () => {
    expect(() => validateBatchSystemOptionSpecs(SLURM_OPTIONS, "slurm")).not.toThrow();
    for (const o of SLURM_OPTIONS) expect(o.env).toMatch(/^TOIL_SLURM_/);
  });

  it("reads environment variables, with config values winning", () => {
    const env = { TOIL_SLURM_PARTITION: "envp", TOIL_SLURM_TIME: "1:00:00", TOIL_SLURM_ARGS: "--account=x", TOIL_SLURM_ARRAYS: "false" };
    const s = resolveSlurmSettings({ workflowId: "w" }, env);
    expect(s).toMatchObject({ partition: "envp", time: 3600, args: ["--account=x"], arrays: false, allocateMem: true });
    const c = resolveSlurmSettings({ workflowId: "w", batchOptions: { slurmPartition: "cfgp" } }, env);
    expect(c.partition).toBe("cfgp");
  });

  it("uses the shared polling and job limits from the config", () => {
    const s = resolveSlurmSettings({ workflowId: "w", statePollingWait: 2, statePollingTimeout: 30, maxJobs: 7 }, {});
    expect(s).toMatchObject({ statePollingWait: 2, statePollingTimeout: 30, maxJobs: 7, arrayMinJobs: 4 });
  });

  it("rejects bad values with the option's name", () => {
    expect(() => resolveSlurmSettings({ workflowId: "w" }, { TOIL_SLURM_ALLOCATE_MEM: "maybe" })).toThrow(SlurmOptionError);
    expect(() => resolveSlurmSettings({ workflowId: "w" }, { TOIL_SLURM_TIME: "soon" })).toThrow(/soon/);
    expect(() => resolveSlurmSettings({ workflowId: "w" }, { TOIL_SLURM_ARGS: `"unbalanced` })).toThrow(/quote/);
    expect(() => resolveSlurmSettings({ workflowId: "w" }, { TOIL_SLURM_ARRAY_MIN_JOBS: "0" })).toThrow(/slurmArrayMinJobs/);
  });
});
