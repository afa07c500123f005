/**
 * The physical floor of a job's commit on the job store's disk, measured in the same run: one
 * `fdatasync` of a 4 KiB append, and one `rename`. A design that makes each job durable on its
 * own pays at least the first per job; one that names each job's result with a file of its own
 * pays the second. After the other cases ran, the per-job figures are also given as multiples of
 * these (see {@link physicalRatios}).
 */
import { closeSync, fdatasyncSync, mkdtempSync, openSync, renameSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { Ctx } from "./common.js";
import { median } from "../run.js";

/** The floor figures, once measured. */
interface PhysicalFloor {
  fdatasyncMs: number;
  renameMs: number;
}

let measured: PhysicalFloor | undefined;

export function physicalCase(ctx: Ctx): void {
  const dir = mkdtempSync(join(ctx.tmp, "physical-"));
  const k = ctx.quick ? 50 : 400;
  const block = Buffer.alloc(4096, 7);
  const fd = openSync(join(dir, "log"), "a");
  const syncs: number[] = [];
  try {
    for (let i = 0; i < k; i++) {
      const t = performance.now();
      writeSync(fd, block);
      fdatasyncSync(fd);
      syncs.push(performance.now() - t);
    }
  } finally {
    closeSync(fd);
  }
  const renames: number[] = [];
  writeFileSync(join(dir, "a"), "x");
  for (let i = 0; i < k; i++) {
    const [from, to] = i % 2 === 0 ? ["a", "b"] : ["b", "a"];
    const t = performance.now();
    renameSync(join(dir, from), join(dir, to));
    renames.push(performance.now() - t);
  }
  rmSync(dir, { recursive: true, force: true });
  measured = { fdatasyncMs: median(syncs), renameMs: median(renames) };
  ctx.log(`physical floor: fdatasync of a 4 KiB append ${measured.fdatasyncMs.toFixed(3)} ms, rename ${measured.renameMs.toFixed(3)} ms (medians of ${k})`);
  ctx.figures.push({
    id: "physical.fdatasyncMs",
    case: "physical",
    figure: "physical floor: one `fdatasync` of a 4 KiB append on the job store's disk (median)",
    value: measured.fdatasyncMs,
    unit: "ms",
    note: `${k} appends to one file in the bench's temp dir (where the stores live); p90 ${[...syncs].sort((a, b) => a - b)[Math.floor(k * 0.9)]!.toFixed(3)} ms`,
  });
  ctx.figures.push({
    id: "physical.renameMs",
    case: "physical",
    figure: "physical floor: one `rename` on the job store's disk (median)",
    value: measured.renameMs,
    unit: "ms",
  });
}

/**
 * Per-job figures of the other cases as multiples of the physical floor (called last): how many
 * `fdatasync`s (and `rename`s) the measured cost per job is worth.
 */
export function physicalRatios(ctx: Ctx): void {
  if (!measured) return;
  const perJob = ctx.figures.filter((f) => f.unit === "ms" && f.value !== null && /(msPerJob|marginalMsPerJob|cpuMsPerJob)$/.test(f.id));
  for (const f of perJob) {
    ctx.figures.push({
      id: `${f.id}.physical`,
      case: "physical",
      figure: `${f.figure}, in fdatasyncs (and renames) of this disk`,
      value: f.value! / measured.fdatasyncMs,
      unit: "× fdatasync",
      baseline: { value: measured.fdatasyncMs, unit: "ms", label: "one fdatasync of a 4 KiB append" },
      ratio: f.value! / measured.fdatasyncMs,
      note: `${(f.value! / measured.renameMs).toFixed(1)} × one rename (${measured.renameMs.toFixed(3)} ms)`,
    });
  }
}
