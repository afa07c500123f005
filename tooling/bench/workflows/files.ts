/**
 * File store throughput, two workloads (`toil run files.ts --jobStore DIR -- MODE ...`):
 *
 * - `small SRC_DIR COUNT TIMING_FILE`: COUNT jobs; job i writes SRC_DIR/i into the job store
 *   (`writeGlobalFile`) and reads it back to a private local copy (`readGlobalFile`, mutable, so a
 *   real copy rather than a shared link), checking the size.
 * - `large SRC_FILE DST_FILE TIMING_FILE`: the workflow imports SRC_FILE in the leader
 *   (`importFile`), a job copies it inside the job store (stream to stream), a follow-on exports
 *   the copy to DST_FILE.
 *
 * Each step appends `name start_ms end_ms bytes` to TIMING_FILE, so the harness can tell transfer
 * time from scheduling time.
 */
import { appendFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { type FileID, Job } from "@toil/job";

function record(timingFile: string, name: string, start: number, end: number, bytes: number): void {
  appendFileSync(timingFile, `${name} ${start} ${end} ${bytes}\n`);
}

/** Write one local file into the job store and read it back. */
export async function roundTrip(job: Job, srcFile: string, timingFile: string): Promise<number> {
  const size = statSync(srcFile).size;
  const t0 = Date.now();
  const id = await job.fileStore.writeGlobalFile(srcFile);
  const t1 = Date.now();
  const local = await job.fileStore.readGlobalFile(id, undefined, { mutable: true });
  const t2 = Date.now();
  const got = statSync(local).size;
  if (got !== size) throw new Error(`read back ${got} bytes of ${srcFile}, expected ${size}`);
  record(timingFile, "write", t0, t1, size);
  record(timingFile, "read", t1, t2, size);
  return size;
}

export function smallFiles(job: Job, srcDir: string, count: number, timingFile: string): number {
  for (let i = 0; i < count; i++) job.addChildJobFn(roundTrip, join(srcDir, String(i)), timingFile);
  return count;
}

/** Copy a job-store file to a new job-store file, stream to stream. */
export async function copyFile(job: Job, id: FileID, timingFile: string): Promise<FileID> {
  const t0 = Date.now();
  const input = await job.fileStore.readGlobalFileStream(id);
  const copy = await job.fileStore.writeGlobalFileStream((out) => pipeline(input, out), { basename: "copy.bin" });
  const t1 = Date.now();
  record(timingFile, "copy", t0, t1, await job.fileStore.getGlobalFileSize(copy));
  return copy;
}

export async function exportCopy(job: Job, id: FileID, dstFile: string, timingFile: string): Promise<void> {
  const t0 = Date.now();
  await job.fileStore.exportFile(id, dstFile);
  const t1 = Date.now();
  record(timingFile, "export", t0, t1, statSync(dstFile).size);
}

export function largeFile(job: Job, id: FileID, dstFile: string, timingFile: string): void {
  const copy = job.addChildJobFn(copyFile, id, timingFile);
  job.addFollowOnJobFn(exportCopy, copy.rv(), dstFile, timingFile);
}

interface Context {
  args: string[];
  importFile(src: string): Promise<FileID>;
}

export default async function main({ args, importFile }: Context): Promise<Job> {
  const [mode, a, b, timingFile] = args;
  if (mode === "small" && a !== undefined && b !== undefined && timingFile !== undefined) {
    return Job.wrapJobFn(smallFiles, a, Number(b), timingFile);
  }
  if (mode === "large" && a !== undefined && b !== undefined && timingFile !== undefined) {
    const t0 = Date.now();
    const id = await importFile(a);
    record(timingFile, "import", t0, Date.now(), statSync(a).size);
    return Job.wrapJobFn(largeFile, id, b, timingFile);
  }
  throw new Error("usage: toil run files.ts --jobStore DIR -- small SRC_DIR COUNT TIMING_FILE | large SRC_FILE DST_FILE TIMING_FILE");
}
