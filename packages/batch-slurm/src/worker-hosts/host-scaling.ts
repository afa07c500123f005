/**
 * How many worker hosts of each shape to keep: the decisions, without their side effects (the
 * pool submits, cancels and stops hosts as these say).
 */
import { TIME_LIMIT_MARGIN_SECONDS } from "./shapes.js";
import type { Host, HostedJob, ShapeState } from "./types.js";

/** New hosts of a shape submitted at once: at least this many, or as many as are ready. */
export const RAMP_MIN = 4;

/** Hosts of a shape that will take a job soon: being submitted, or submitted and not yet ready. */
export function coming(state: ShapeState): number {
  let n = state.submitting;
  for (const h of state.hosts) if (h.phase === "submitted" && !h.cancelled) n++;
  return n;
}

/** Hosts of a shape that take jobs now. */
export function readyCount(state: ShapeState): number {
  let n = 0;
  for (const h of state.hosts) if (h.phase === "ready" && !h.draining) n++;
  return n;
}

/**
 * Hosts still pending in Slurm that no waiting job needs (the newest first go): the jobs
 * waiting, less the hosts that have started and will take them.
 */
export function surplusPending(state: ShapeState): Host[] {
  const pending = [...state.hosts].filter((h) => h.phase === "submitted" && h.slurmPending && !h.cancelled);
  const starting = [...state.hosts].filter((h) => h.phase === "submitted" && !h.slurmPending && !h.cancelled).length;
  const surplus = pending.length - Math.max(0, state.queue.length - starting);
  return surplus > 0 ? pending.slice(pending.length - surplus) : [];
}

/** Whether a host has time left for a job (a job without a walltime fits any host). */
export function fits(host: Host, job: HostedJob, now = Date.now()): boolean {
  const limit = host.shape.timeLimit;
  if (limit === undefined || job.need <= 0 || host.startedAt === undefined) return true;
  const left = limit - (now - host.startedAt) / 1000;
  return left >= job.need + TIME_LIMIT_MARGIN_SECONDS;
}

/**
 * More hosts a shape could use now: its waiting jobs less the hosts on their way, unless the
 * ready hosts would run every waiting job before a new host could start (short jobs). A host
 * whose job has run far longer than the shape's jobs usually do is not counted on.
 */
export function hostsWanted(state: ShapeState, hostStartSeconds: number, now = Date.now()): number {
  const wanted = state.queue.length - coming(state);
  if (wanted <= 0) return 0;
  const perJob = state.jobSeconds;
  if (perJob === undefined) return wanted;
  const soon = Math.max(1, 3 * perJob) * 1000;
  let free = 0;
  for (const h of state.hosts) {
    if (h.phase !== "ready" || h.draining) continue;
    if (!h.job || h.job.startedAt === undefined || now - h.job.startedAt < soon) free++;
  }
  if (free > 0 && (state.queue.length * perJob) / free < hostStartSeconds) return 0;
  return wanted;
}

/** Hosts to submit now for a shape that wants `wanted` more: at most as many as are ready (at least {@link RAMP_MIN}) at once, within `room`. */
export function hostsToSubmit(state: ShapeState, wanted: number, room: number): number {
  const ramp = Math.max(RAMP_MIN, readyCount(state)) - coming(state);
  return Math.max(0, Math.min(wanted, room, ramp));
}

/** An idle host of another shape, with no job waiting for it, that can exit to make room for `needy`. */
export function hostToMakeRoom(shapes: Iterable<ShapeState>, needy: ShapeState): Host | undefined {
  for (const state of shapes) {
    if (state === needy || state.queue.length > 0) continue;
    for (const host of state.hosts) if (host.phase === "ready" && !host.job) return host;
  }
  return undefined;
}

/**
 * While Slurm keeps jobs of the workflow waiting for resources (hosts a waiting job needs, for
 * more than 2 s, or Slurm jobs of their own), the idle hosts that no waiting job can use: they
 * should give their allocation back.
 */
export function idleHostsToRelease(shapes: Iterable<ShapeState>, plainPending: number, now = Date.now()): Host[] {
  const all = [...shapes];
  let starved = plainPending > 0;
  for (const state of all) {
    if (state.queue.length === 0) continue;
    for (const h of state.hosts) if (h.phase === "submitted" && h.slurmPending && !h.cancelled && now - h.submittedAt > 2000) starved = true;
  }
  if (!starved) return [];
  const out: Host[] = [];
  for (const state of all) {
    for (const host of state.hosts) {
      if (host.phase !== "ready" || host.job || now - host.idleSince < 1000) continue;
      if (state.queue.some((job) => fits(host, job, now))) continue;
      out.push(host);
    }
  }
  return out;
}
