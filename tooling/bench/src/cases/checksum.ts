/**
 * The cost of the store's checksums: CRC-32 (zlib's, the IEEE polynomial) over large buffers in
 * this process, and what that means for the files case (each stored byte is summed when written
 * and when read back: a file written and read once is summed twice, plus once per copy exported).
 */
import { crc32 } from "node:zlib";
import { randomBytes } from "node:crypto";
import type { Ctx } from "./common.js";
import { median } from "../run.js";

const MiB = 2 ** 20;

export function checksumCase(ctx: Ctx): void {
  const buf = randomBytes(64 * MiB);
  const times: number[] = [];
  for (let i = 0; i < (ctx.quick ? 3 : 9); i++) {
    const t = performance.now();
    crc32(buf);
    times.push(performance.now() - t);
  }
  const ms = median(times);
  const gbps = buf.length / 1e9 / (ms / 1000);
  const msPerMiB = ms / 64;
  ctx.log(`checksum: CRC-32 ${gbps.toFixed(2)} GB/s (${msPerMiB.toFixed(3)} ms per MiB)`);
  ctx.figures.push({
    id: "checksum.crc32GBps",
    case: "checksum",
    figure: "checksum: CRC-32 (zlib, IEEE) over 64 MiB in memory",
    value: gbps,
    unit: "GB/s",
    note: `${msPerMiB.toFixed(3)} ms per MiB; every log record, folded document and stored file carries one`,
  });
  const small = ctx.figures.find((f) => f.id === "files.small.endToEndMBps");
  const count = ctx.quick ? 20 : 200;
  if (small?.value) {
    // 1 MiB written (summed once after the write) and read back as a copy (summed once): 2 passes per file.
    const sumMs = 2 * count * msPerMiB;
    const runMs = ((2 * count * MiB) / 1e6 / small.value) * 1000;
    ctx.figures.push({
      id: "checksum.filesSmallShare",
      case: "checksum",
      figure: `checksum: share of the files case (${count} × 1 MiB) spent summing`,
      value: (100 * sumMs) / runMs,
      unit: "%",
      note: `${sumMs.toFixed(0)} ms of CRC-32 (plus reading the bytes back from the page cache) in a ${(runMs / 1000).toFixed(2)} s run`,
    });
  }
}
