/**
 * A reader notices a new commit log by the log directory's stamp (its times, inode and size). Where
 * timestamps are coarse (one clock tick on Linux before 6.13, seconds on some network filesystems),
 * a log created in the same tick as the change the reader saw last leaves that stamp as it was; the
 * reader must still find the entries of that log. This kernel gives a changed directory a new
 * timestamp after it was looked at, so the test puts the reader's stamp where a coarse filesystem
 * would have left it.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { FileJobStore } from "../src/index.js";
import { makeTempDir, sampleConfig, sampleJob } from "../src/testing/index.js";

let dir: string;
beforeAll(() => {
  dir = makeTempDir("toil-stamp-");
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function stampOf(logDir: string): string {
  const st = fs.statSync(logDir);
  return `${st.mtimeMs}:${st.ctimeMs}:${st.ino}:${st.size}`;
}

it("a log created in the same timestamp tick as the last directory change the reader saw is read", async () => {
  const root = path.join(dir, "s");
  const store = new FileJobStore(root);
  await store.initialize(sampleConfig(root));
  const a = sampleJob("a");
  store.assignJobId(a);
  await store.createJob(a);
  const reader = new FileJobStore(root);
  await reader.resume();
  expect((await reader.loadJob(a.id)).jobName).toBe("a");

  // Another writer (an instance of its own, as another process is) creates its log with its first entry.
  const other = new FileJobStore(root);
  await other.resume();
  const b = sampleJob("b");
  other.assignJobId(b);
  await other.createJob(b);
  const view = (reader as unknown as { records: { currentView: { dirStamp: string } } }).records.currentView;
  // What a filesystem with coarse timestamps shows the reader: the directory as it was.
  view.dirStamp = stampOf(path.join(root, "log"));
  expect((await reader.loadJob(b.id)).jobName).toBe("b");
  await Promise.all([store.close(), other.close(), reader.close()]);
});
