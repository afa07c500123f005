/**
 * Word count: split a text file into chunks, count the words of each chunk in parallel, merge
 * the counts and export them as JSON.
 *
 *   toil run flow.ts --jobStore ./js -- sample.txt out/counts.json [chunks]
 */
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { Job, type FileID, type JobFunctionWrappingJob } from "@toil/job";
import type { WorkflowContext } from "@toil/leader";

type Counts = Record<string, number>;

/** Split the input into `chunks` files and count each in a child; merge in a follow-on. */
export async function split(job: JobFunctionWrappingJob, input: FileID, chunks: number, destination: string): Promise<unknown> {
  const text = await readFile(await job.fileStore.readGlobalFile(input), "utf8");
  const lines = text.split("\n");
  const per = Math.max(1, Math.ceil(lines.length / chunks));
  const counted = [];
  for (let i = 0; i < lines.length; i += per) {
    const file = await job.fileStore.getLocalTempFileName(".txt");
    await writeFile(file, lines.slice(i, i + per).join("\n"));
    const chunk = await job.fileStore.writeGlobalFile(file, { cleanup: true });
    counted.push(job.addChildJobFn(count, chunk).requires({ memory: "64Mi", cores: 0.1, disk: "1Mi" }).rv());
  }
  job.log(`split ${lines.length} lines into ${counted.length} chunks`);
  const merged = job.addFollowOnJobFn(merge, counted).requires({ memory: "64Mi", cores: 0.1, disk: "1Mi" });
  merged.addFollowOnJobFn(exportCounts, merged.rv(), destination).requires({ memory: "64Mi", cores: 0.1, disk: "1Mi" });
  return merged.rv("total");
}

export async function count(job: JobFunctionWrappingJob, chunk: FileID): Promise<Counts> {
  const text = await readFile(await job.fileStore.readGlobalFile(chunk), "utf8");
  const counts: Counts = {};
  for (const word of text.toLowerCase().match(/[a-z0-9']+/g) ?? []) counts[word] = (counts[word] ?? 0) + 1;
  return counts;
}

export async function merge(job: JobFunctionWrappingJob, parts: Counts[]): Promise<{ file: FileID; total: number }> {
  const all: Counts = {};
  for (const part of parts) for (const [w, n] of Object.entries(part)) all[w] = (all[w] ?? 0) + n;
  const sorted = Object.fromEntries(Object.entries(all).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
  const file = await job.fileStore.getLocalTempFileName(".json");
  await writeFile(file, `${JSON.stringify(sorted, null, 2)}\n`);
  const total = Object.values(all).reduce((a, b) => a + b, 0);
  job.log(`merged ${parts.length} chunks: ${total} words, ${Object.keys(all).length} distinct`);
  return { file: await job.fileStore.writeGlobalFile(file), total };
}

export async function exportCounts(job: JobFunctionWrappingJob, merged: { file: FileID }, destination: string): Promise<void> {
  await job.fileStore.exportFile(merged.file, destination);
  job.log(`wrote ${destination}`);
}

export default async function main({ args, importFile }: WorkflowContext) {
  const input = path.resolve(args[0] ?? "sample.txt");
  const output = path.resolve(args[1] ?? "out/counts.json");
  const chunks = Number(args[2] ?? 4);
  return Job.wrapJobFn(split, await importFile(input), chunks, output).requires({ memory: "64Mi", cores: 0.1, disk: "10Mi" });
}
