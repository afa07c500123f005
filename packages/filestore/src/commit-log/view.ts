/**
 * What the commit logs of a store say: for every job and result, where its newest entry is (or
 * that it was deleted), read incrementally from every log of the store's unfolded generations.
 * Entries are read back by position, each checked against its own checksum.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { DamagedJobStoreFileError } from "../errors.js";
import * as os from "node:os";
import { isErrno } from "../internal/fsx.js";
import { bootId, isProcessAlive } from "../internal/process-info.js";
import {
  ENTRY_FLAG_CREATE,
  ENTRY_HEADER_BYTES,
  EntryKind,
  decodeEntry,
  entryProblem,
  scanRecord,
  type DecodedEntry,
  type ScannedEntry,
} from "./record.js";
import { DELETED_VERSION, SlotFlag, SlotTable, type SlotEntry } from "./slots.js";

/** A log's file name: `g<generation>-<writer>.log`. */
const LOG_NAME = /^g(\d+)-[A-Za-z0-9._-]+\.log$/;
/** The writer part written by this release: `<pid>.<start ticks>.<boot id prefix>-<random>-<host>`. */
const WRITER = /^g\d+-(\d+)\.(\d*)\.([0-9a-f]*)-[0-9a-f]+-(.+)\.log$/;

/** This machine's name as it appears in log names. */
export function hostTag(): string {
  return os.hostname().replace(/[^A-Za-z0-9.-]+/g, "_").slice(0, 64) || "host";
}

/**
 * Whether the process that writes log `name` has certainly exited: it ran on this machine since
 * its last boot (same host and boot id in the name) and that pid no longer runs with its start time.
 * Anything else (another host, an older name) may still be writing.
 */
function writerIsGone(name: string): boolean {
  const m = WRITER.exec(name);
  if (!m || m[4] !== hostTag()) return false;
  const boot = bootId().replace(/[^0-9a-f]/g, "").slice(0, 8);
  if (boot === "" || m[3] !== boot) return false;
  return !isProcessAlive({ pid: Number(m[1]), host: os.hostname(), bootId: "", startTicks: m[2]! });
}
/** A fold marker: every log of a generation below `<n>` is folded into the store's files. */
const FOLD_MARKER = /^folded-(\d+)$/;
/**
 * A directory whose timestamps were this close to the clock when it was looked at is listed again at
 * the next refresh even if its stamp is unchanged: where timestamps are coarse (one clock tick on
 * Linux before 6.13, up to seconds on some network and older filesystems), a log created in the same
 * tick as the change seen last leaves the directory's stamp as it was.
 */
const RACY_DIR_MS = 2000;
/** Bytes read at a time when a log is scanned. */
const CHUNK_BYTES = 8 << 20;
/**
 * Open descriptors past which a view closes those of finished logs (reopened when an entry in one is
 * read). A run's logs are only folded at the next leader start, and every cold worker that ran
 * while others did writes a log of its own (see handover.ts), so a leader of a large run would
 * otherwise hold one descriptor per such worker.
 */
const MAX_OPEN_LOGS = 256;
/**
 * Entries read one after another from the same log (a restarted leader reading every document) are
 * read this many bytes at a time, not one `pread` each.
 */
const READ_AHEAD_BYTES = 64 << 10;

