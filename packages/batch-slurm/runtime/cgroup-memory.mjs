// What the memory cgroup of this Slurm job says (cgroup v1 or v2): the out-of-memory kills so far,
// the memory limit, and the anonymous memory in use (what the limit is really about: the page
// cache is given back before anything is killed). Everything is undefined where it cannot be read.
import { readFileSync } from "node:fs";
import { dirname } from "node:path";

let cached;
/** The memory cgroup's directory and version, if any. */
function cgroup() {
  if (cached !== undefined) return cached;
  cached = null;
  let lines;
  try {
    lines = readFileSync("/proc/self/cgroup", "utf8").split("\n");
  } catch {
    return cached;
  }
  const v1 = lines.find((l) => /^\d+:([^:]*,)?memory(,[^:]*)?:/.test(l));
  if (v1) cached = { v: 1, dir: `/sys/fs/cgroup/memory${v1.slice(v1.lastIndexOf(":") + 1)}`, root: "/sys/fs/cgroup/memory" };
  else {
    const v2 = lines.find((l) => l.startsWith("0::"));
    if (v2) cached = { v: 2, dir: `/sys/fs/cgroup${v2.slice(3)}`, root: "/sys/fs/cgroup" };
  }
  return cached;
}

function read(file) {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

/** The count of out-of-memory kills in this process's memory cgroup. */
export function oomKills() {
  const cg = cgroup();
  if (!cg) return undefined;
  const m = /^oom_kill (\d+)$/m.exec(read(`${cg.dir}/${cg.v === 1 ? "memory.oom_control" : "memory.events"}`) ?? "");
  return m ? Number(m[1]) : undefined;
}

/**
 * The tightest memory limit over this process's cgroup and its parents (Slurm sets it on the job
 * and step levels, not the task's), with the cgroup that has it; read once (it does not change).
 */
let limitCache;
function limited() {
  if (limitCache !== undefined) return limitCache ?? undefined;
  limitCache = findLimit() ?? null;
  return limitCache ?? undefined;
}

function findLimit() {
  const cg = cgroup();
  if (!cg) return undefined;
  let best;
  for (let dir = cg.dir; dir.startsWith(cg.root) && dir.length >= cg.root.length; dir = dirname(dir)) {
    const text = read(`${dir}/${cg.v === 1 ? "memory.limit_in_bytes" : "memory.max"}`)?.trim();
    const limit = text === undefined || text === "max" ? Infinity : Number(text);
    // cgroup v1 writes "no limit" as a huge number.
    if (Number.isFinite(limit) && limit > 0 && limit < 2 ** 60 && (!best || limit < best.limit)) best = { limit, dir };
    if (dir === cg.root) break;
  }
  return best;
}

/** The memory limit in bytes, if there is one. */
export function memoryLimit() {
  return limited()?.limit;
}

/** Anonymous memory in use, in bytes, in the cgroup that has the limit. */
export function anonMemory() {
  const cg = cgroup();
  const at = limited();
  if (!cg || !at) return undefined;
  const stat = read(`${at.dir}/memory.stat`) ?? "";
  const get = (key) => Number(new RegExp(`^${key} (\\d+)$`, "m").exec(stat)?.[1] ?? Number.NaN);
  const value = cg.v === 1 ? get("total_rss") + (get("total_rss_huge") || 0) : get("anon");
  return Number.isFinite(value) ? value : undefined;
}
