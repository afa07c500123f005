import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";

function onPath(exe: string): boolean {
  return (process.env.PATH ?? "").split(delimiter).some((d) => d && existsSync(join(d, exe)));
}

let detected: number[] | undefined;

/**
 * Indices of the GPUs on this machine (NVIDIA via `nvidia-smi`, AMD via `rocm-smi`), detected
 * once per process. Empty when there are none or no tool to list them.
 */
export function detectGpus(): number[] {
  if (detected) return detected;
  detected = [];
  try {
    if (onPath("nvidia-smi")) {
      const out = execFileSync("nvidia-smi", ["--query-gpu=index", "--format=csv,noheader"], {
        encoding: "utf8",
        timeout: 10_000,
        stdio: ["ignore", "pipe", "ignore"],
      });
      detected = out
        .split("\n")
        .map((l) => Number.parseInt(l.trim(), 10))
        .filter((n) => Number.isInteger(n));
    } else if (onPath("rocm-smi")) {
      const out = execFileSync("rocm-smi", ["--showid", "--csv"], {
        encoding: "utf8",
        timeout: 10_000,
        stdio: ["ignore", "pipe", "ignore"],
      });
      detected = out
        .split("\n")
        .map((l) => /^card(\d+)/.exec(l.trim())?.[1])
        .filter((s): s is string => s !== undefined)
        .map(Number);
    }
  } catch {
    detected = [];
  }
  return detected;
}
