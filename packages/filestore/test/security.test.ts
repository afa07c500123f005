/** Path checks of the file stores: temp-file names stay in the job's temp dir; planted links refuse a store. */
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FileJobStore, InvalidIdError, NonCachingFileStore, NoSuchJobStoreError } from "../src/index.js";
import { makeTempDir, sampleConfig, sampleJob } from "../src/testing/index.js";

let dir: string;
let store: FileJobStore;
beforeAll(async () => {
  dir = makeTempDir("toil-fs-sec-");
  store = new FileJobStore(path.join(dir, "store"));
  await store.initialize(sampleConfig(path.join(dir, "store")));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("local temp names", () => {
  it("a suffix or prefix with a path separator or NUL is refused, naming it", async () => {
    const job = sampleJob("temp");
    store.assignJobId(job);
    await store.createJob(job);
    const temp = path.join(dir, "tmp");
    const fsx = new NonCachingFileStore(store, job, temp);
    await fsx.open(async () => {
      for (const [suffix, prefix] of [
        ["/../../../escape", undefined],
        [undefined, "../../escape"],
        ["a\0b", undefined],
        [undefined, "/abs/"],
      ] as const) {
        await expect(fsx.getLocalTempFile(suffix, prefix)).rejects.toThrow(InvalidIdError);
        await expect(fsx.getLocalTempFileName(suffix, prefix)).rejects.toThrow(/temp file (suffix|prefix)/);
      }
      const ok = await fsx.getLocalTempFile(".txt", "..x");
      expect(path.dirname(ok).startsWith(temp)).toBe(true);
    });
    expect(fs.existsSync(path.join(dir, "escape"))).toBe(false);
  });
});

describe("planted symlinks", () => {
  it("resume refuses a store whose own directory is a link, naming the entry", async () => {
    const root = path.join(dir, "planted");
    const s = new FileJobStore(root);
    await s.initialize(sampleConfig(root));
    const elsewhere = path.join(dir, "elsewhere");
    fs.mkdirSync(elsewhere);
    fs.rmSync(path.join(root, "jobs"), { recursive: true });
    fs.symlinkSync(elsewhere, path.join(root, "jobs"));
    const err = await new FileJobStore(root).resume().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoSuchJobStoreError);
    expect((err as Error).message).toContain("jobs entry is a symbolic link");
  });
});
