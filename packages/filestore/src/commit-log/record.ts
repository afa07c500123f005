/**
 * The commit log's on-disk records. A log is a sequence of records; a record is a group of entries
 * (a job document put or deleted, a result put or deleted, a mailbox message, a mailbox claim):
 *
 * ```
 * record  = header payload trailer
 * header  = "TLG1" u32 flags  u32 payloadLength  u32 payloadCrc  u32 headerCrc     (20 bytes)
 * payload = entry*
 * trailer = u32 payloadCrc  "TEND"                                                (8 bytes)
 * entry   = u8 kind  u8 idLength  u16 flags  i32 version  u32 auxLength  u32 dataLength
 *           id aux data  u32 entryCrc                                            (16 + ... + 4)
 * ```
 *
 * All integers little-endian; every CRC is CRC-32 (zlib's, the IEEE polynomial). `flags` bit 0 says
 * the group goes on in the next record (a commit larger than one record); a group takes effect
 * only with its last record, and bit 1 drops a group its writer gave up. A torn write (a crash) can only cut a record short: the file ends
 * inside it, or (power loss) garbage follows a cut; then its trailer does not match. A complete
 * record whose payload does not match its checksum is damage, not a crash.
 */
import { crc32 } from "node:zlib";

/** What an entry records. */
export const EntryKind = {
  /** A job document (its JSON; `aux` holds its state record's JSON). */
  JobPut: 1,
  /** A job deleted. */
  JobDelete: 2,
  /** A job's serialized return value. */
  ResultPut: 3,
  /** A result deleted. */
  ResultDelete: 4,
  /** A mailbox message (`aux`: the time it was written, ms, as decimal text). */
  Message: 5,
  /** The leader took the mailbox messages of log `id` up to byte `data` (decimal text). */
  MessageClaim: 6,
  /** The writer closed its log: nothing follows (readers stop looking at it). */
  Seal: 7,
  /**
   * The writer closed its log and left it to be taken over: another process on the same machine may
   * append to it next (readers keep looking at it). See `handover.ts`.
   */
  Release: 8,
  /** A process took over the log: it writes it from here on; `id` is its writer name (`g<gen>-<writer>.log`). */
  Owner: 9,
} as const;
/** One of {@link EntryKind}. */
export type EntryKindValue = (typeof EntryKind)[keyof typeof EntryKind];

/** An entry to write. */
export interface EntryInput {
  kind: EntryKindValue;
  id: string;
  version: number;
  aux?: string;
  data?: string | Uint8Array;
  /** A new job (its first document): see {@link ENTRY_FLAG_CREATE}. */
  create?: boolean;
}

/** Entry flag: the document creates its job (no earlier version exists anywhere). */
export const ENTRY_FLAG_CREATE = 1;

const MAGIC = 0x31474c54; // "TLG1"
const END = 0x444e4554; // "TEND"
export const HEADER_BYTES = 20;
export const TRAILER_BYTES = 8;
export const ENTRY_HEADER_BYTES = 16;
/** Groups are cut into records of about this size (a record is read whole when a log is scanned). */
export const RECORD_TARGET_BYTES = 4 << 20;
/** Bit 0 of a record's flags: the group continues in the next record. */
export const FLAG_CONTINUES = 1;
/**
 * Bit 1: drop the group begun by the records before (its writer gave it up: a batch that failed after
 * part of a large group was written). Such a record holds no entries.
 */
export const FLAG_ABORT = 2;

