import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BODY_TEXT_MIN_BYTES, JobBodyText, JobDescription, type JobBody } from "@toil/job";
import { FileJobStore } from "../src/index.js";
import { shardOf } from "../src/ids.js";
import { makeTempDir, sampleConfig } from "../src/testing/index.js";

let dir: string;
beforeAll(() => {
  dir = makeTempDir("toil-large-body-");
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/**
 * The body of a job that takes the values of `n` children, as text JSON.stringify would not write
 * (an escape it would not use, a number it would shorten, spaces): a store that parsed the body and
 * wrote it again would change these bytes.
 */
function fanInBodyText(n: number): string {
  const refs = Array.from({ length: n }, (_, i) => `{"$t":"p","j":"child${String(i).padStart(16, "0")}","p":[]}`);
  return `{"kind":"function", "module":"file:///flows/fanout.ts","exportName":"total","data":{"args":[[${refs.join(",")}],"\\u002ftmp/out", 1.50]}}`;
}

/** The body as the stored document holds it, as text. */
function storedBodyText(desc: JobDescription): string {
  const body = desc.toStoredJSON().body;
  expect(body).toBeInstanceOf(JobBodyText);
  return Buffer.from((body as JobBodyText).bytes).toString("utf8");
}

describe("a description with a large body (a fan-in job)", () => {
  it("is loaded with its body as the stored text, and an update writes that text back byte for byte, in the logs and folded", async () => {
    const root = path.join(dir, "store");
    const worker = new FileJobStore(root);
    await worker.initialize(sampleConfig(root));
    // The job as a worker stored it, with a body whose text we know byte for byte.
    const bodyText = fanInBodyText(5_000);
    const made = new JobDescription({ jobName: "total", requirements: { cores: 1, memory: "1Mi", disk: "1Mi" } });
    worker.assignJobId(made);
    const placeholder: JobBody = { kind: "function", module: "BODY", exportName: "total", data: null };
    made.attachBody(placeholder);
    const docBytes = Buffer.from(JSON.stringify(made.toJSON()).replace(JSON.stringify(placeholder), bodyText));
    expect(docBytes.length).toBeGreaterThan(BODY_TEXT_MIN_BYTES);
    await worker.createJob(JobDescription.fromJSON(docBytes));
    await worker.close();

    // The leader loads it (the body stays text), fails it once and updates it.
    const leader = new FileJobStore(root);
    await leader.resume();
    const loaded = await leader.loadJob(made.id);
    expect(storedBodyText(loaded)).toBe(bodyText);
    expect(loaded.hasBody()).toBe(true);
    loaded.assignConfig(leader.config);
    loaded.setupJobAfterFailure(1);
    await leader.updateJob(loaded);
    expect(storedBodyText(loaded)).toBe(bodyText);

    // Another reader sees the update, with the same body bytes; parsed, it is the body.
    const reader = new FileJobStore(root);
    await reader.resume();
    const again = await reader.loadJob(made.id);
    expect(again.version).toBe(loaded.version);
    expect(again.toJSON().remainingTryCount).toBe(loaded.toJSON().remainingTryCount);
    expect(storedBodyText(again)).toBe(bodyText);
    expect(again.getBody()).toEqual(JSON.parse(bodyText));
    const docs: unknown[] = [];
    for await (const d of reader.jobDocuments()) docs.push(d);
    expect(docs).toEqual([expect.objectContaining({ id: made.id, body: JSON.parse(bodyText) })]);
    const states: unknown[] = [];
    for await (const s of reader.jobStates()) states.push(s);
    expect(states).toEqual([expect.objectContaining({ id: made.id, hasBody: true, version: loaded.version })]);
    await reader.close();
    await leader.close();

    // The next leader folds the log into a file: the file holds the same bytes, and loads the same way.
    const next = new FileJobStore(root);
    await next.resume();
    const lock = await next.acquireLeaderLock();
    expect(await next.fold()).toMatchObject({ jobsWritten: 1 });
    const file = fs.readFileSync(path.join(root, "jobs", shardOf(made.id), `${made.id}.json`));
    expect(file.includes(Buffer.from(bodyText))).toBe(true);
    const folded = await next.loadJob(made.id);
    expect(storedBodyText(folded)).toBe(bodyText);
    expect(await next.jobExists(made.id)).toBe(true);
    const all: JobDescription[] = [];
    for await (const j of next.jobs()) all.push(j);
    expect(all.map((j) => storedBodyText(j))).toEqual([bodyText]);
    await lock.release();
    await next.close();
  });
});
