/**
 * File-store behaviour Toil workflows rely on: reading an id that names no stored file is a
 * NoSuchFileError whatever the id looks like, `fileStore.jobStore` reaches shared files, and a
 * FileID says its size.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { text } from "node:stream/consumers";
import { FileID, type FileStore, type JobDescription } from "@toil/job";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AbstractFileStore,
  CachingFileStore,
  FileJobStore,
  InvalidIdError,
  NoSuchFileError,
  NonCachingFileStore,
  mintFileId,
} from "../src/index.js";
import { makeTempDir, sampleConfig, sampleJob } from "../src/testing/index.js";

let dir: string;
let store: FileJobStore;
let n = 0;
beforeAll(async () => {
  dir = makeTempDir("toil-fs-fidelity-");
  store = new FileJobStore(path.join(dir, "store"));
  await store.initialize(sampleConfig(path.join(dir, "store")));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

async function newJob(): Promise<JobDescription> {
  const j = sampleJob(`job${n++}`);
  j.setRequirements({ disk: "10Mi" });
  store.assignJobId(j);
  await store.createJob(j);
  return j;
}

type Make = (job: JobDescription) => AbstractFileStore;
const kinds: [string, Make][] = [
  ["NonCachingFileStore", (job) => new NonCachingFileStore(store, job, path.join(dir, "tmp", `${job.id}-${n++}`))],
  [
    "CachingFileStore",
    (job) =>
      new CachingFileStore(store, job, path.join(dir, "tmp", `${job.id}-${n++}`), {
        cacheDir: path.join(dir, "cache"),
        coordinationDir: path.join(dir, "coord"),
      }),
  ],
];

/** Ids that name no stored file: malformed ones of every shape, and a well-formed one never written. */
const MALFORMED = ["bogus", "", "12:-:", "1:-:f/../../etc/passwd", "0:-:f/abcdefghijklmnop/a/b", "x".repeat(2000)];
const NEVER_WRITTEN = mintFileId({ size: 3, executable: false, basename: "ghost.txt" });

describe.each(kinds)("%s", (_name, make) => {
  it("readGlobalFile / readGlobalFileStream / getGlobalFileSize of an id not in the store raise NoSuchFileError", async () => {
    const fileStore = make(await newJob());
    await fileStore.open(async () => {
      for (const id of MALFORMED) {
        for (const attempt of [() => fileStore.readGlobalFile(id), () => fileStore.readGlobalFileStream(id), () => fileStore.getGlobalFileSize(id)]) {
          const err = await attempt().then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(err, id).toBeInstanceOf(NoSuchFileError);
          // The detail of what is wrong with the id is kept.
          expect((err as Error).cause, id).toBeInstanceOf(InvalidIdError);
          expect((err as Error).message).toContain("not a file id");
        }
      }
      await expect(fileStore.readGlobalFile(NEVER_WRITTEN)).rejects.toBeInstanceOf(NoSuchFileError);
      await expect(fileStore.readGlobalFileStream(NEVER_WRITTEN)).rejects.toBeInstanceOf(NoSuchFileError);
      await expect(fileStore.exportFile("bogus", `file://${path.join(dir, "out", "x")}`)).rejects.toBeInstanceOf(NoSuchFileError);
    });
  });

  it("fileStore.jobStore is the job's job store: shared files and the configuration, typed", async () => {
    const writer = make(await newJob());
    await writer.open(async () => {
      const js = (writer as FileStore).jobStore;
      await js.writeSharedFile("fidelity-shared", "from a job");
      await js.writeSharedFileStream("fidelity-stream", (s) => void s.write("streamed"));
      expect(js.locator).toBe(store.locator);
      expect(js.config.workflowId).toBe(store.config.workflowId);
    });
    const reader = make(await newJob());
    await reader.open(async () => {
      const js = (reader as FileStore).jobStore;
      expect((await js.readSharedFile("fidelity-shared")).toString()).toBe("from a job");
      expect(await text(await js.readSharedFileStream("fidelity-stream"))).toBe("streamed");
      expect(await js.sharedFileExists("nope")).toBe(false);
    });
  });

  it("a FileID says its size without asking the store (FileID.size)", async () => {
    const fileStore = make(await newJob());
    await fileStore.open(async () => {
      const local = await fileStore.getLocalTempFile();
      fs.writeFileSync(local, "x".repeat(1024));
      const byPath = await fileStore.writeGlobalFile(local);
      const byStream = await fileStore.writeGlobalFileStream((s) => void s.write("y".repeat(512)));
      expect(FileID.size(byPath)).toBe(1024);
      expect(FileID.size(byStream)).toBe(512);
      expect(FileID.size(byPath)).toBe(await fileStore.getGlobalFileSize(byPath));
    });
  });
});