function toBytes(data: string | Uint8Array | undefined): Buffer {
  if (data === undefined) return Buffer.alloc(0);
  return typeof data === "string" ? Buffer.from(data, "utf8") : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** One encoded entry (with its CRC). */
export function encodeEntry(e: EntryInput): Buffer {
  const id = Buffer.from(e.id, "latin1");
  if (id.length > 255) throw new RangeError(`commit log entry id too long (${id.length} bytes)`);
  const aux = toBytes(e.aux);
  const data = toBytes(e.data);
  const size = ENTRY_HEADER_BYTES + id.length + aux.length + data.length + 4;
  const buf = Buffer.allocUnsafe(size);
  buf.writeUInt8(e.kind, 0);
  buf.writeUInt8(id.length, 1);
  buf.writeUInt16LE(e.create ? ENTRY_FLAG_CREATE : 0, 2);
  buf.writeInt32LE(e.version, 4);
  buf.writeUInt32LE(aux.length, 8);
  buf.writeUInt32LE(data.length, 12);
  let off = ENTRY_HEADER_BYTES;
  off += id.copy(buf, off);
  off += aux.copy(buf, off);
  off += data.copy(buf, off);
  buf.writeUInt32LE(crc32(buf.subarray(0, off)), off);
  return buf;
}

/** A record holding `entries` (already encoded). */
export function encodeRecord(entries: readonly Buffer[], flags: number): Buffer {
  let payloadLength = 0;
  for (const e of entries) payloadLength += e.length;
  const buf = Buffer.allocUnsafe(HEADER_BYTES + payloadLength + TRAILER_BYTES);
  let off = HEADER_BYTES;
  let crc = 0;
  for (const e of entries) {
    off += e.copy(buf, off);
    crc = crc32(e, crc);
  }
  buf.writeUInt32LE(MAGIC, 0);
  buf.writeUInt32LE(flags, 4);
  buf.writeUInt32LE(payloadLength, 8);
  buf.writeUInt32LE(crc, 12);
  buf.writeUInt32LE(crc32(buf.subarray(0, 16)), 16);
  buf.writeUInt32LE(crc, off);
  buf.writeUInt32LE(END, off + 4);
  return buf;
}

/** Encode a group of entries as one or more records (all but the last flagged "continues"). */
export function encodeGroup(
  entries: readonly EntryInput[],
  recordBytes = RECORD_TARGET_BYTES,
  /** The group goes on after these records (a large group written in parts). */
  continues = false,
): { records: Buffer[]; entryOffsets: number[] } {
  const records: Buffer[] = [];
  const entryOffsets: number[] = [];
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let base = 0;
  let pendingOffsets: number[] = [];
  const flush = (last: boolean) => {
    const rec = encodeRecord(pending, last ? 0 : FLAG_CONTINUES);
    for (const o of pendingOffsets) entryOffsets.push(base + HEADER_BYTES + o);
    records.push(rec);
    base += rec.length;
    pending = [];
    pendingOffsets = [];
    pendingBytes = 0;
  };
  for (const e of entries) {
    const enc = encodeEntry(e);
    if (pendingBytes > 0 && pendingBytes + enc.length > recordBytes) flush(false);
    pendingOffsets.push(pendingBytes);
    pending.push(enc);
    pendingBytes += enc.length;
  }
  flush(!continues);
  return { records, entryOffsets };
}

/** An entry as a scan of the log finds it (its bytes stay in the log; see {@link readEntryAt}). */
export interface ScannedEntry {
  kind: number;
  flags: number;
  id: string;
  version: number;
  /** Byte offset of the entry in the log. */
  offset: number;
  /** Its length in bytes (header, id, aux, data and CRC). */
  length: number;
}

/** A decoded entry. */
export interface DecodedEntry {
  kind: number;
  id: string;
  version: number;
  aux: Buffer;
  data: Buffer;
}

/** Why an entry's bytes are not a valid entry (undefined: valid). */
export function entryProblem(buf: Buffer): string | undefined {
  if (buf.length < ENTRY_HEADER_BYTES + 4) return "it is cut short";
  const idLength = buf.readUInt8(1);
  const size = ENTRY_HEADER_BYTES + idLength + buf.readUInt32LE(8) + buf.readUInt32LE(12) + 4;
  if (size !== buf.length) return "its length fields do not match";
  if (crc32(buf.subarray(0, size - 4)) !== buf.readUInt32LE(size - 4)) return "its checksum (CRC-32) does not match its bytes";
  return undefined;
}

/** Decode an entry whose bytes were checked with {@link entryProblem}. */
export function decodeEntry(buf: Buffer): DecodedEntry {
  const idLength = buf.readUInt8(1);
  const auxLength = buf.readUInt32LE(8);
  const dataLength = buf.readUInt32LE(12);
  let off = ENTRY_HEADER_BYTES;
  const id = buf.toString("latin1", off, off + idLength);
  off += idLength;
  const aux = buf.subarray(off, off + auxLength);
  off += auxLength;
  const data = buf.subarray(off, off + dataLength);
  return { kind: buf.readUInt8(0), id, version: buf.readInt32LE(4), aux, data };
}

/** What a scan found at one position of a log. */
export type ScanStep =
  | { type: "record"; offset: number; length: number; continues: boolean; aborts: boolean; entries: ScannedEntry[] }
  /** The log ends with a torn record (a write cut by a crash, maybe followed by garbage): ignored. */
  | { type: "torn"; offset: number }
  /** A complete record that is damaged (not what a crash leaves). */
  | { type: "damaged"; offset: number; problem: string }
  /** Nothing more (the end of the bytes). */
  | { type: "end"; offset: number };

/** The ids a damaged payload seems to hold, as far as its entry headers can be read (for the error). */
function idsIn(payload: Buffer): string {
  const ids: string[] = [];
  let p = 0;
  while (p + ENTRY_HEADER_BYTES + 4 <= payload.length && ids.length < 10) {
    const idLength = payload.readUInt8(p + 1);
    const size = ENTRY_HEADER_BYTES + idLength + payload.readUInt32LE(p + 8) + payload.readUInt32LE(p + 12) + 4;
    if (size <= 0 || p + size > payload.length) break;
    const kind = payload.readUInt8(p);
    const id = payload.toString("latin1", p + ENTRY_HEADER_BYTES, p + ENTRY_HEADER_BYTES + idLength);
    if (kind === EntryKind.JobPut || kind === EntryKind.JobDelete) ids.push(`job ${JSON.stringify(id)}`);
    else if (kind === EntryKind.ResultPut || kind === EntryKind.ResultDelete) ids.push(`the result of job ${JSON.stringify(id)}`);
    p += size;
  }
  return ids.length > 0 ? `; it holds (as far as can be read) ${ids.join(", ")}` : "";
}

/** Whether a valid record starts anywhere in `buf` after `from` (damage in the middle of a log, not a torn tail). */
function validRecordAfter(buf: Buffer, from: number): boolean {
  const magic = Buffer.from("TLG1", "latin1");
  for (let at = buf.indexOf(magic, from); at >= 0; at = buf.indexOf(magic, at + 1)) {
    if (at + HEADER_BYTES > buf.length) return false;
    if (crc32(buf.subarray(at, at + 16)) !== buf.readUInt32LE(at + 16)) continue;
    const len = buf.readUInt32LE(at + 8);
    const end = at + HEADER_BYTES + len;
    if (end + TRAILER_BYTES > buf.length) continue;
    if (crc32(buf.subarray(at + HEADER_BYTES, end)) === buf.readUInt32LE(at + 12)) return true;
  }
  return false;
}

/**
 * The record at `offset` of `buf` (the log's bytes from some offset to its end as read; `base` is
 * the log offset of `buf[0]`). A record cut short may also be one its writer is still appending:
 * the caller reads again from the same offset later.
 */
export function scanRecord(buf: Buffer, offset: number, base: number): ScanStep {
  const at = offset - base;
  if (at >= buf.length) return { type: "end", offset };
  if (buf.length - at < HEADER_BYTES) return { type: "torn", offset };
  const headerOk = buf.readUInt32LE(at) === MAGIC && crc32(buf.subarray(at, at + 16)) === buf.readUInt32LE(at + 16);
  if (!headerOk) {
    return validRecordAfter(buf, at + 1)
      ? { type: "damaged", offset, problem: "a record header is damaged (its magic or checksum does not match)" }
      : { type: "torn", offset };
  }
  const flags = buf.readUInt32LE(at + 4);
  const length = buf.readUInt32LE(at + 8);
  const crc = buf.readUInt32LE(at + 12);
  const end = at + HEADER_BYTES + length;
  if (end + TRAILER_BYTES > buf.length) return { type: "torn", offset };
  const payload = buf.subarray(at + HEADER_BYTES, end);
  const payloadOk = crc32(payload) === crc;
  const trailerOk = buf.readUInt32LE(end) === crc && buf.readUInt32LE(end + 4) === END;
  // A record cut short and followed by garbage (a power cut) has no trailer; one that was written
  // whole has one. Either way, a wrong record with nothing valid after it is the torn end of the log.
  if (!trailerOk && !validRecordAfter(buf, end)) return { type: "torn", offset };
  if (!payloadOk) return { type: "damaged", offset, problem: `a record's checksum (CRC-32) does not match its bytes${idsIn(payload)}` };
  // The payload is intact (a damaged trailer alone, followed by more records, loses nothing).
  const entries: ScannedEntry[] = [];
  let p = 0;
  while (p < payload.length) {
    if (payload.length - p < ENTRY_HEADER_BYTES + 4) return { type: "damaged", offset, problem: "a record's entries are malformed" };
    const idLength = payload.readUInt8(p + 1);
    const size = ENTRY_HEADER_BYTES + idLength + payload.readUInt32LE(p + 8) + payload.readUInt32LE(p + 12) + 4;
    if (p + size > payload.length) return { type: "damaged", offset, problem: "a record's entries are malformed" };
    entries.push({
      kind: payload.readUInt8(p),
      flags: payload.readUInt16LE(p + 2),
      id: payload.toString("latin1", p + ENTRY_HEADER_BYTES, p + ENTRY_HEADER_BYTES + idLength),
      version: payload.readInt32LE(p + 4),
      offset: base + at + HEADER_BYTES + p,
      length: size,
    });
    p += size;
  }
  return {
    type: "record",
    offset,
    length: HEADER_BYTES + length + TRAILER_BYTES,
    continues: (flags & FLAG_CONTINUES) !== 0,
    aborts: (flags & FLAG_ABORT) !== 0,
    entries,
  };
}
