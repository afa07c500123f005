import { SlurmTimeFormatError } from "./errors.js";

/**
 * Reads a Slurm duration as seconds. Slurm accepts `minutes`, `minutes:seconds`,
 * `hours:minutes:seconds`, `days-hours`, `days-hours:minutes` and `days-hours:minutes:seconds`.
 *
 * @example parseSlurmTime("1-02:30:45") // 95445
 */
export function parseSlurmTime(text: string): number {
  const raw = text.trim();
  const bad = (why: string): never => {
    throw new SlurmTimeFormatError(
      `Cannot read Slurm time "${text}": ${why}. Use minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS.`,
    );
  };
  if (raw === "") bad("it is empty");
  let days = 0;
  let rest = raw;
  const dash = raw.indexOf("-");
  if (dash >= 0) {
    const d = raw.slice(0, dash);
    if (!/^\d+$/.test(d)) bad("the day count is not a whole number");
    days = Number(d);
    rest = raw.slice(dash + 1);
  }
  const parts = rest.split(":");
  if (parts.length > 3 || parts.some((p) => !/^\d+$/.test(p))) bad("expected whole numbers separated by ':'");
  const nums = parts.map(Number);
  let seconds: number;
  if (dash >= 0) {
    // days-hours[:minutes[:seconds]]
    const [h = 0, m = 0, s = 0] = nums;
    seconds = h * 3600 + m * 60 + s;
  } else if (nums.length === 1) {
    seconds = (nums[0] ?? 0) * 60; // minutes
  } else if (nums.length === 2) {
    seconds = (nums[0] ?? 0) * 60 + (nums[1] ?? 0); // minutes:seconds
  } else {
    seconds = (nums[0] ?? 0) * 3600 + (nums[1] ?? 0) * 60 + (nums[2] ?? 0);
  }
  return days * 86400 + seconds;
}

/**
 * Reads a time limit column of `sinfo` (`%l`): a Slurm duration, or `infinite`/`UNLIMITED`
 * (returns `Infinity`). Anything unreadable counts as unlimited too.
 */
export function parsePartitionTimeLimit(text: string): number {
  const t = text.trim().toLowerCase();
  if (t === "infinite" || t === "unlimited" || t === "n/a" || t === "") return Infinity;
  try {
    return parseSlurmTime(t);
  } catch {
    return Infinity;
  }
}

/** Formats seconds as the `--time` value Toil uses: `0:<seconds>` (minutes:seconds). */
export function formatSbatchTime(seconds: number): string {
  return `0:${Math.ceil(seconds)}`;
}
