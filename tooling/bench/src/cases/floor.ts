/** The floor: the cost of starting a bare Node process, next to which every per-job figure is shown. */
import { existsSync } from "node:fs";
import { CLI, median, timeCommand } from "../run.js";
import type { Ctx } from "./common.js";

export function floorCase(ctx: Ctx): void {
  const k = ctx.quick ? 7 : 21;
  const times: number[] = [];
  timeCommand(process.execPath, ["-e", ""]); // warm the page cache
  for (let i = 0; i < k; i++) times.push(timeCommand(process.execPath, ["-e", ""]));
  const floor = median(times);
  ctx.floorMs = floor;
  ctx.figures.push({
    id: "floor.nodeSpawnMs",
    case: "floor",
    figure: 'floor: spawn a bare `node -e ""` (median)',
    value: floor,
    unit: "ms",
    published: "≈60 ms on this machine type (architecture note); a Toil worker start: 220 ms",
  });
  ctx.figures.push({
    id: "floor.spawnCeilingJobsPerSecond",
    case: "floor",
    figure: "floor: one process per job, ceiling on 2 cores",
    value: 2000 / floor,
    unit: "jobs/s",
    note: "2 × 1000 / floor: what a scheduler spawning a fresh process per job could reach at best with 2 cores.",
  });
  // The CLI's own start-up: `toil --help` loads commander and the option specs.
  if (existsSync(CLI)) {
    try {
      timeCommand(process.execPath, [CLI, "--help"]);
      const t: number[] = [];
      for (let i = 0; i < (ctx.quick ? 3 : 7); i++) t.push(timeCommand(process.execPath, [CLI, "--help"]));
      const ms = median(t);
      ctx.figures.push({
        id: "floor.cliHelpMs",
        case: "floor",
        figure: "`toil --help` (CLI start-up)",
        value: ms,
        unit: "ms",
        baseline: { value: floor, unit: "ms", label: "floor" },
        ratio: ms / floor,
      });
    } catch (err) {
      ctx.log(`toil --help failed: ${String(err)}`);
    }
  }
}
