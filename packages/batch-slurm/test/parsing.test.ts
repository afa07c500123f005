// Parsing of real Slurm output (recorded on a single-node Slurm 22.05 cluster with cgroups by
// scripts/record-fixtures.sh) and the state/exit table of Toil's Slurm tests.
import { readFileSync } from "node:fs";
import { BatchJobExitReason } from "@toil/batch-core";
import { describe, expect, it } from "vitest";
import {
  exitStatusFromPair,
  exitStatusFromWaitStatus,
  jobOutcome,
  parseSacct,
  parseScontrol,
  parseSqueue,
  type SlurmJobRecord,
  UnknownSlurmStateError,
} from "../src/index.js";

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8");
const ids = Object.fromEntries(
  fixture("ids.txt")
    .trim()
    .split(/\s+/)
    .map((kv) => kv.split("=") as [string, string]),
);
const outcomes = (records: SlurmJobRecord[]) =>
  Object.fromEntries(records.map((r) => [r.key, jobOutcome(r.state, r.exitStatus, r.key)]));

const { FINISHED, FAILED, KILLED, MEMLIMIT, LOST } = BatchJobExitReason;

describe("exit codes", () => {
  it.each([
    ["127:0", 127],
    ["0:2", 130],
    ["0:9", 137],
    ["3:0", 3],
    ["0:0", 0],
    ["0:125", 253],
  ])("exit:signal %s is status %d", (pair, status) => {
    expect(exitStatusFromPair(pair)).toBe(status);
  });

  it.each([
    [0, 0],
    [768, 3],
    [256, 1],
    [9, 137],
    [15, 143],
    [253, 253],
    [4021, 181],
  ])("raw wait status %d is status %d", (raw, status) => {
    expect(exitStatusFromWaitStatus(raw)).toBe(status);
  });

  it("does not guess at garbage", () => {
    expect(exitStatusFromPair("x")).toBeNull();
    expect(exitStatusFromWaitStatus("N/A")).toBeNull();
  });
});

describe("Slurm states", () => {
  it.each([
    ["COMPLETED", 0, 0, FINISHED],
    ["FAILED", 1, 1, FAILED],
    ["FAILED", 127, 127, FAILED],
    ["FAILED", 130, 130, FAILED],
    ["SPECIAL_EXIT", 4, 4, FAILED],
    ["OUT_OF_MEMORY", 253, 253, MEMLIMIT],
    ["TIMEOUT", 0, 255, KILLED],
    ["TIMEOUT", 143, 143, KILLED],
    ["CANCELLED", 0, 255, KILLED],
    ["CANCELLED by 0", 0, 255, KILLED],
    ["PREEMPTED", 0, 255, KILLED],
    ["DEADLINE", 0, 255, KILLED],
    ["NODE_FAIL", 0, 255, LOST],
    ["BOOT_FAIL", 0, 255, LOST],
  ])("%s with status %d ends with %d, %s", (state, status, exitStatus, exitReason) => {
    expect(jobOutcome(state, status, "1")).toEqual({ ended: true, exitStatus, exitReason });
  });

  it.each(["PENDING", "RUNNING", "COMPLETING", "CONFIGURING", "REQUEUED", "SUSPENDED", "STOPPED", "RESV_DEL_HOLD"])(
    "%s is not an end",
    (state) => {
      expect(jobOutcome(state, 0, "1").ended).toBe(false);
    },
  );

  it("a state nobody knows is a clear error", () => {
    expect(() => jobOutcome("EXPLODED", 0, "77")).toThrow(UnknownSlurmStateError);
    expect(() => jobOutcome("EXPLODED", 0, "77")).toThrow(/EXPLODED.*77/);
  });
});

