/**
 * Copies that sum what they copy. The bytes are copied by the kernel (copy_file_range: they never
 * pass through this process as a write) and the sum is taken by reading one side of the copy through
 * the page cache, where it already is.
 *
 * Small files are copied and summed in one blocking go: for a file of a few MiB the thread pool's
 * round trips (one per open, read, write, close) cost more than the copy itself, the more so on a
 * busy machine. The copy is then summed: the sum describes exactly the bytes that were stored.
 * Copying through a buffer of this process instead (read, sum, write) costs the same most of the
 * time, but on the virtual machines the bench runs on its writes of fresh page-cache pages are now
 * and then three to four times slower, where the kernel's copy never is.
 * Larger files are copied by the kernel while the source is summed (see {@link copyFileSummed}).
 */
import * as fs from "node:fs";
import { Writable } from "node:stream";
import { crc32 } from "node:zlib";
import { isErrno } from "../internal/fsx.js";
import type { FileSum } from "./file-checksums.js";

/** Size of the pieces a copy reads, sums and writes (through one buffer, allocated once). */
const COPY_CHUNK = 1 << 20;
/**
 * Size of the pieces a stream of a stored file reads. Each piece is a new buffer: pieces of 1 MiB
 * are mapped fresh from the kernel for each (and faulted in page by page), which costs more system
 * time than the larger pieces save; 256 KiB pieces come from the heap.
 */
export const STREAM_CHUNK = 256 << 10;
/** At most this many pieces a writer handed over in one go are written with one writev, as they are. */
const MAX_WRITEV_PIECES = 16;
/** Files up to this size are copied without leaving the event loop (a few milliseconds at most). */
const BLOCKING_COPY_LIMIT = 4 * COPY_CHUNK;

let sharedBuffer: Buffer | undefined;

function readFd(fd: number, buf: Buffer, position: number): Promise<number> {
  return new Promise((resolve, reject) => fs.read(fd, buf, 0, buf.length, position, (err, n) => (err ? reject(err) : resolve(n))));
}

function writeFd(fd: number, buf: Buffer, offset: number, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => fs.write(fd, buf, offset, length, position, (err, n) => (err ? reject(err) : resolve(n))));
}

async function writeAll(fd: number, buf: Buffer, length: number, position: number): Promise<void> {
  for (let done = 0; done < length; ) done += await writeFd(fd, buf, done, length - done, position + done);
}

/** Write `bufs` at `position` in one system call (the rest piece by piece after a short write). */
async function writevAll(fd: number, bufs: Buffer[], position: number): Promise<void> {
  const written = await new Promise<number>((resolve, reject) => fs.writev(fd, bufs, position, (err, n) => (err ? reject(err) : resolve(n))));
  let at = position + written;
  let skip = written;
  for (const b of bufs) {
    if (skip >= b.length) {
      skip -= b.length;
      continue;
    }
    await writeAll(fd, b.subarray(skip), b.length - skip, at);
    at += b.length - skip;
    skip = 0;
  }
}

/** Sum all of `fd` in one blocking loop, through one shared buffer. */
function sumFdSync(fd: number): FileSum {
  sharedBuffer ??= Buffer.allocUnsafe(COPY_CHUNK);
  const buf = sharedBuffer;
  let crc = 0;
  let size = 0;
  for (;;) {
    const n = fs.readSync(fd, buf, 0, buf.length, size);
    if (n === 0) break;
    crc = crc32(buf.subarray(0, n), crc);
    size += n;
  }
  return { crc: crc >>> 0, size };
}

/** Sum all of `fd`, through the thread pool, in 1 MiB pieces. */
async function sumFd(fd: number): Promise<FileSum> {
  const buf = Buffer.allocUnsafe(COPY_CHUNK);
  let crc = 0;
  let size = 0;
  for (;;) {
    const n = await readFd(fd, buf, size);
    if (n === 0) break;
    crc = crc32(buf.subarray(0, n), crc);
    size += n;
  }
  return { crc: crc >>> 0, size };
}

