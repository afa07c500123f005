/** Files: many 1 MiB global files and one large file, next to `cp` and `sync` of the same bytes. */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, openSync, writeSync, closeSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { failureNote, killPids, median, runToil, timeCommand } from "../run.js";
import type { Figure } from "../report.js";
import { type Ctx, MB, MiB, summarize, toilRunArgs, caseDir, timeoutFor } from "./common.js";

interface Timing {
  name: string;
  start: number;
  end: number;
  bytes: number;
}

function readTimings(file: string): Timing[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => {
      const [name, s, e, b] = l.split(" ");
      return { name: name ?? "", start: Number(s), end: Number(e), bytes: Number(b) };
    });
}

function writeFileOfSize(path: string, bytes: number, seed: Buffer): void {
  const fd = openSync(path, "w");
  try {
    for (let done = 0; done < bytes; ) {
      const n = Math.min(seed.length, bytes - done);
      writeSync(fd, seed, 0, n);
      done += n;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Wall of a 2-job workflow (fanout 0): the fixed cost of a run, subtracted from the files runs'
 * walls. The fanout case's own measurement when it ran in this bench run, else one run here.
 */
async function fixedCostMs(ctx: Ctx, dir: string): Promise<number | null> {
  if (ctx.emptyWallMs !== null) return ctx.emptyWallMs;
  const out = join(dir, "empty-sum");
  const r = await runToil({
    args: toilRunArgs("fanout", join(dir, "store-empty"), [], ["0", out]),
    logDir: dir,
    label: "files-empty-run",
    timeoutMs: timeoutFor(ctx, 2),
    ...(ctx.env ? { env: ctx.env } : {}),
  });
  const ok = r.code === 0 && existsSync(out);
  ctx.runs.push(summarize(r, ok, ok ? undefined : failureNote(r)));
  killPids(r.survivors);
  return ok ? r.wallMs : null;
}

/** The figure "without the fixed cost of a run" next to an end-to-end one: same baseline and target. */
function withoutFixedCost(e2e: Figure, bytes: number, wallMs: number, fixedMs: number | null): Figure | undefined {
  if (e2e.value === null || fixedMs === null || e2e.baseline === undefined) return undefined;
  const rate = bytes / MB / (Math.max(wallMs - fixedMs, 1) / 1000);
  return {
    ...e2e,
    id: e2e.id.replace(/endToEndMBps$/, "withoutFixedCostMBps"),
    figure: e2e.figure.replace(/, end to end$/, ", without the fixed cost of a run"),
    value: rate,
    ratio: rate / e2e.baseline.value,
    note: `bytes / (wall − wall of a 2-job workflow, ${(fixedMs / 1000).toFixed(2)} s, measured in the same bench run): the transfers and the jobs' scheduling once the leader is up`,
  };
}

/** Wall time of `cp -r src dst` followed by `sync` of the copied files (ms). */
function durableCopy(src: string, dst: string): number {
  return timeCommand("sh", ["-c", 'cp -r "$1" "$2" && if [ -d "$2" ]; then find "$2" -type f -exec sync {} +; else sync "$2"; fi', "sh", src, dst]);
}

export async function filesCase(ctx: Ctx): Promise<void> {
  const count = ctx.quick ? 20 : 200;
  const largeBytes = ctx.quick ? 64 * MiB : 1024 * MiB;
  const dir = caseDir(ctx, "files");
  const seed = randomBytes(MiB);
  const fixedMs = await fixedCostMs(ctx, dir);

  // --- small files: COUNT jobs, each writes 1 MiB into the store and reads it back
  const src = join(dir, "src");
  mkdirSync(src);
  for (let i = 0; i < count; i++) {
    seed.writeUInt32LE(i, 0);
    writeFileSync(join(src, String(i)), seed);
  }
  const cpMs = timeCommand("cp", ["-r", src, join(dir, "cp-a")]) + timeCommand("cp", ["-r", join(dir, "cp-a"), join(dir, "cp-b")]);
  rmSync(join(dir, "cp-a"), { recursive: true });
  rmSync(join(dir, "cp-b"), { recursive: true });
  // The like-for-like baseline: the store makes what it writes durable, so `cp` then `sync` of
  // the same files (coreutils sync with file arguments fsyncs exactly those).
  const cpSyncMs = durableCopy(src, join(dir, "cp-a")) + durableCopy(join(dir, "cp-a"), join(dir, "cp-b"));
  rmSync(join(dir, "cp-a"), { recursive: true });
  rmSync(join(dir, "cp-b"), { recursive: true });
  const smallBytes = 2 * count * MiB;
  const cpRate = smallBytes / MB / (cpMs / 1000);
  const cpSyncRate = smallBytes / MB / (cpSyncMs / 1000);
  const timingSmall = join(dir, "timing-small");
  ctx.log(`files: ${count} × 1 MiB...`);
  const r = await runToil({
    args: toilRunArgs("files", join(dir, "store-small"), [], ["small", src, String(count), timingSmall]),
    logDir: dir,
    label: "files-small",
    timeoutMs: timeoutFor(ctx, count * 10),
    ...(ctx.env ? { env: ctx.env } : {}),
  });
  const t = readTimings(timingSmall);
  const ok = r.code === 0 && t.filter((x) => x.name === "write").length === count;
  const note = ok ? undefined : failureNote(r);
  ctx.runs.push(summarize(r, ok, note));
  killPids(r.survivors);
  ctx.log(`  ${ok ? "ok" : `FAILED (${note})`} in ${(r.wallMs / 1000).toFixed(2)} s`);
  const rate = ok ? smallBytes / MB / (r.wallMs / 1000) : null;
  ctx.figures.push({
    id: "files.small.endToEndMBps",
    case: "files",
    figure: `files: ${count} jobs each write + read 1 MiB through the file store, end to end`,
    value: rate,
    unit: "MB/s",
    baseline: { value: cpSyncRate, unit: "MB/s", label: "`cp -r` then `sync` of the same files, twice" },
    ...(rate !== null ? { ratio: rate / cpSyncRate } : {}),
    target: { op: ">=", value: cpSyncRate / 1.5 },
    note: `${note ? `${note}; ` : ""}\`cp -r\` alone (not durable): ${cpRate.toFixed(0)} MB/s`,
  });
  const smallNet = withoutFixedCost(ctx.figures.at(-1)!, smallBytes, r.wallMs, fixedMs);
  if (smallNet) ctx.figures.push(smallNet);
  if (ok) {
    const xfer = t.filter((x) => x.name === "write" || x.name === "read");
    const span = Math.max(...xfer.map((x) => x.end)) - Math.min(...xfer.map((x) => x.start));
    const inJob = smallBytes / MB / (Math.max(span, 1) / 1000);
    ctx.figures.push({
      id: "files.small.inJobMBps",
      case: "files",
      figure: `files: ${count} × 1 MiB, bytes / (last transfer end − first transfer start), measured inside the jobs`,
      value: inJob,
      unit: "MB/s",
      baseline: { value: cpRate, unit: "MB/s", label: "cp" },
      ratio: inJob / cpRate,
      note: `sum of in-job transfer time ${xfer.reduce((s, x) => s + x.end - x.start, 0)} ms over ${xfer.length} transfers; the rest of the wall is scheduling and start-up.`,
    });
  }

  // --- one large file: import, copy in a job, export
  const large = join(dir, "large.bin");
  writeFileOfSize(large, largeBytes, seed);
  const cpLarge = [
    timeCommand("cp", [large, join(dir, "cp-1")]),
    timeCommand("cp", [join(dir, "cp-1"), join(dir, "cp-2")]),
    timeCommand("cp", [join(dir, "cp-2"), join(dir, "cp-3")]),
  ];
  for (const f of ["cp-1", "cp-2", "cp-3"]) rmSync(join(dir, f));
  const cpSyncLarge = [durableCopy(large, join(dir, "cp-1")), durableCopy(join(dir, "cp-1"), join(dir, "cp-2")), durableCopy(join(dir, "cp-2"), join(dir, "cp-3"))];
  for (const f of ["cp-1", "cp-2", "cp-3"]) rmSync(join(dir, f));
  const cpLargeMs = cpLarge.reduce((a, b) => a + b, 0);
  const cpLargeRate = (3 * largeBytes) / MB / (cpLargeMs / 1000);
  const cpSyncLargeRate = (3 * largeBytes) / MB / (cpSyncLarge.reduce((a, b) => a + b, 0) / 1000);
  const oneCpRate = largeBytes / MB / (median(cpLarge) / 1000);
  const timingLarge = join(dir, "timing-large");
  const dst = join(dir, "exported.bin");
  const sizeLabel = ctx.quick ? "64 MiB" : "1 GiB";
  ctx.log(`files: ${sizeLabel} import, copy, export...`);
  const r2 = await runToil({
    args: toilRunArgs("files", join(dir, "store-large"), [], ["large", large, dst, timingLarge]),
    logDir: dir,
    label: "files-large",
    timeoutMs: timeoutFor(ctx, 30_000),
    ...(ctx.env ? { env: ctx.env } : {}),
  });
  const t2 = readTimings(timingLarge);
  let ok2 = r2.code === 0 && existsSync(dst);
  let note2 = ok2 ? undefined : failureNote(r2);
  if (ok2) {
    const exported = readFileSync(dst);
    const original = readFileSync(large);
    if (!exported.equals(original)) {
      ok2 = false;
      note2 = "the exported file differs from the imported one";
    }
  }
  ctx.runs.push(summarize(r2, ok2, note2));
  killPids(r2.survivors);
  ctx.log(`  ${ok2 ? "ok" : `FAILED (${note2})`} in ${(r2.wallMs / 1000).toFixed(2)} s`);
  const rate2 = ok2 ? (3 * largeBytes) / MB / (r2.wallMs / 1000) : null;
  ctx.figures.push({
    id: "files.large.endToEndMBps",
    case: "files",
    figure: `files: ${sizeLabel} imported, copied by a job, exported (3 copies), end to end`,
    value: rate2,
    unit: "MB/s",
    baseline: { value: cpSyncLargeRate, unit: "MB/s", label: "3 × `cp` then `sync` of the same file" },
    ...(rate2 !== null ? { ratio: rate2 / cpSyncLargeRate } : {}),
    target: { op: ">=", value: cpSyncLargeRate / 1.5 },
    note: `${note2 ? `${note2}; ` : ""}3 × \`cp\` alone (not durable): ${cpLargeRate.toFixed(0)} MB/s`,
  });
  const largeNet = withoutFixedCost(ctx.figures.at(-1)!, 3 * largeBytes, r2.wallMs, fixedMs);
  if (largeNet) ctx.figures.push(largeNet);
  if (ok2) {
    for (const step of ["import", "copy", "export"]) {
      const s = t2.find((x) => x.name === step);
      if (s === undefined) continue;
      const stepRate = s.bytes / MB / (Math.max(s.end - s.start, 1) / 1000);
      ctx.figures.push({
        id: `files.large.${step}MBps`,
        case: "files",
        figure: `files: ${sizeLabel} ${step} step, inside the ${step === "import" ? "leader" : "job"}`,
        value: stepRate,
        unit: "MB/s",
        baseline: { value: oneCpRate, unit: "MB/s", label: "one `cp`" },
        ratio: stepRate / oneCpRate,
        target: { op: ">=", value: oneCpRate / 1.5 },
        ...(stepRate > 5 * oneCpRate
          ? { note: `${s.end - s.start} ms for ${(s.bytes / MiB).toFixed(0)} MiB: far faster than a copy, so the file store linked the file rather than copying its bytes` }
          : {}),
      });
    }
  }
  rmSync(dir, { recursive: true, force: true });
}
