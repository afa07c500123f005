/**
 * Files: import a local file into the job store, have a job write an upper-cased copy as a new
 * job-store file, then a follow-on reads it back and exports it.
 *
 *   toil run flow.ts --jobStore ./js -- input.txt out/upper.txt
 */
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { Job, resolved, type FileID, type FileStore, type JobFunctionWrappingJob, type Promised } from "@toil/job";
import type { WorkflowContext } from "@toil/leader";

export async function upperCase(job: JobFunctionWrappingJob, input: FileID): Promise<FileID> {
  const fs = job.fileStore;
  const local = await fs.readGlobalFile(input);
  const text = await readFile(local, "utf8");
  const out = await fs.getLocalTempFileName(".txt");
  await writeFile(out, text.toUpperCase());
  job.log(`upper-cased ${text.length} characters`);
  return fs.writeGlobalFile(out);
}

export class Export extends Job {
  constructor(
    readonly file: Promised<FileID>,
    readonly destination: string,
  ) {
    super({ memory: "64Mi", cores: 0.1, disk: "10Mi" });
  }
  async run(fileStore: FileStore): Promise<string> {
    const id = resolved(this.file);
    // Streams work too: count the bytes before exporting.
    let bytes = 0;
    for await (const chunk of await fileStore.readGlobalFileStream(id)) bytes += (chunk as Buffer).length;
    await fileStore.exportFile(id, this.destination);
    fileStore.logToLeader(`exported ${bytes} bytes to ${this.destination}`);
    return this.destination;
  }
}

export default async function main({ args, importFile }: WorkflowContext) {
  const input = path.resolve(args[0] ?? "input.txt");
  const output = path.resolve(args[1] ?? "out/upper.txt");
  const inputId = await importFile(input);
  const root = Job.wrapJobFn(upperCase, inputId);
  root.addFollowOn(new Export(root.rv(), output));
  return root;
}