/** The generation of a log file name, or undefined if it is not one. */
export function generationOfLog(name: string): number | undefined {
  const m = LOG_NAME.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** The generation a fold marker's name stands for, or undefined. */
export function generationOfMarker(name: string): number | undefined {
  const m = FOLD_MARKER.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** Name of the marker saying every generation below `gen` is folded. */
export function foldMarkerName(gen: number): string {
  return `folded-${gen}`;
}

interface LogFile {
  name: string;
  gen: number;
  path: string;
  fd: number | undefined;
  /** Entries are read up to here (the end of the last whole record). */
  scanned: number;
  /** Size when the log last ended in an incomplete record (not read again until it grows). */
  stalledAt: number;
  /** Entries of a group whose last record has not been read yet. */
  group: ScannedEntry[];
  /** This process writes it: its entries are added as they are appended, never scanned. */
  own: boolean;
  /** Its writer has exited and every byte was read: never looked at again. */
  sealed: boolean;
  /**
   * End of the furthest entry of a complete group read: bytes before it never change (a writer cuts
   * back only a write that failed, so never bytes of a group a reader took), so they can be read ahead.
   */
  stable: number;
  /** Refreshes in a row that found it unchanged (its writer's liveness is checked now and then). */
  idle: number;
  /** Who writes it, as a log name: its own name, or the name in the last {@link EntryKind.Owner} entry. */
  writer: string;
  /** Its last writer released it: another process may continue it, so it is never sealed. */
  released: boolean;
}

/** A mailbox message found in a log. */
export interface LoggedMessage {
  log: number;
  offset: number;
  length: number;
}

/** The merged state of a store's logs. */
export class LogView {
  readonly docs = new SlotTable();
  readonly results = new SlotTable();
  private readonly logs: LogFile[] = [];
  private readonly byName = new Map<string, number>();
  private dirStamp = "";
  /** The stamp was taken too soon after the directory changed to show the next change (see {@link RACY_DIR_MS}). */
  private dirStampRacy = false;
  /** Every log of a generation below this is folded (its content is in the store's files). */
  foldedGeneration = 0;
  /** Deleted ids created in this generation, to forget after one more full pass (see refresh()). */
  private dropAfterNextPass: string[] = [];
  private dropAfterThisPass: string[] = [];
  /** Mailbox messages, in the order found, once {@link collectMessages} was called. */
  private messageList: LoggedMessage[] | undefined;
  /** Per log name, how far the leader took its messages (MessageClaim entries). */
  readonly claims = new Map<string, number>();
  private readonly probe = Buffer.allocUnsafe(4096);
  /** Log files open now. */
  private openLogs = 0;
  /** Bytes of a log read ahead of the entry asked for (see {@link entryBytes}). */
  private readAhead: { log: number; start: number; bytes: Buffer } | undefined;
  /** Where the last entry read ended. */
  private lastRead: { log: number; end: number } | undefined;

  constructor(
    /** The log directory. */
    readonly dir: string,
    /** The generation the reader runs in: ids created in it have no folded file. */
    readonly generation: number,
    /** Read only logs of generations below this (the fold reads the generations it folds). */
    private readonly below = Infinity,
  ) {}

  /** Number of log files known. */
  get logCount(): number {
    return this.logs.length;
  }

  logName(index: number): string {
    return this.logs[index]!.name;
  }

  logGeneration(index: number): number {
    return this.logs[index]!.gen;
  }

  logPath(index: number): string {
    return this.logs[index]!.path;
  }

  /** Index of a log by name (registering it if new). */
  private addLog(name: string, own = false): number {
    const known = this.byName.get(name);
    if (known !== undefined) {
      if (own) this.logs[known]!.own = true;
      return known;
    }
    const gen = generationOfLog(name) ?? 0;
    const idx = this.logs.length;
    this.logs.push({
      name,
      gen,
      path: path.join(this.dir, name),
      fd: undefined,
      scanned: 0,
      stalledAt: -1,
      group: [],
      own,
      sealed: false,
      idle: 0,
      stable: 0,
      writer: name,
      released: false,
    });
    this.byName.set(name, idx);
    return idx;
  }

  /** Start keeping mailbox messages (reads every known log's messages again from the start). */
  collectMessages(): LoggedMessage[] {
    if (this.messageList) return this.messageList;
    this.messageList = [];
    for (let i = 0; i < this.logs.length; i++) {
      const log = this.logs[i]!;
      if (log.gen < this.foldedGeneration || log.scanned === 0) continue;
      this.scanMessages(i, log.scanned);
    }
    return this.messageList;
  }

  /** The messages found so far (undefined until {@link collectMessages}). */
  get messages(): LoggedMessage[] | undefined {
    return this.messageList;
  }

  private scanMessages(index: number, upTo: number): void {
    const fd = this.fdOf(index);
    if (fd === undefined) return;
    let pos = 0;
    let wantAll = false;
    while (pos < upTo) {
      const buf = preadFully(fd, pos, wantAll ? upTo - pos : Math.min(upTo - pos, CHUNK_BYTES));
      let at = pos;
      for (;;) {
        const step = scanRecord(buf, at, pos);
        if (step.type !== "record") break;
        for (const e of step.entries) if (e.kind === EntryKind.Message) this.noteMessage(index, e);
        at += step.length;
      }
      if (at === pos && wantAll) return;
      wantAll = at === pos;
      pos = at;
    }
  }

  private noteMessage(log: number, e: ScannedEntry): void {
    this.messageList?.push({ log, offset: e.offset, length: e.length });
  }

  private fdOf(index: number): number | undefined {
    const log = this.logs[index]!;
    if (log.fd !== undefined) return log.fd;
    if (this.openLogs >= MAX_OPEN_LOGS) {
      for (const other of this.logs) if (other.sealed) this.closeLog(other);
    }
    try {
      log.fd = fs.openSync(log.path, "r");
    } catch (err) {
      if (isErrno(err, "ENOENT")) return undefined;
      throw err;
    }
    this.openLogs++;
    return log.fd;
  }

  private closeLog(log: LogFile): void {
    if (log.fd === undefined) return;
    fs.closeSync(log.fd);
    log.fd = undefined;
    this.openLogs--;
  }

  /**
   * Read what was appended to every log since the last call. Deleted ids created in this
   * generation are forgotten one full pass after their deletion was read: every entry written
   * before the deletion was in its log when that pass began, so no older entry of the id can
   * turn up later and bring it back.
   */
  refresh(): void {
    let st: fs.Stats;
    try {
      st = fs.statSync(this.dir);
    } catch (err) {
      if (isErrno(err, "ENOENT")) return;
      throw err;
    }
    const stamp = `${st.mtimeMs}:${st.ctimeMs}:${st.ino}:${st.size}`;
    if (stamp !== this.dirStamp || this.dirStampRacy) {
      this.dirStamp = stamp;
      // Taken before the listing: a change after it either shows in the listing or is later than the stamp.
      this.dirStampRacy = Date.now() - Math.max(st.mtimeMs, st.ctimeMs) < RACY_DIR_MS;
      let folded = this.foldedGeneration;
      for (const name of fs.readdirSync(this.dir)) {
        const g = generationOfMarker(name);
        if (g !== undefined) {
          folded = Math.max(folded, g);
          continue;
        }
        const lg = generationOfLog(name);
        if (lg !== undefined && lg < this.below && !this.byName.has(name)) this.addLog(name);
      }
      if (folded > this.foldedGeneration) this.forgetFolded(folded);
    }
    for (let i = 0; i < this.logs.length; i++) {
      const log = this.logs[i]!;
      if (log.own || log.sealed || log.gen < this.foldedGeneration) continue;
      const fd = this.fdOf(i);
      if (fd === undefined) continue;
      // One read at the end of what was read tells whether the log grew (cheaper than an fstat).
      const n = fs.readSync(fd, this.probe, 0, this.probe.length, log.scanned);
      const size = n === 0 ? log.scanned : n < this.probe.length ? log.scanned + n : fs.fstatSync(fd).size;
      if (size <= log.scanned || size === log.stalledAt) {
        // A log that stopped growing: once its writer is known to be gone, it never changes again
        // (read it to the end once more first), so later refreshes skip it.
        // A released log is not: a process on its machine may continue it.
        if (++log.idle % 64 === 1 && !log.released && writerIsGone(log.writer)) {
          const last = fs.fstatSync(fd).size;
          if (last > log.scanned && last !== log.stalledAt) this.scan(i, last);
          // Its writer may have released it last thing before it exited.
          if (!log.released) {
            log.sealed = true;
            this.closeLog(log);
          }
        }
        continue;
      }
      log.idle = 0;
      this.scan(i, size);
      // A seal was read: the log never changes again.
      if (log.sealed) this.closeLog(log);
    }
    for (const id of this.dropAfterThisPass) {
      const flags = this.docs.flagsOf(id);
      if ((flags & SlotFlag.Deleted) !== 0 && (flags & SlotFlag.CreatedNow) !== 0) this.docs.delete(id);
    }
    this.dropAfterThisPass = this.dropAfterNextPass;
    this.dropAfterNextPass = [];
  }

  /** Every log of a generation below `gen` is folded: forget their entries (the files hold them). */
  forgetFolded(gen: number): void {
    this.foldedGeneration = gen;
    const dropped = new Set<number>();
    for (let i = 0; i < this.logs.length; i++) {
      const log = this.logs[i]!;
      if (log.gen >= gen) continue;
      dropped.add(i);
      this.closeLog(log);
      log.group = [];
    }
    if (dropped.size === 0) return;
    this.docs.dropLogs(dropped);
    this.results.dropLogs(dropped);
    if (this.messageList) this.messageList = this.messageList.filter((m) => !dropped.has(m.log));
  }

  private scan(index: number, size: number): void {
    const log = this.logs[index]!;
    const fd = log.fd!;
    let pos = log.scanned;
    let wantAll = false;
    while (pos < size) {
      const want = wantAll ? size - pos : Math.min(size - pos, CHUNK_BYTES);
      const buf = preadFully(fd, pos, want);
      // The log is shorter than it was a moment ago: its writer cut back an append that failed (a
      // full disk). What is there now is all there is; waiting for the rest would never end.
      if (buf.length < want) size = pos + buf.length;
      const reachesEnd = pos + buf.length >= size;
      let at = pos;
      let stop: "more" | "stalled" | undefined;
      for (;;) {
        const step = scanRecord(buf, at, pos);
        if (step.type === "end") break;
        if (step.type === "record") {
          if (step.aborts) log.group = [];
          else this.takeRecord(index, step.entries, step.continues);
          at += step.length;
          continue;
        }
        if (!reachesEnd) {
          stop = "more";
          break;
        }
        if (step.type === "torn") {
          stop = "stalled";
          break;
        }
        // A damaged record: which of its entries can still be trusted (their ids may be damaged
        // too) and what newer versions it held cannot be known, so every read stops here.
        throw new DamagedJobStoreFileError(log.path, `at byte ${step.offset}: ${step.problem}`);
      }
      log.scanned = at;
      if (stop === "stalled") {
        log.stalledAt = size;
        return;
      }
      wantAll = stop === "more" && at === pos;
      pos = at;
    }
    log.stalledAt = -1;
  }

  private takeRecord(index: number, entries: ScannedEntry[], continues: boolean): void {
    const log = this.logs[index]!;
    if (continues) {
      for (const e of entries) log.group.push(e);
      return;
    }
    const all = log.group.length > 0 ? [...log.group, ...entries] : entries;
    log.group = [];
    for (const e of all) this.apply(index, e);
  }

  /**
   * Whether log `name` was read to its end, `size` bytes, and its writer released it last: then
   * this process may continue it (see `handover.ts`).
   */
  releasedAt(name: string, size: number): boolean {
    const index = this.byName.get(name);
    if (index === undefined) return false;
    const log = this.logs[index]!;
    return log.released && !log.own && log.scanned === size && log.group.length === 0;
  }

  /** Add entries this process appended to its own log `name` (now `logLength` bytes long). */
  applyOwn(name: string, entries: readonly ScannedEntry[], logLength: number): void {
    const index = this.addLog(name, true);
    const log = this.logs[index]!;
    log.scanned = logLength;
    for (const e of entries) this.apply(index, e);
  }

  private apply(index: number, e: ScannedEntry): void {
    const log = this.logs[index]!;
    if (e.offset + e.length > log.stable) log.stable = e.offset + e.length;
    switch (e.kind) {
      case EntryKind.JobPut: {
        const createdNow = (e.flags & ENTRY_FLAG_CREATE) !== 0 && this.logs[index]!.gen >= this.generation ? SlotFlag.CreatedNow : 0;
        this.docs.offer(e.id, { log: index, offset: e.offset, length: e.length, version: e.version, flags: createdNow }, this.newer);
        return;
      }
      case EntryKind.JobDelete:
        this.docs.offer(e.id, { log: index, offset: e.offset, length: e.length, version: DELETED_VERSION, flags: SlotFlag.Deleted }, this.newer);
        this.dropAfterNextPass.push(e.id);
        return;
      case EntryKind.ResultPut:
        this.results.offer(e.id, { log: index, offset: e.offset, length: e.length, version: e.version, flags: 0 }, this.newer);
        return;
      case EntryKind.ResultDelete:
        this.results.offer(e.id, { log: index, offset: e.offset, length: e.length, version: DELETED_VERSION, flags: SlotFlag.Deleted }, this.newer);
        return;
      case EntryKind.Message:
        this.noteMessage(index, e);
        return;
      case EntryKind.Seal:
        // Its writer closed the log: nothing follows (a copy is never scanned again).
        this.logs[index]!.sealed = !this.logs[index]!.own;
        return;
      case EntryKind.Release:
        log.released = true;
        return;
      case EntryKind.Owner:
        log.writer = e.id;
        log.released = false;
        return;
      case EntryKind.MessageClaim: {
        // The claimed offset is in the entry's data: read it (claims are few).
        const entry = this.readAt(index, e.offset, e.length, `a mailbox claim`);
        const upTo = Number(entry.data.toString("latin1"));
        if (Number.isFinite(upTo) && upTo > (this.claims.get(entry.id) ?? 0)) this.claims.set(entry.id, upTo);
        return;
      }
      default:
        // An entry kind of a newer release: the format version would have said so; ignore it.
        return;
    }
  }

  /** Higher version wins; the same version written twice: the later generation, then log name, then offset. */
  private readonly newer = (held: SlotEntry, offered: SlotEntry): boolean => {
    if (offered.version !== held.version) return offered.version > held.version;
    if (offered.version === DELETED_VERSION) return false;
    const a = this.logs[held.log]!;
    const b = this.logs[offered.log]!;
    if (a.gen !== b.gen) return b.gen > a.gen;
    if (a.name !== b.name) return b.name > a.name;
    return offered.offset > held.offset;
  };

  /** Read and check one entry; `what` names it in the error (e.g. `the description of job X`). */
  readAt(log: number, offset: number, length: number, what: string): DecodedEntry {
    const fd = this.fdOf(log);
    const file = this.logs[log]!.path;
    if (fd === undefined) throw new DamagedJobStoreFileError(file, `${what} is at byte ${offset} of this commit log, which is missing`);
    const buf = this.entryBytes(log, fd, offset, length);
    const problem = buf.length < length ? "the log ends before it" : entryProblem(buf);
    if (problem !== undefined) throw new DamagedJobStoreFileError(file, `${what} (at byte ${offset}): ${problem}`);
    return decodeEntry(buf);
  }

  /**
   * The bytes of an entry: from the bytes read ahead when they hold it, else read ahead when the
   * reads of this log go forward (within the log's stable bytes), else one `pread` of the entry.
   */
  private entryBytes(log: number, fd: number, offset: number, length: number): Buffer {
    const ahead = this.readAhead;
    const last = this.lastRead;
    this.lastRead = { log, end: offset + length };
    if (ahead !== undefined && ahead.log === log && offset >= ahead.start && offset + length <= ahead.start + ahead.bytes.length) {
      // A copy: callers keep entries' data, which must not hold on to the whole window.
      return Buffer.from(ahead.bytes.subarray(offset - ahead.start, offset - ahead.start + length));
    }
    const stable = this.logs[log]!.stable;
    const forward = last !== undefined && last.log === log && offset >= last.end && offset - last.end < READ_AHEAD_BYTES;
    if (!forward || stable < offset + length) return preadFully(fd, offset, length);
    const bytes = preadFully(fd, offset, Math.max(length, Math.min(READ_AHEAD_BYTES, stable - offset)));
    this.readAhead = { log, start: offset, bytes };
    return Buffer.from(bytes.subarray(0, length));
  }

  /** Read the entry a slot points to, naming `what` in errors. */
  read(slot: SlotEntry, what: string): DecodedEntry {
    return this.readAt(slot.log, slot.offset, slot.length, what);
  }

  /** fdatasync a log (any process may; for this process's own log the writer syncs). */
  async syncLog(index: number): Promise<void> {
    const log = this.logs[index]!;
    if (log.own) return;
    // A descriptor of its own: the view may close its shared ones while the sync runs.
    let fd: number;
    try {
      fd = fs.openSync(log.path, "r");
    } catch (err) {
      if (isErrno(err, "ENOENT")) return;
      throw err;
    }
    try {
      await new Promise<void>((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Close every log file. */
  close(): void {
    for (const log of this.logs) this.closeLog(log);
  }
}

function preadFully(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  let off = 0;
  while (off < length) {
    const n = fs.readSync(fd, buf, off, length - off, position + off);
    if (n === 0) break;
    off += n;
  }
  return off === length ? buf : buf.subarray(0, off);
}
