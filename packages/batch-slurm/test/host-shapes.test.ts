// Worker host shapes: which host a job runs on, and which jobs go out as Slurm jobs of their own.
import type { BatchJobDescription, Requirements } from "@toil/batch-core";
import { describe, expect, it } from "vitest";
import { PartitionSet, parseSinfo, parseSlurmArgs, resolveSlurmSettings, slurmArgsWords } from "../src/index.js";
import { hostNodeFlags } from "../src/worker-hosts/host-slurm.js";
import { hostShapeOf, plainReason, shapeLabel } from "../src/worker-hosts/shapes.js";

const partitions = new PartitionSet(parseSinfo("short*|(null)|1:00:00|1\nlong|(null)|7-00:00:00|1\ngpu|gpu:a100:4|1-00:00:00|1\n"));
const choose = (t: number | undefined, gpu: boolean) => partitions.choose(t, gpu);
const MiB = 2 ** 20;
const job = (over: Partial<Requirements> = {}, rest: Partial<BatchJobDescription> = {}): BatchJobDescription => ({
  jobName: "j",
  requirements: { cores: 0.1, memory: 64 * MiB, disk: MiB, accelerators: [], preemptible: false, ...over },
  ...rest,
});
function settings(env: Record<string, string> = {}, args = "") {
  const s = resolveSlurmSettings({ workflowId: "w" }, { ...env, ...(args ? { TOIL_SLURM_ARGS: args } : {}) });
  return { s, user: parseSlurmArgs(slurmArgsWords(args)) };
}

describe("worker host shapes", () => {
  it("a host has a job's own resources; the job's variables and walltime are not part of its shape", () => {
    const { s, user } = settings();
    const a = hostShapeOf(job(), s, user, choose);
    expect(a.args).toEqual(["--export=ALL", "--mem=64M", "--cpus-per-task=1"]);
    expect(a.label).toBe("1 CPU, 64M memory");
    expect(hostShapeOf(job({}, { walltime: 600, jobKind: "other" }), s, user, choose).key).toBe(a.key);
    expect(hostShapeOf(job({ memory: 65 * MiB }), s, user, choose).key).not.toBe(a.key);
    expect(hostShapeOf(job({ cores: 3 }), s, user, choose).label).toBe("3 CPUs, 64M memory");
  });

  it("hosts take --slurmWorkerTime (else --time in --slurmArgs, else --slurmTime) as their limit, and a partition that allows it", () => {
    const { s, user } = settings({ TOIL_SLURM_WORKER_TIME: "2:00:00", TOIL_SLURM_TIME: "30:00" });
    const shape = hostShapeOf(job(), s, user, choose);
    expect(shape.timeLimit).toBe(7200);
    expect(shape.args).toContain("--partition=long");
    expect(shape.label).toBe("1 CPU, 64M memory, partition long, time limit 2:00:00");
    const fromArgs = settings({ TOIL_SLURM_TIME: "30:00" }, "-t 45");
    expect(hostShapeOf(job(), fromArgs.s, fromArgs.user, choose).timeLimit).toBe(2700);
    const fromTime = settings({ TOIL_SLURM_TIME: "30:00" });
    expect(hostShapeOf(job(), fromTime.s, fromTime.user, choose).args).toContain("--time=0:1800");
  });

  it("GPU jobs get GPU hosts", () => {
    const { s, user } = settings();
    const shape = hostShapeOf(job({ accelerators: [{ kind: "gpu", count: 2 }] }), s, user, choose);
    expect(shape.label).toBe("1 CPU, 64M memory, 2 GPUs, partition gpu");
  });

  it("hosts with little memory get a small young generation (V8 would grow it to 32 MiB)", () => {
    expect(hostNodeFlags(["--mem=64M", "--cpus-per-task=1"])).toEqual(["--expose-gc", "--max-semi-space-size=1"]);
    expect(hostNodeFlags(["--mem=512M"])).toEqual(["--expose-gc", "--max-semi-space-size=8"]);
    expect(hostNodeFlags(["--mem=4096M"])).toEqual(["--expose-gc", "--max-semi-space-size=16"]);
    expect(hostNodeFlags(["--mem=0"])).toEqual(["--expose-gc"]);
  });

  it("labels whole-node and per-CPU memory", () => {
    expect(shapeLabel(["--mem=0", "--cpus-per-task=4", "--qos=fast"])).toBe("4 CPUs, a whole node's memory, QOS fast");
    expect(shapeLabel(["--mem-per-cpu=100M", "--cpus-per-task=2"])).toBe("2 CPUs, 100M memory per CPU");
  });
});

describe("jobs that go out as Slurm jobs of their own", () => {
  it("none by default", () => {
    const { s, user } = settings();
    expect(plainReason(job(), s, user)).toBeNull();
  });

  it("all with --no-slurmWorkers or job packs", () => {
    expect(plainReason(job(), settings({ TOIL_SLURM_WORKERS: "false" }).s, parseSlurmArgs([]))).toBe("--no-slurmWorkers");
    expect(plainReason(job(), settings({ TOIL_SLURM_PACK_JOBS: "25" }).s, parseSlurmArgs([]))).toBe("--slurmPackJobs");
  });

  it("those whose name or kind matches --slurmPlainJobs", () => {
    const { s, user } = settings({ TOIL_SLURM_PLAIN_JOBS: "^assemble$" });
    expect(plainReason(job({}, { jobName: "assemble" }), s, user)).toBe("--slurmPlainJobs");
    expect(plainReason(job({}, { jobName: "x", jobKind: "assemble" }), s, user)).toBe("--slurmPlainJobs");
    expect(plainReason(job({}, { jobName: "assemble-2" }), s, user)).toBeNull();
  });

  it("those with a walltime, unless hosts have a time limit with room for it (and Slurm's warning)", () => {
    expect(plainReason(job({}, { walltime: 60 }), settings().s, parseSlurmArgs([]))).toBe("its walltime");
    const { s, user } = settings({ TOIL_SLURM_WORKER_TIME: "10:00" });
    expect(plainReason(job({}, { walltime: 500 }), s, user)).toBeNull();
    expect(plainReason(job({}, { walltime: 580 }), s, user)).toBe("its walltime");
  });
});