function sameFile(a: fs.Stats, b: fs.Stats): boolean {
  return a.ino === b.ino && a.dev === b.dev;
}

/**
 * Copy the file `src` to a new file `dst` (created with `mode`, exactly: the umask does not apply),
 * summing the bytes copied. `flags` is how `dst` is opened ("wx": it must not exist yet).
 * On failure `dst` is removed. Returns the sum (its size is the bytes copied).
 *
 * A small file is copied by the kernel in one blocking call, and the copy is then summed. A large one
 * is copied by the kernel on the thread pool while this thread sums the source through the same page
 * cache: the two passes overlap, and the sum is of the bytes copied as long as `src` still names
 * the file summed when the copy is done (the store replaces a file by renaming a new one over it,
 * never by writing into it). Should it have been replaced meanwhile, the copy is summed instead.
 */
export async function copyFileSummed(src: string, dst: string, mode: number, flags: "w" | "wx"): Promise<FileSum> {
  const st = fs.statSync(src);
  const copyMode = flags === "wx" ? fs.constants.COPYFILE_EXCL : 0;
  let created = false;
  let dstFd: number | undefined;
  try {
    if (st.size <= BLOCKING_COPY_LIMIT) {
      fs.copyFileSync(src, dst, copyMode);
      created = true;
      fs.chmodSync(dst, mode);
      dstFd = fs.openSync(dst, "r");
      const sum = sumFdSync(dstFd);
      fs.closeSync(dstFd);
      dstFd = undefined;
      return sum;
    }
    const srcFd = fs.openSync(src, "r");
    try {
      const copying = fs.promises.copyFile(src, dst, copyMode);
      copying.catch(() => undefined);
      let sum: FileSum;
      try {
        sum = await sumFd(srcFd);
      } finally {
        // A copy that failed part way leaves its partial file; one refused (EEXIST) left no file of ours.
        await copying.then(
          () => (created = true),
          (err: unknown) => (created = !isErrno(err, "EEXIST")),
        );
      }
      await copying;
      fs.chmodSync(dst, mode);
      if (!sameFile(st, fs.statSync(src))) {
        dstFd = fs.openSync(dst, "r");
        sum = await sumFd(dstFd);
        fs.closeSync(dstFd);
        dstFd = undefined;
      }
      return sum;
    } finally {
      fs.closeSync(srcFd);
    }
  } catch (err) {
    if (dstFd !== undefined) fs.closeSync(dstFd);
    // A small copy refused because `dst` exists made nothing of ours; any other failure may have.
    if (created || (st.size <= BLOCKING_COPY_LIMIT && !isErrno(err, "EEXIST"))) fs.rmSync(dst, { force: true });
    throw err;
  }
}

/**
 * A writable stream into an open file that sums what it writes: a stored file written through it
 * needs no second read to take its checksum. Pieces the writer hands over in one go (up to
 * {@link COPY_CHUNK} bytes or more) go out in one system call. The caller owns (and closes) `fd`.
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
    if (chunks.length === 1) this.put(chunks[0]!.chunk, done);
    // Pieces the size a file is read in (256 KiB) go out as they are, in one writev: joining
    // them first would copy every byte once more. Many small pieces are joined into one.
    else if (chunks.length <= MAX_WRITEV_PIECES) this.putAll(chunks.map((c) => c.chunk), done);
    else this.put(Buffer.concat(chunks.map((c) => c.chunk)), done);
  }

  /**
   * Resolves once no write is under way on the thread pool. A destroyed stream does not wait for
   * its last write: the file may be closed only after this (a closed descriptor's number can be
   * reused by the next open, and the write would land in that file).
   */
  settled(): Promise<void> {
    return this.inFlight;
  }

  private putAll(bufs: Buffer[], done: (err?: Error | null) => void): void {
    const position = this.bytesWritten;
    for (const b of bufs) {
      this.crc = crc32(b, this.crc);
      this.bytesWritten += b.length;
    }
    this.inFlight = writevAll(this.fd, bufs, position).then(
      () => done(),
      (err: Error) => done(err),
    );
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
