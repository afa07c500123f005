/**
 * The leader's view of the job store holds a fan-in job's large body as the text it was stored as,
 * and a retry's update (what the leader writes when the job fails) writes that text back unchanged.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FileJobStore } from "@toil/filestore";
import { JobBodyText, JobDescription, defaultConfig, prepareStart } from "@toil/job";
import { leaderStoreOf } from "../src/leader/store-adapter.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "toil-leader-body-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function bodyBytesOf(desc: JobDescription): Buffer {
  const body = desc.toStoredJSON().body;
  if (!(body instanceof JobBodyText)) throw new Error(`the body of ${desc} was parsed`);
  return Buffer.from(body.bytes);
}

describe("the leader's load and update of a job with a large body", () => {
  it("keeps the body as its stored bytes and writes them back byte for byte", async () => {
    const root = path.join(dir, "js");
    const worker = new FileJobStore(root);
    await worker.initialize(prepareStart(defaultConfig({ jobStore: root })));
    // What a worker writes for `addFollowOnFn(total, values)` over 20,000 children, laid out by hand.
    const promises = Array.from({ length: 20_000 }, (_, i) => `{"$t":"p","j":"c${i.toString(36).padStart(20, "_")}","p":[]}`);
    const bodyText = `{"kind":"function","module":"file:///w/flow.ts","exportName":"total","data":{"args":[[${promises.join(",")}],"out.txt"],"e":1E3}}`;
    const followOn = new JobDescription({ jobName: "total" });
    worker.assignJobId(followOn);
    const doc = { ...followOn.toJSON(), body: "@" };
    await worker.createJob(JobDescription.fromJSON(Buffer.from(JSON.stringify(doc).replace('"@"', bodyText))));
    await worker.close();

    const leaderStore = new FileJobStore(root);
    await leaderStore.resume();
    const store = leaderStoreOf(leaderStore);
    const loaded = await store.loadJob(followOn.id);
    expect(bodyBytesOf(loaded).toString()).toBe(bodyText);
    loaded.assignConfig(leaderStore.config);
    loaded.setupJobAfterFailure(1);
    await store.updateJob(loaded);
    await leaderStore.close();

    const reader = new FileJobStore(root);
    await reader.resume();
    const after = await leaderStoreOf(reader).loadJob(followOn.id);
    expect(after.version).toBe(loaded.version);
    expect(after.remainingTryCount).toBe(loaded.remainingTryCount);
    expect(bodyBytesOf(after).equals(Buffer.from(bodyText))).toBe(true);
    // The worker that runs it gets the body itself (`1E3` is the number 1000).
    expect(after.getBody()).toMatchObject({ exportName: "total", data: { e: 1000 } });
    await reader.close();
  });
});
