import { NoSuitablePartitionError } from "./errors.js";
import type { PartitionInfo } from "./state.js";
import { parsePartitionTimeLimit } from "./time.js";

/** sinfo arguments whose output {@link parseSinfo} reads. */
export const SINFO_ARGS = ["-a", "-h", "-o", "%P|%G|%l|%p"] as const;

/**
 * Reads `sinfo -a -h -o "%P|%G|%l|%p"` output (or Toil's space-separated
 * `%P %G %l %p %c %m` with a header). A partition listed on several lines (nodes with different
 * configurations) is merged: it has GRES if any of its lines does.
 */
export function parseSinfo(output: string): PartitionInfo[] {
  const byName = new Map<string, PartitionInfo>();
  for (const line of output.split("\n")) {
    const t = line.trim();
    if (t === "" || t.startsWith("PARTITION")) continue;
    const [rawName, gres, limit, prio] = t.includes("|") ? t.split("|") : t.split(/\s+/);
    if (!rawName) continue;
    const isDefault = rawName.endsWith("*");
    const name = isDefault ? rawName.slice(0, -1) : rawName;
    const priority = Number(prio);
    const info: PartitionInfo = {
      name,
      gres: gres !== undefined && gres !== "(null)" && gres !== "",
      timeLimit: parsePartitionTimeLimit(limit ?? ""),
      priority: Number.isFinite(priority) ? priority : Number.MAX_SAFE_INTEGER,
      isDefault,
    };
    const seen = byName.get(name);
    if (seen) {
      seen.gres ||= info.gres;
      seen.isDefault ||= info.isDefault;
    } else {
      byName.set(name, info);
    }
  }
  return [...byName.values()];
}

/** Partitions seen by sinfo, and Toil's rule for picking one. */
export class PartitionSet {
  constructor(
    /** The partitions, as sinfo listed them. */
    readonly partitions: readonly PartitionInfo[],
  ) {}

  /** The GPU partition with the lowest priority tier, if any. */
  get defaultGpuPartition(): PartitionInfo | undefined {
    return [...this.partitions].filter((p) => p.gres).sort((a, b) => a.priority - b.priority)[0];
  }

  /**
   * Picks a partition for a job. GPU jobs get the default GPU partition (when its time limit
   * fits). Other jobs (or without time limit: `undefined`, Slurm's default): among partitions
   * whose limit fits, prefer one without GRES, then the lowest priority tier, then the shortest
   * limit. Throws {@link NoSuitablePartitionError} when partitions exist but none fits.
   */
  choose(timeLimitSeconds: number | undefined, gpu: boolean): string | undefined {
    if (this.partitions.length === 0) return undefined;
    if (gpu) {
      const g = this.defaultGpuPartition;
      if (g && (timeLimitSeconds === undefined || g.timeLimit >= timeLimitSeconds)) return g.name;
      const fitting = this.partitions
        .filter((p) => p.gres && (timeLimitSeconds === undefined || p.timeLimit >= timeLimitSeconds))
        .sort((a, b) => a.priority - b.priority || a.timeLimit - b.timeLimit);
      if (fitting[0]) return fitting[0].name;
      throw new NoSuitablePartitionError(timeLimitSeconds ?? 0, this.names(), true);
    }
    if (timeLimitSeconds === undefined) return undefined;
    let best: PartitionInfo | undefined;
    for (const p of this.partitions) {
      if (p.timeLimit < timeLimitSeconds) continue;
      if (!best) {
        best = p;
        continue;
      }
      if (p.gres !== best.gres) {
        if (!p.gres) best = p;
        continue;
      }
      if (p.priority !== best.priority) {
        if (p.priority < best.priority) best = p;
        continue;
      }
      if (p.timeLimit < best.timeLimit) best = p;
    }
    if (!best) throw new NoSuitablePartitionError(timeLimitSeconds, this.names(), false);
    return best.name;
  }

  private names(): string[] {
    return this.partitions.map((p) => `${p.name} (${p.timeLimit === Infinity ? "no limit" : `${p.timeLimit}s`})`);
  }
}
