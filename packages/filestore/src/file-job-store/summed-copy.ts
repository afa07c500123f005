/**
 * Copies that sum what they copy: the bytes pass through memory once, in 1 MiB pieces, and the
 * CRC-32 is taken of exactly the bytes written. That replaces a kernel copy followed by a second
 * read of the copy to sum it (two passes, and a trip through the thread pool for every step).
 *
 * Small files are copied in one blocking go: for a file of a few MiB the thread pool's round trips
 * (one per open, read, write, close) cost more than the copy itself, the more so on a busy machine.
 * Larger files go through the thread pool with two buffers, so reading the next piece and writing
 * the last one overlap with summing it.
 */
import * as fs from "node:fs";
import { Writable } from "node:stream";
import { crc32 } from "node:zlib";
import type { FileSum } from "./file-checksums.js";

/** Size of the pieces a copy reads, sums and writes. */
export const COPY_CHUNK = 1 << 20;
/** Files up to this size are copied without leaving the event loop (a few milliseconds at most). */
export const BLOCKING_COPY_LIMIT = 4 * COPY_CHUNK;

let sharedBuffer: Buffer | undefined;

function writeAllSync(fd: number, buf: Buffer, length: number, position: number): void {
  for (let done = 0; done < length; ) done += fs.writeSync(fd, buf, done, length - done, position + done);
}

function readFd(fd: number, buf: Buffer, position: number): Promise<number> {
  return new Promise((resolve, reject) => fs.read(fd, buf, 0, buf.length, position, (err, n) => (err ? reject(err) : resolve(n))));
}

function writeFd(fd: number, buf: Buffer, offset: number, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => fs.write(fd, buf, offset, length, position, (err, n) => (err ? reject(err) : resolve(n))));
}

async function writeAll(fd: number, buf: Buffer, length: number, position: number): Promise<void> {
  for (let done = 0; done < length; ) done += await writeFd(fd, buf, done, length - done, position + done);
}

/** Copy all of `srcFd` to `dstFd` in one blocking loop; returns the copied bytes' sum. */
export function copyFdSummedSync(srcFd: number, dstFd: number): FileSum {
  sharedBuffer ??= Buffer.allocUnsafe(COPY_CHUNK);
  const buf = sharedBuffer;
  let crc = 0;
  let size = 0;
  for (;;) {
    const n = fs.readSync(srcFd, buf, 0, buf.length, size);
    if (n === 0) break;
    crc = crc32(buf.subarray(0, n), crc);
    writeAllSync(dstFd, buf, n, size);
    size += n;
  }
  return { crc: crc >>> 0, size };
}

/**
 * Copy all of `srcFd` to `dstFd` through the thread pool: while one piece is written and the next
 * read, the event loop sums the piece in hand. Returns the copied bytes' sum.
 */
export async function copyFdSummed(srcFd: number, dstFd: number): Promise<FileSum> {
  let hand = Buffer.allocUnsafe(COPY_CHUNK);
  let next = Buffer.allocUnsafe(COPY_CHUNK);
  let crc = 0;
  let size = 0;
  let n = await readFd(srcFd, hand, 0);
  while (n > 0) {
    const writing = writeAll(dstFd, hand, n, size);
    const reading = readFd(srcFd, next, size + n);
    // Neither may be left unobserved if the other fails first.
    writing.catch(() => undefined);
    reading.catch(() => undefined);
    crc = crc32(hand.subarray(0, n), crc);
    await writing;
    size += n;
    n = await reading;
    [hand, next] = [next, hand];
  }
  return { crc: crc >>> 0, size };
}

/**
 * Copy the file `src` to a new file `dst` (created with `mode`, exactly: the umask does not apply),
 * summing the bytes copied. `flags` is how `dst` is opened ("wx": it must not exist yet).
 * On failure `dst` is removed. Returns the sum (its size is the bytes copied).
 */
export async function copyFileSummed(src: string, dst: string, mode: number, flags: "w" | "wx", srcFlags: string | number = "r"): Promise<FileSum> {
  const srcFd = fs.openSync(src, srcFlags);
  let dstFd: number | undefined;
  try {
    const size = fs.fstatSync(srcFd).size;
    dstFd = fs.openSync(dst, flags, mode);
    fs.fchmodSync(dstFd, mode);
    const sum = size <= BLOCKING_COPY_LIMIT ? copyFdSummedSync(srcFd, dstFd) : await copyFdSummed(srcFd, dstFd);
    fs.closeSync(dstFd);
    dstFd = undefined;
    return sum;
  } catch (err) {
    if (dstFd !== undefined) {
      fs.closeSync(dstFd);
      fs.rmSync(dst, { force: true });
    }
    throw err;
  } finally {
    fs.closeSync(srcFd);
  }
}

/**
 * A writable stream into an open file that sums what it writes: a stored file written through it
 * needs no second read to take its checksum. Pieces the writer hands over in one go are joined
 * into one write of up to {@link COPY_CHUNK} bytes or more. The caller owns (and closes) `fd`.
 */
export class SummingFileSink extends Writable {
  /** Bytes written so far. */
  bytesWritten = 0;
  private crc = 0;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(private readonly fd: number) {
    super({ highWaterMark: COPY_CHUNK, decodeStrings: true });
  }

  /** The sum of everything written (complete once the stream has finished). */
  get sum(): FileSum {
    return { crc: this.crc >>> 0, size: this.bytesWritten };
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    this.put(chunk, done);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, done: (err?: Error | null) => void): void {
    this.put(chunks.length === 1 ? chunks[0]!.chunk : Buffer.concat(chunks.map((c) => c.chunk)), done);
  }

  /**
   * Resolves once no write is under way on the thread pool. A destroyed stream does not wait for
   * its last write: the file may be closed only after this (a closed descriptor's number can be
   * reused by the next open, and the write would land in that file).
   */
  settled(): Promise<void> {
    return this.inFlight;
  }

  private put(buf: Buffer, done: (err?: Error | null) => void): void {
    const position = this.bytesWritten;
    this.crc = crc32(buf, this.crc);
    this.bytesWritten += buf.length;
    this.inFlight = writeAll(this.fd, buf, buf.length, position).then(
      () => done(),
      (err: Error) => done(err),
    );
  }
}
