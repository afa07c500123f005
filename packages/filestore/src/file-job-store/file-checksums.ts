/**
 * Checksums of stored files. Next to each file the store keeps an empty file whose name carries the
 * CRC-32 and the size of the content: `.crc32-<8 hex digits>-<size>` in the file's own directory.
 * It is created before the data is renamed into place, and made durable with the file (the
 * directory is synced with the file's data before any job commit names the file). Every read
 * compares what it read with it; an update adds the new one before the new data goes in and
 * removes the old one after, so a file always has a checksum that matches it.
 *
 * Files without one (those of a format-1 store, imports stored as links to their source, exports
 * that moved the data out) are read unchecked.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Transform, type TransformCallback } from "node:stream";
import { crc32 } from "node:zlib";
import { DamagedJobStoreFileError } from "../errors.js";
import { FILE_MODE, listIfExists } from "../internal/fsx.js";

const SIDECAR = /^\.crc32-([0-9a-f]{8})-(\d+)$/;
const CHUNK = 1 << 20;

/** A file's checksum. */
export interface FileSum {
  crc: number;
  size: number;
}

function sidecarName(sum: FileSum): string {
  return `.crc32-${(sum.crc >>> 0).toString(16).padStart(8, "0")}-${sum.size}`;
}

/** Whether a directory entry is a checksum (not a file of the user's). */
export function isSidecar(name: string): boolean {
  return SIDECAR.test(name);
}

/** CRC-32 and size of a file's content. */
export async function sumOfFile(file: string): Promise<FileSum> {
  const fh = await fs.promises.open(file, "r");
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    let crc = 0;
    let size = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, CHUNK, size);
      if (bytesRead === 0) break;
      crc = crc32(buf.subarray(0, bytesRead), crc);
      size += bytesRead;
    }
    return { crc: crc >>> 0, size };
  } finally {
    await fh.close();
  }
}

/** The checksums recorded in `dir` (undefined: none, the file is read unchecked). */
export function recordedSums(dir: string): FileSum[] | undefined {
  const names = listIfExists(dir);
  if (names === undefined) return undefined;
  const sums: FileSum[] = [];
  for (const n of names) {
    const m = SIDECAR.exec(n);
    if (m) sums.push({ crc: Number.parseInt(m[1]!, 16), size: Number(m[2]) });
  }
  return sums.length > 0 ? sums : undefined;
}

/** Record `sum` in `dir` (before the data it describes is renamed into place). Returns its path. */
export function recordSum(dir: string, sum: FileSum): string {
  const p = path.join(dir, sidecarName(sum));
  fs.closeSync(fs.openSync(p, "w", FILE_MODE));
  return p;
}

/** Remove every recorded checksum of `dir` but `keep` (after an update's data is in place). */
export function forgetOtherSums(dir: string, keep: FileSum): void {
  const kept = sidecarName(keep);
  for (const n of fs.readdirSync(dir)) if (isSidecar(n) && n !== kept) fs.rmSync(path.join(dir, n), { force: true });
}

/** Remove every recorded checksum of `dir` (its data left the store's keeping). */
export function forgetSums(dir: string): void {
  for (const n of fs.readdirSync(dir)) if (isSidecar(n)) fs.rmSync(path.join(dir, n), { force: true });
}

function matches(sums: readonly FileSum[], got: FileSum): boolean {
  return sums.some((s) => s.crc === got.crc && s.size === got.size);
}

function describe(sums: readonly FileSum[], got: FileSum): string {
  const want = sums.map((s) => `CRC-32 ${s.crc.toString(16).padStart(8, "0")} over ${s.size} bytes`).join(" or ");
  return `its content does not match its checksum (read CRC-32 ${got.crc.toString(16).padStart(8, "0")} over ${got.size} bytes; stored ${want})`;
}

/**
 * Check a sum taken of bytes read from the file stored at `storedPath` (`got`) against its recorded
 * checksums (`sums`, undefined: the file has none and is read unchecked). Throws
 * {@link DamagedJobStoreFileError} naming the stored file and `what`.
 */
export function checkSum(sums: readonly FileSum[] | undefined, got: FileSum, storedPath: string, what: string): void {
  if (sums !== undefined && !matches(sums, got)) throw new DamagedJobStoreFileError(storedPath, `${what}: ${describe(sums, got)}`);
}

/**
 * Check `readPath` (the stored file, or a copy just made of it) against the checksums of the file
 * stored at `storedPath`. Throws {@link DamagedJobStoreFileError} naming the stored file and `what`.
 */
export async function verifyAgainst(storedPath: string, readPath: string, what: string): Promise<void> {
  const sums = recordedSums(path.dirname(storedPath));
  if (sums === undefined) return;
  const got = await sumOfFile(readPath);
  if (!matches(sums, got)) throw new DamagedJobStoreFileError(storedPath, `${what}: ${describe(sums, got)}`);
}

/**
 * A pass-through stream that checks what flowed through it when it ends: a damaged file fails
 * the stream with {@link DamagedJobStoreFileError} instead of ending it cleanly.
 */
export class VerifyingStream extends Transform {
  private crc = 0;
  private size = 0;

  constructor(
    private readonly sums: readonly FileSum[],
    private readonly storedPath: string,
    private readonly what: string,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.crc = crc32(chunk, this.crc);
    this.size += chunk.length;
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    const got = { crc: this.crc >>> 0, size: this.size };
    if (matches(this.sums, got)) done();
    else done(new DamagedJobStoreFileError(this.storedPath, `${this.what}: ${describe(this.sums, got)}`));
  }
}
