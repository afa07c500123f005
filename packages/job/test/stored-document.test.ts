import { describe, expect, it } from "vitest";
import {
  BODY_TEXT_MIN_BYTES,
  JobBodyText,
  JobDescription,
  type JobBody,
  jobDocumentData,
  readJobDocument,
} from "../src/index.js";
import { topLevelValueSpans } from "../src/json-spans.js";

/** A body of `n` promise references (a fan-in job's arguments), as text not of JSON.stringify's making. */
function fanInBodyText(n: number): string {
  const refs: string[] = [];
  for (let i = 0; i < n; i++) refs.push(`{"$t":"p","j":"child-${i}-of-a-fan-out","p":[]}`);
  // Spaces, an escape JSON.stringify would not write, a number it would write otherwise.
  return `{ "kind":"function","module":"file:///fanout.ts","exportName":"sum","data":{"args":[[${refs.join(", ")}], "\u0041", 2.50]}}`;
}

/** A stored document (bytes) of a description whose body is `bodyText`, verbatim, where toJSON puts a body. */
function documentWithBody(desc: JobDescription, bodyText: string, key: "body" | "checkpointBody" = "body"): Buffer {
  const placeholder: JobBody = { kind: "function", module: "BODY-GOES-HERE", exportName: "f", data: null };
  desc.attachBody(placeholder);
  if (key === "checkpointBody") {
    desc.setCheckpoint();
    desc.detachBody();
  }
  return Buffer.from(JSON.stringify(desc.toJSON()).replace(JSON.stringify(placeholder), bodyText));
}

function described(checkpoint = false): JobDescription {
  const d = new JobDescription({ jobName: "total", id: "followOn_0123456789abc", requirements: { cores: 1, memory: 1, disk: 1 }, checkpoint });
  d.addChild("child_0123456789abcdef");
  d.preUpdateHook("host:1");
  return d;
}

describe("topLevelValueSpans", () => {
  const valid = [
    '{"a":1,"body":{"x":[1,2,{"y":"}]\\"\\\\"}],"z":null},"c":true}',
    ' { "body" : [ ] , "b" : { } } ',
    '{"body":"\\u00e9\\n","b":-0.5e+10,"body2":[true,false,null,0,12.25E-3]}',
    '{"body":{"é":"ünïcode ✓"}}',
    '{"body":1,"body":2}',
    "{}",
    "[1,2]",
    '"just a string"',
  ];
  it("finds exactly the values JSON.parse finds, for valid JSON", () => {
    for (const text of valid) {
      const bytes = Buffer.from(text);
      const spans = topLevelValueSpans(bytes, new Set(["body", "b"]));
      const parsed = JSON.parse(text) as Record<string, unknown>;
      for (const key of ["body", "b"]) {
        const span = spans.get(key);
        if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed) || !(key in parsed)) {
          expect(span, `${key} in ${text}`).toBeUndefined();
          continue;
        }
        expect(JSON.parse(bytes.subarray(span!.start, span!.end).toString()), `${key} in ${text}`).toEqual(parsed[key]);
      }
    }
  });

  const invalid = [
    '{"body":{"x":1}',
    '{"body":[1,,2]}',
    '{"body":[1,2,]}',
    '{"body":{"x" 1}}',
    '{"body":{x:1}}',
    '{"body":01}',
    '{"body":1.}',
    '{"body":-}',
    '{"body":"a\\qb"}',
    '{"body":"a\\u12g4"}',
    '{"body":"tab\there"}',
    '{"body":"open}',
    '{"body":tru}',
    '{"body":[1]]}',
    '{"body":{"x":1}}}',
    '{"body":1}x',
    '{"body":1,}',
    "",
  ];
  it("refuses what JSON.parse refuses, with a SyntaxError", () => {
    for (const text of invalid) {
      expect(() => JSON.parse(text), text).toThrow(SyntaxError);
      expect(() => topLevelValueSpans(Buffer.from(text), new Set(["body"])), text).toThrow(SyntaxError);
    }
  });

  it("walks a million-deep nesting without running out of stack", () => {
    const depth = 1_000_000;
    const bytes = Buffer.from(`{"body":${"[".repeat(depth)}${"]".repeat(depth)}}`);
    expect(topLevelValueSpans(bytes, new Set(["body"])).get("body")).toEqual({ start: 8, end: 8 + 2 * depth });
  });
});

