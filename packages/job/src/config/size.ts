/**
 * Human-readable sizes for configuration values ("2Gi", "500M", "1.5 G", "100").
 *
 * Decimal units (k, m, g, t, p, e, with or without a trailing "b") are powers of 1000;
 * binary units (ki, mi, gi, ti, pi, ei, with or without a trailing "b") are powers of 1024.
 * Units are case-insensitive; the number may be fractional and is truncated to whole bytes.
 */
import { parseSize } from "../requirements.js";

/** Parse a size into bytes (same rules as job requirements), or return `undefined` when it is not a size. */
export function tryParseConfigSize(text: string | number): number | undefined {
  try {
    return parseSize(typeof text === "number" ? Math.trunc(text) : text);
  } catch {
    return undefined;
  }
}

/** Format bytes the way the config file and help text show them ("2Gi", "100Mi", "1500"). */
export function formatConfigSize(bytes: number): string {
  const units: Array<[string, number]> = [["Ei", 2 ** 60], ["Pi", 2 ** 50], ["Ti", 2 ** 40], ["Gi", 2 ** 30], ["Mi", 2 ** 20], ["Ki", 2 ** 10]];
  for (const [unit, size] of units) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return String(bytes);
}
