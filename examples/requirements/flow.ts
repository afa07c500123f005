/**
 * Requirements: each job says how many cores and how much memory and disk it needs; the batch
 * system runs it only when they are free. A requirement may also be computed from other jobs'
 * results (`promisedRequirement`): here the disk of the last job is the total size of two files.
 *
 *   toil run flow.ts --jobStore ./js      # prints {"disk":1536,"cores":1}
 */
import { writeFile } from "node:fs/promises";
import { Job, promisedRequirement, type FileID, type JobFunctionWrappingJob } from "@toil/job";
import type { WorkflowContext } from "@toil/leader";

export async function makeFile(job: JobFunctionWrappingJob, bytes: number): Promise<{ id: FileID; size: number }> {
  const file = await job.fileStore.getLocalTempFileName(".bin");
  await writeFile(file, Buffer.alloc(bytes, 1));
  return { id: await job.fileStore.writeGlobalFile(file), size: bytes };
}

export function totalSize(a: { size: number }, b: { size: number }): number {
  return a.size + b.size;
}

export function report(job: JobFunctionWrappingJob): { disk: number; cores: number } {
  const { disk, cores } = job.description;
  job.log(`running with disk=${disk} cores=${cores}`);
  return { disk, cores };
}

export default function main(_ctx: WorkflowContext) {
  const a = Job.wrapJobFn(makeFile, 1024).requires({ cores: 1, memory: "128Mi", disk: "10Mi" });
  const b = a.addChildJobFn(makeFile, 512).requires({ cores: 0.5, memory: "64Mi", disk: "10Mi" });
  b.addChildJobFn(report).requires({ cores: 1, memory: "64Mi", disk: promisedRequirement(totalSize, a.rv(), b.rv()) });
  return a;
}