describe("recorded squeue output", () => {
  it("reads keys, raw ids, states and statuses of jobs and array tasks", () => {
    const recs = parseSqueue(fixture("squeue-final.txt"));
    const byKey = Object.fromEntries(recs.map((r) => [r.key, r]));
    expect(byKey[`${ids.array}_1`]).toMatchObject({ rawId: expect.not.stringMatching(new RegExp(`^${ids.array}$`)), state: "FAILED", exitStatus: 1 });
    expect(byKey[`${ids.array}_2`]).toMatchObject({ rawId: ids.array, exitStatus: 2 });
    expect(byKey[ids.timeout as string]).toMatchObject({ state: "TIMEOUT", elapsed: 68 });
  });

  it("maps every ended job the way Toil does", () => {
    const o = outcomes(parseSqueue(fixture("squeue-final.txt")));
    expect(o[ids.ok as string]).toEqual({ ended: true, exitStatus: 0, exitReason: FINISHED });
    expect(o[ids.exit3 as string]).toEqual({ ended: true, exitStatus: 3, exitReason: FAILED });
    expect(o[`${ids.array}_0`]).toEqual({ ended: true, exitStatus: 0, exitReason: FINISHED });
    expect(o[`${ids.array}_1`]).toEqual({ ended: true, exitStatus: 1, exitReason: FAILED });
    expect(o[`${ids.array}_2`]).toEqual({ ended: true, exitStatus: 2, exitReason: FAILED });
    expect(o[ids.kill9 as string]).toEqual({ ended: true, exitStatus: 137, exitReason: FAILED });
    expect(o[ids.term as string]).toEqual({ ended: true, exitStatus: 143, exitReason: FAILED });
    expect(o[ids.oom as string]).toEqual({ ended: true, exitStatus: 253, exitReason: MEMLIMIT });
    expect(o[ids.running as string]).toEqual({ ended: true, exitStatus: 143, exitReason: KILLED });
    expect(o[ids.pending as string]).toEqual({ ended: true, exitStatus: 255, exitReason: KILLED });
    expect(o[ids.timeout as string]).toEqual({ ended: true, exitStatus: 143, exitReason: KILLED });
  });

  it("sees pending and running jobs as not ended", () => {
    const o = outcomes(parseSqueue(fixture("squeue-live.txt")));
    expect(o[ids.pending as string]).toEqual({ ended: false, running: false });
    expect(o[ids.running as string]).toEqual({ ended: false, running: true });
  });
});

describe("recorded sacct -c output (job completion log)", () => {
  it("maps states and exit:signal pairs; TIMEOUT 0:0 never counts as success", () => {
    const recs = parseSacct(fixture("sacct-c.txt"));
    const o = outcomes(recs);
    expect(o[ids.exit3 as string]).toEqual({ ended: true, exitStatus: 3, exitReason: FAILED });
    expect(o[ids.kill9 as string]).toEqual({ ended: true, exitStatus: 137, exitReason: FAILED });
    expect(o[ids.oom as string]).toEqual({ ended: true, exitStatus: 253, exitReason: MEMLIMIT });
    expect(o[ids.timeout as string]).toEqual({ ended: true, exitStatus: 255, exitReason: KILLED });
    expect(o[ids.running as string]).toEqual({ ended: true, exitStatus: 255, exitReason: KILLED });
    // Array tasks appear under their raw ids.
    expect(recs.filter((r) => r.key === ids.array)).toHaveLength(1);
  });

  it("skips job step lines of an accounting database", () => {
    const recs = parseSacct("785023|785023|FAILED|127:0|00:00:01\n785023.batch|785023.batch|FAILED|127:0|00:00:01\n785023.extern|785023.extern|COMPLETED|0:0|00:00:01\n");
    expect(recs).toHaveLength(1);
    expect(jobOutcome(recs[0]!.state, recs[0]!.exitStatus, "785023")).toEqual({ ended: true, exitStatus: 127, exitReason: FAILED });
  });

  it("reads array task ids of an accounting database", () => {
    const [r] = parseSacct("609663_4|609670|FAILED|0:2|00:00:03\n");
    expect(r).toMatchObject({ key: "609663_4", rawId: "609670", exitStatus: 130 });
  });
});

describe("recorded scontrol show job -o output", () => {
  it("reads array tasks under <array>_<task> and maps exit codes", () => {
    const o = outcomes(parseScontrol(fixture("scontrol-each.txt")));
    expect(o[`${ids.array}_1`]).toEqual({ ended: true, exitStatus: 1, exitReason: FAILED });
    expect(o[ids.oom as string]).toEqual({ ended: true, exitStatus: 253, exitReason: MEMLIMIT });
    expect(o[ids.timeout as string]).toEqual({ ended: true, exitStatus: 143, exitReason: KILLED });
  });
});

describe("recorded error output", () => {
  it("has the messages the batch system recognizes", () => {
    expect(fixture("squeue-unknown-single.stderr.txt")).toMatch(/Invalid job id specified/);
    expect(fixture("sacct-nodbd.stderr.txt")).toMatch(/accounting storage is disabled/);
    expect(fixture("oom-job-output.txt")).toMatch(/oom-kill/);
  });
});
