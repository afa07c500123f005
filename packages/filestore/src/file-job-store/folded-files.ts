/**
 * Job documents and results folded from the commit logs into files of their own
 * (`jobs/<xx>/<id>.json`, `results/<xx>/<id>`). Each starts with a one-line header carrying the
 * version and a CRC-32 of the rest, checked on every read:
 *
 * ```
 * #toil v=<version> crc32=<8 hex digits>\n<content>
 * ```
 *
 * Files of a format-1 store have no header (a document starts with `{`; JSON never starts with
 * `#`) and are read unchecked.
 */
import * as fs from "node:fs";
import { crc32 } from "node:zlib";
import { DamagedJobStoreFileError } from "../errors.js";
import { asNoSpace, mkdirp, tempNameFor, FILE_MODE, failIfDiskFullInjected } from "../internal/fsx.js";
import * as path from "node:path";

const HEADER = /^#toil v=(-?\d+) crc32=([0-9a-f]{8})\n/;

/** A folded file's content and version (version undefined: a format-1 file without a header). */
export interface FoldedContent {
  content: Buffer;
  version: number | undefined;
}

/** Check and strip a folded file's header; `file` names it in the error. */
export function parseFolded(raw: Buffer, file: string): FoldedContent {
  if (raw.length === 0 || raw[0] !== 0x23 /* # */) return { content: raw, version: undefined };
  const nl = raw.indexOf(0x0a);
  const head = nl < 0 ? "" : raw.toString("latin1", 0, nl + 1);
  const m = HEADER.exec(head);
  if (!m) throw new DamagedJobStoreFileError(file, "its header line is damaged");
  const content = raw.subarray(nl + 1);
  const expected = Number.parseInt(m[2]!, 16);
  if (crc32(content) >>> 0 !== expected) throw new DamagedJobStoreFileError(file, "its checksum (CRC-32) does not match its content");
  return { content, version: Number(m[1]) };
}

/** The bytes of a folded file holding `content` at `version`. */
export function foldedBytes(content: Buffer, version: number): Buffer {
  const head = Buffer.from(`#toil v=${version} crc32=${(crc32(content) >>> 0).toString(16).padStart(8, "0")}\n`, "latin1");
  return Buffer.concat([head, content]);
}

/** Write a folded file through a temp file and a rename (not synced: the caller syncs the fold). */
export function writeFolded(file: string, content: Buffer, version: number): void {
  mkdirp(path.dirname(file));
  const tmp = tempNameFor(file);
  try {
    failIfDiskFullInjected(file);
    fs.writeFileSync(tmp, foldedBytes(content, version), { mode: FILE_MODE, flag: "wx" });
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw asNoSpace(err, file);
  }
}

/** The version a folded file holds without checking its content (undefined: none, or no header). */
export function foldedVersion(file: string): number | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch {
    return undefined;
  }
  try {
    const buf = Buffer.alloc(64);
    const n = fs.readSync(fd, buf, 0, 64, 0);
    const m = HEADER.exec(buf.toString("latin1", 0, n));
    return m ? Number(m[1]) : undefined;
  } finally {
    fs.closeSync(fd);
  }
}
