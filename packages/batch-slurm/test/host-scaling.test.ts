// How many worker hosts the plugin keeps, decided from its queue (pure functions, no Slurm).
import { describe, expect, it } from "vitest";
import { fits, hostsToSubmit, hostsWanted, hostToMakeRoom, idleHostsToRelease, surplusPending } from "../src/worker-hosts/host-scaling.js";
import { FifoQueue } from "@toil/batch-core";
import type { HostShape } from "../src/worker-hosts/shapes.js";
import type { Host, HostedJob, ShapeState } from "../src/worker-hosts/types.js";

const NOW = 1_000_000;
const shape = (timeLimit?: number): HostShape => ({ key: `s${timeLimit}`, args: [], timeLimit, label: "" });
let n = 0;
function host(over: Partial<Host> = {}): Host {
  return {
    key: `1_${n++}`,
    submitId: "1",
    shape: shape(),
    phase: "ready",
    ever: { ready: true },
    slurmPending: false,
    submittedAt: NOW - 60_000,
    idleSince: NOW - 5_000,
    seq: 0,
    draining: false,
    cancelled: false,
    startedAt: NOW - 50_000,
    ...over,
  };
}
const job = (need = 0): HostedJob => ({ id: n++, desc: { jobName: "j", requirements: { cores: 1, memory: 1, disk: 1, accelerators: [], preemptible: false } }, argv: null, command: "true", env: {}, shape: shape(), need, freeReissues: 0 });
function state(queue: number, hosts: Host[] = [], over: Partial<ShapeState> = {}): ShapeState {
  const q = new FifoQueue<HostedJob>();
  for (let i = 0; i < queue; i++) q.push(job());
  return { shape: shape(), queue: q, hosts: new Set(hosts), idle: new Set(hosts.filter((h) => h.phase === "ready" && !h.job)), submitting: 0, ...over };
}

describe("worker host scaling", () => {
  it("wants a host per waiting job beyond the hosts on their way", () => {
    expect(hostsWanted(state(5), 2)).toBe(5);
    expect(hostsWanted(state(5, [host({ phase: "submitted" }), host({ phase: "submitted" })]), 2)).toBe(3);
    expect(hostsWanted(state(1, [host({ phase: "submitted" })]), 2)).toBe(0);
    // A cancelled pending host is not on its way.
    expect(hostsWanted(state(1, [host({ phase: "submitted", cancelled: true })]), 2)).toBe(1);
  });

  it("wants none when the ready hosts will run every waiting job before a new host could start", () => {
    const ready = [host(), host({ job: job() })];
    expect(hostsWanted(state(100, ready, { jobSeconds: 0.01 }), 2)).toBe(0); // 100 × 0.01 s / 2 hosts = 0.5 s < 2 s
    expect(hostsWanted(state(1000, ready, { jobSeconds: 0.01 }), 2)).toBe(1000); // 5 s > 2 s
    expect(hostsWanted(state(3, ready, { jobSeconds: 5 }), 2)).toBe(3);
  });

  it("does not count on a host whose job has run far longer than the shape's jobs usually do", () => {
    const stuck = host({ job: { ...job(), startedAt: NOW - 600_000 } });
    expect(hostsWanted(state(5, [stuck], { jobSeconds: 0.01 }), 2, NOW)).toBe(5);
    const fresh = host({ job: { ...job(), startedAt: NOW - 10 } });
    expect(hostsWanted(state(5, [fresh], { jobSeconds: 0.01 }), 2, NOW)).toBe(0);
  });

  it("submits at most as many as are ready (at least 4) at once, within the room left", () => {
    expect(hostsToSubmit(state(100), 100, Infinity)).toBe(4);
    const ten = Array.from({ length: 10 }, () => host());
    expect(hostsToSubmit(state(100, ten), 100, Infinity)).toBe(10);
    expect(hostsToSubmit(state(100, ten), 100, 3)).toBe(3);
    expect(hostsToSubmit(state(100, [host({ phase: "submitted" }), host({ phase: "submitted" })]), 98, Infinity)).toBe(2);
  });

  it("cancels the newest hosts still pending in Slurm beyond the waiting jobs (hosts already starting count first)", () => {
    const pending = [host({ phase: "submitted", slurmPending: true }), host({ phase: "submitted", slurmPending: true }), host({ phase: "submitted", slurmPending: true })];
    const starting = host({ phase: "submitted", slurmPending: false });
    expect(surplusPending(state(0, pending))).toEqual(pending);
    expect(surplusPending(state(2, [starting, ...pending]))).toEqual(pending.slice(1));
    expect(surplusPending(state(4, [starting, ...pending]))).toEqual([]);
  });

  it("a host takes a job only with the job's walltime and Slurm's warning left before its time limit", () => {
    const h = host({ shape: shape(600), startedAt: NOW - 400_000 });
    expect(fits(h, job(0), NOW)).toBe(true);
    expect(fits(h, job(150), NOW)).toBe(true); // 200 s left ≥ 150 + 45
    expect(fits(h, job(160), NOW)).toBe(false);
    expect(fits(host({ shape: shape(undefined) }), job(1e6), NOW)).toBe(true);
  });

  it("idle hosts give their allocation back only while jobs of the workflow wait in Slurm, and only if no waiting job can use them", () => {
    const idle = host({ shape: shape(600), startedAt: NOW - 500_000 });
    const tooShort = state(0, [idle], { shape: shape(600) });
    tooShort.queue.push(job(300)); // does not fit in the idle host's 100 s left
    const waitingHost = host({ phase: "submitted", slurmPending: true, submittedAt: NOW - 5_000 });
    tooShort.hosts.add(waitingHost);
    expect(idleHostsToRelease([tooShort], 0, NOW)).toEqual([idle]);
    // Nothing waits in Slurm: keep it.
    tooShort.hosts.delete(waitingHost);
    expect(idleHostsToRelease([tooShort], 0, NOW)).toEqual([]);
    // A Slurm job of its own pends; an idle host of a shape with no waiting job goes.
    const other = host();
    expect(idleHostsToRelease([state(0, [other])], 1, NOW)).toEqual([other]);
    // An idle host a waiting job fits stays.
    expect(idleHostsToRelease([state(1, [host()])], 1, NOW)).toEqual([]);
  });

  it("makes room for a shape with no host by stopping an idle host of a shape nobody waits for", () => {
    const needy = state(2);
    const busy = state(0, [host({ job: job() })]);
    const spare = host();
    expect(hostToMakeRoom([needy, busy, state(0, [spare])], needy)).toBe(spare);
    expect(hostToMakeRoom([needy, busy, state(1, [host()])], needy)).toBeUndefined();
  });
});
