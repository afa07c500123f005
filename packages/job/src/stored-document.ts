/**
 * A job description's stored JSON document, read so that a large body stays the bytes it was
 * stored as. The leader never looks inside a job's body (only the worker that runs the job does),
 * and a body can be large: a follow-on that takes the values a million children promised is one
 * document of about 43 MB, whose object graph would cost several times that. Kept as bytes, it
 * costs its size, and it is written back unchanged when the leader updates the description.
 */
import { JobDescriptionFormatError } from "./errors.js";
import { topLevelValueSpans } from "./json-spans.js";

/**
 * Documents at least this large keep their bodies as bytes ({@link JobBodyText}); smaller ones are
 * parsed whole, as the bytes' scan would cost more than it saves.
 */
export const BODY_TEXT_MIN_BYTES = 64 * 1024;

/**
 * What a worker needs to rebuild a job: the module and export of its class or function, and its
 * serialized data (the job object's fields for class jobs and services, the arguments for function jobs).
 */
export interface JobBody {
  /** `"class"`: a Job subclass; `"function"`: `Job.wrapFn`; `"jobFunction"`: `Job.wrapJobFn`; `"service"`: a Service hosted by a service job; `"builtin"`: an internal job of @toil/job (e.g. the no-op shell of `encapsulate()`). */
  kind: "class" | "function" | "jobFunction" | "service" | "builtin";
  /** Absolute `file:` URL of the user module, or a package specifier. */
  module: string;
  /** Name of the export (class or function) in that module. */
  exportName: string;
  /** Serialized data (see `serializeValue`). */
  data: unknown;
  /** Serialized promised requirements, evaluated by the worker before the body runs. */
  promisedRequirements?: unknown;
}

const BODY_KEYS: ReadonlySet<string> = new Set(["body", "checkpointBody"]);
const BODY_KEY = Buffer.from('"body"');
const CHECKPOINT_BODY_KEY = Buffer.from('"checkpointBody"');
/** What stands for a body in the rest of the document while that is parsed. */
const PLACEHOLDER = Buffer.from("0");

/**
 * A job body kept as the JSON text it was stored as (UTF-8 bytes, checked to be JSON but not
 * parsed). `JSON.stringify` writes it as the body it holds; {@link jobDocumentData} copies its
 * bytes unchanged.
 */
export class JobBodyText {
  /**
   * @param bytes the body's JSON text, as UTF-8 bytes (kept, not copied)
   */
  constructor(readonly bytes: Uint8Array) {}

  /** The body, parsed (each call parses again). */
  parse(): JobBody {
    const text = Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength).toString("utf8");
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (err) {
      throw new JobDescriptionFormatError(`Not a valid serialized JobDescription: its body is not valid JSON (${(err as Error).message}).`);
    }
    if (body === null || typeof body !== "object" || Array.isArray(body)) {
      throw new JobDescriptionFormatError("Not a valid serialized JobDescription: its body is not an object.");
    }
    return body as JobBody;
  }

  /** What `JSON.stringify` writes for it: the parsed body. */
  toJSON(): JobBody {
    return this.parse();
  }
}

/** A body as a description holds it: parsed, or still the text it was stored as. */
export type StoredJobBody = JobBody | JobBodyText;

function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * Parse a stored description document (UTF-8 JSON). A document of at least
 * {@link BODY_TEXT_MIN_BYTES} keeps its `body` and `checkpointBody` as {@link JobBodyText} over
 * `bytes` (which it then keeps alive); everything else is parsed. Throws a `SyntaxError` if the
 * bytes are not JSON. The document is not checked to be a description (`JobDescription.fromJSON` does).
 */
export function readJobDocument(bytes: Uint8Array): unknown {
  const buf = asBuffer(bytes);
  // A large document without a body (a job that ran, with a million children) needs no walk.
  if (buf.length < BODY_TEXT_MIN_BYTES || (buf.indexOf(BODY_KEY) < 0 && buf.indexOf(CHECKPOINT_BODY_KEY) < 0)) return JSON.parse(buf.toString("utf8"));
  const spans = [...topLevelValueSpans(buf, BODY_KEYS)].sort((a, b) => a[1].start - b[1].start);
  if (spans.length === 0) return JSON.parse(buf.toString("utf8"));
  // The rest of the document, each body replaced by a placeholder, is small: parse it whole.
  const pieces: Buffer[] = [];
  let at = 0;
  for (const [, span] of spans) {
    pieces.push(buf.subarray(at, span.start), PLACEHOLDER);
    at = span.end;
  }
  pieces.push(buf.subarray(at));
  const doc = JSON.parse(Buffer.concat(pieces).toString("utf8")) as Record<string, unknown>;
  for (const [key, span] of spans) doc[key] = new JobBodyText(buf.subarray(span.start, span.end));
  return doc;
}

/**
 * A description's stored document (`JobDescription.toStoredJSON()`) as JSON to store: the string
 * `JSON.stringify` makes, unless its `body` or `checkpointBody` is a {@link JobBodyText}; then
 * UTF-8 bytes, the same but for those bodies' bytes, copied in unchanged.
 */
export function jobDocumentData(doc: { body?: unknown; checkpointBody?: unknown }): string | Buffer {
  // The usual case (every document a worker writes) costs nothing more than JSON.stringify.
  if (!(doc.body instanceof JobBodyText) && !(doc.checkpointBody instanceof JobBodyText)) return JSON.stringify(doc);
  const fields = Object.entries(doc).filter(([, v]) => v !== undefined);
  const pieces: Buffer[] = [];
  let text = "{";
  let first = true;
  for (const [key, value] of fields) {
    text += `${first ? "" : ","}${JSON.stringify(key)}:`;
    first = false;
    if (value instanceof JobBodyText) {
      pieces.push(Buffer.from(text, "utf8"), asBuffer(value.bytes));
      text = "";
    } else {
      text += JSON.stringify(value);
    }
  }
  pieces.push(Buffer.from(`${text}}`, "utf8"));
  return Buffer.concat(pieces);
}
