/**
 * The commit log of one writing process: an append-only file no other process writes. A group of
 * entries is appended with one write(2); `sync()` makes everything appended so far durable with one
 * fdatasync, shared by every group appended before it starts (group commit: groups appended while a
 * sync runs wait for the next one, which covers them all).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { JobStoreError } from "../errors.js";
import { asNoSpace, failIfDiskFullInjected, FILE_MODE, fsyncDir } from "../internal/fsx.js";
import { FLAG_ABORT, encodeGroup, encodeRecord, type EntryInput } from "./record.js";

/** Where the entries of an appended group landed. */
export interface AppendedGroup {
  /** The log's file name (in the log directory). */
  log: string;
  /** Offset of each entry, in the order given. */
  offsets: number[];
  /** Length of each entry. */
  lengths: number[];
}

/** The appending side of one log file. */
export class LogWriter {
  private fd: number | undefined;
  private size = 0;
  private syncedSize = 0;
  private dirSynced = false;
  private syncing: Promise<void> | undefined;
  private broken = false;

  constructor(
    /** The log directory. */
    readonly dir: string,
    /** The file name to create on the first append. */
    readonly name: string,
    private readonly durable: boolean,
    /** Size above which a group is cut into several records (tests make it small). */
    private readonly recordBytes?: number,
  ) {}

  /**
   * Continue a log another process released (see `handover.ts`): appends go after its `size`
   * bytes, which its writer synced, as it did the log's name. Throws if the file is not that size.
   */
  static continuing(dir: string, name: string, durable: boolean, size: number, recordBytes?: number): LogWriter {
    const writer = new LogWriter(dir, name, durable, recordBytes);
    const fd = fs.openSync(writer.path, fs.constants.O_WRONLY | fs.constants.O_APPEND);
    const actual = fs.fstatSync(fd).size;
    if (actual !== size) {
      fs.closeSync(fd);
      throw new JobStoreError(`commit log ${writer.path} is ${actual} bytes, not the ${size} read: it cannot be continued`);
    }
    writer.fd = fd;
    writer.size = size;
    writer.syncedSize = size;
    writer.dirSynced = true;
    return writer;
  }

  /** Path of the log file. */
  get path(): string {
    return path.join(this.dir, this.name);
  }

  /** Bytes appended so far. */
  get length(): number {
    return this.size;
  }

  /** Whether an append failed and left this log unusable (the caller starts another). */
  get isBroken(): boolean {
    return this.broken;
  }

  private open(): number {
    if (this.fd !== undefined) return this.fd;
    failIfDiskFullInjected(this.path);
    try {
      this.fd = fs.openSync(this.path, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | fs.constants.O_EXCL, FILE_MODE);
    } catch (err) {
      throw asNoSpace(err, this.path);
    }
    return this.fd;
  }

  /**
   * Append `entries` as one group (one write; a group larger than a record is cut into records, and
   * takes effect only with its last). Not durable until {@link sync}. A failed append (a full disk)
   * is cut off again, so the log never holds a partial group followed by more appends.
   */
  append(entries: readonly EntryInput[], continues = false): AppendedGroup {
    const { records, entryOffsets } = encodeGroup(entries, this.recordBytes, continues);
    const buf = records.length === 1 ? records[0]! : Buffer.concat(records);
    const start = this.write(buf);
    const lengths = entryOffsets.map((o) => entryLength(buf, o));
    return { log: this.name, offsets: entryOffsets.map((o) => start + o), lengths };
  }

  /** Stop using this log (a group in it could not be completed or given up); the caller starts another. */
  retire(): void {
    this.broken = true;
  }

  /** Give up the group begun by appends with `continues`: readers drop it. */
  abortGroup(): void {
    this.write(encodeRecord([], FLAG_ABORT));
  }

  /** Append `buf` with one write; returns where it begins. A failed write is cut off again. */
  private write(buf: Buffer): number {
    if (this.broken) throw new JobStoreError(`commit log ${this.path} is unusable after a failed append (a new log must be started)`);
    const fd = this.open();
    const start = this.size;
    try {
      failIfDiskFullInjected(this.path);
      let off = 0;
      while (off < buf.length) off += fs.writeSync(fd, buf, off, buf.length - off);
    } catch (err) {
      try {
        fs.ftruncateSync(fd, start);
      } catch {
        this.broken = true;
      }
      throw asNoSpace(err, this.path);
    }
    this.size = start + buf.length;
    return start;
  }

  /** Make everything appended so far durable (one fdatasync shared by every caller waiting). */
  async sync(): Promise<void> {
    if (!this.durable || this.fd === undefined) return;
    const target = this.size;
    while (this.syncedSize < target) {
      if (this.syncing) {
        await this.syncing;
        continue;
      }
      this.syncing = this.syncNow();
      try {
        await this.syncing;
      } finally {
        this.syncing = undefined;
      }
    }
  }

  private async syncNow(): Promise<void> {
    const covered = this.size;
    const fd = this.fd!;
    try {
      await new Promise<void>((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));
      // The file's name must survive too: its directory once, at the first sync.
      if (!this.dirSynced) {
        fsyncDir(this.dir);
        this.dirSynced = true;
      }
    } catch (err) {
      throw asNoSpace(err, this.path);
    }
    this.syncedSize = Math.max(this.syncedSize, covered);
  }

  /** Whether everything appended is durable (or durability is off). */
  get synced(): boolean {
    return !this.durable || this.syncedSize >= this.size;
  }

  /** Close the file (after a final sync when asked). */
  async close(sync = true): Promise<void> {
    if (sync) await this.sync();
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }

  /** Close at once without syncing (the process is about to exit). */
  closeSync(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}

function entryLength(buf: Buffer, offset: number): number {
  const idLength = buf.readUInt8(offset + 1);
  return 16 + idLength + buf.readUInt32LE(offset + 8) + buf.readUInt32LE(offset + 12) + 4;
}