describe("a stored description with a large body", () => {
  it("keeps the body as its text, and writes the document back byte for byte", () => {
    const bodyText = fanInBodyText(5_000);
    const bytes = documentWithBody(described(), bodyText);
    expect(bytes.length).toBeGreaterThan(BODY_TEXT_MIN_BYTES);
    const desc = JobDescription.fromJSON(bytes);
    const stored = desc.toStoredJSON();
    expect(stored.body).toBeInstanceOf(JobBodyText);
    expect(Buffer.from((stored.body as JobBodyText).bytes).toString()).toBe(bodyText);
    expect(desc.hasBody()).toBe(true);
    expect(desc.childIds).toEqual(["child_0123456789abcdef"]);
    // Unchanged: the same bytes. Changed elsewhere: the same body bytes, the change in the rest.
    expect(Buffer.from(jobDocumentData(stored)).equals(bytes)).toBe(true);
    desc.preUpdateHook("leader");
    const updated = Buffer.from(jobDocumentData(desc.toStoredJSON()));
    expect(updated.includes(bodyText)).toBe(true);
    expect(JSON.parse(updated.toString())).toMatchObject({ version: 2, versionWriter: "leader", body: JSON.parse(bodyText) });
    // JSON.stringify writes the body it holds; the parsed body is what the text says.
    expect(JSON.parse(JSON.stringify(stored)).body).toEqual(JSON.parse(bodyText));
    expect(desc.getBody()).toEqual(JSON.parse(bodyText));
    expect(desc.toStoredJSON().body).not.toBeInstanceOf(JobBodyText); // parsed once, then held parsed
  });

  it("a small document is parsed whole", () => {
    const doc = readJobDocument(documentWithBody(described(), fanInBodyText(3))) as { body: unknown };
    expect(doc.body).not.toBeInstanceOf(JobBodyText);
    expect(doc.body).toEqual(JSON.parse(fanInBodyText(3)));
  });

  it("a large document without a body (a job that ran and has many children) is parsed whole", () => {
    const ran = described();
    for (let i = 0; i < 5_000; i++) ran.addChild(`child-${String(i).padStart(15, "0")}`);
    const bytes = Buffer.from(JSON.stringify(ran.toJSON()));
    expect(bytes.length).toBeGreaterThan(BODY_TEXT_MIN_BYTES);
    const back = JobDescription.fromJSON(bytes);
    expect(back.hasBody()).toBe(false);
    expect(back.childIds).toHaveLength(5_001);
    expect(Buffer.from(jobDocumentData(back.toStoredJSON())).equals(bytes)).toBe(true);
  });

  it("a checkpoint's kept body stays text through restartCheckpoint and clone", () => {
    const bodyText = fanInBodyText(5_000);
    const desc = JobDescription.fromJSON(documentWithBody(described(true), bodyText, "checkpointBody"));
    expect(desc.hasBody()).toBe(false);
    expect(desc.hasCheckpointBody()).toBe(true);
    expect(desc.toStoredJSON().checkpointBody).toBeInstanceOf(JobBodyText);
    const copy = desc.clone();
    expect(copy.toStoredJSON().checkpointBody).toBeInstanceOf(JobBodyText);
    expect(desc.restartCheckpoint()).toEqual(["child_0123456789abcdef"]);
    expect(desc.toStoredJSON().body).toBeInstanceOf(JobBodyText);
    expect(Buffer.from(jobDocumentData(desc.toStoredJSON())).toString()).toContain(`"body":${bodyText}`);
    expect(copy.checkpointBody).toEqual(JSON.parse(bodyText) as JobBody);
    expect(copy.toJSON().checkpointBody).toEqual(JSON.parse(bodyText));
  });

  it("a damaged large document is refused as JSON, and a body that is not an object when it is parsed", () => {
    const bytes = documentWithBody(described(), fanInBodyText(5_000));
    expect(() => readJobDocument(bytes.subarray(0, bytes.length - 3))).toThrow(SyntaxError);
    const notAnObject = JobDescription.fromJSON(documentWithBody(described(), `[${"1,".repeat(40_000)}1]`));
    expect(notAnObject.hasBody()).toBe(true);
    expect(() => notAnObject.getBody()).toThrow(/its body is not an object/);
  });
});
