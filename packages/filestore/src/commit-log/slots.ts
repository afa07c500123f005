/**
 * A compact map from ids to the newest log entry of each (or its deletion). A leader's view holds
 * one slot per job and per result of the whole run until the next leader folds the logs, so nothing
 * here is an object per id: the ids' bytes sit in one byte arena, an open-addressing hash table of
 * slot numbers finds them, and the entries' fields are in typed arrays grown by doubling. An id costs
 * its length plus about 40 bytes (a Map keyed by id strings cost about three times that).
 */

/** Version given to deletions: a deleted id never comes back (ids are never reused). */
export const DELETED_VERSION = 0x7fffffff;

/** Flags of a slot. */
export const SlotFlag = {
  /** The newest entry deletes the id. */
  Deleted: 1,
  /** The id was created in a log of the reader's current generation (so it has no folded file). */
  CreatedNow: 2,
} as const;

/** Where an entry is. */
export interface SlotEntry {
  log: number;
  offset: number;
  length: number;
  version: number;
  flags: number;
}

/** Internal flag: the slot holds an id (free slots and never-used ones do not). */
const IN_USE = 0x80;
/** Slots (and hash buckets: twice as many) a new table starts with. */
const FIRST_SLOTS = 1024;
/** Bytes of id text a new table starts with. */
const FIRST_ARENA = 16 << 10;

/**
 * FNV-1a of an id's bytes. Ids are kept as the log stores them: latin1, one byte per character (a
 * character past 0xff keeps its low byte, as `Buffer.from(id, "latin1")` does).
 */
function hashOf(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ (id.charCodeAt(i) & 0xff), 0x01000193);
  return h >>> 0;
}

function grown<T extends Int32Array | Uint32Array | Float64Array | Uint8Array>(a: T, n: number): T {
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  return b;
}

/** The newest entry per id. */
export class SlotTable {
  private log = new Int32Array(FIRST_SLOTS);
  private offset = new Float64Array(FIRST_SLOTS);
  private length = new Int32Array(FIRST_SLOTS);
  private version = new Int32Array(FIRST_SLOTS);
  private flags = new Uint8Array(FIRST_SLOTS);
  private hash = new Uint32Array(FIRST_SLOTS);
  /** Where the slot's id starts in {@link arena}, and its length in bytes. */
  private idAt = new Uint32Array(FIRST_SLOTS);
  private idLength = new Uint8Array(FIRST_SLOTS);
  private arena = new Uint8Array(FIRST_ARENA);
  private arenaUsed = 0;
  /** Arena bytes of ids no longer held (reclaimed by {@link compactArena}). */
  private arenaDead = 0;
  /** Open addressing, linear probing: slot number + 1, 0 for an empty bucket. */
  private buckets = new Int32Array(FIRST_SLOTS * 2);
  /** Slots handed out so far (free ones included). */
  private next = 0;
  private count = 0;
  private free: number[] = [];

  get size(): number {
    return this.count;
  }

  /** The slot holding `id`, or -1. */
  private find(id: string): number {
    const h = hashOf(id);
    const mask = this.buckets.length - 1;
    for (let b = h & mask; ; b = (b + 1) & mask) {
      const s = this.buckets[b]! - 1;
      if (s < 0) return -1;
      if (this.hash[s] === h && this.idIs(s, id)) return s;
    }
  }

  private idIs(s: number, id: string): boolean {
    if (this.idLength[s] !== id.length) return false;
    const at = this.idAt[s]!;
    for (let i = 0; i < id.length; i++) if (this.arena[at + i] !== (id.charCodeAt(i) & 0xff)) return false;
    return true;
  }

  private idOf(s: number): string {
    const at = this.idAt[s]!;
    return String.fromCharCode.apply(null, this.arena.subarray(at, at + this.idLength[s]!) as unknown as number[]);
  }

  private entryAt(s: number): SlotEntry {
    return { log: this.log[s]!, offset: this.offset[s]!, length: this.length[s]!, version: this.version[s]!, flags: this.flags[s]! & ~IN_USE };
  }

  get(id: string): SlotEntry | undefined {
    const s = this.find(id);
    return s < 0 ? undefined : this.entryAt(s);
  }

  has(id: string): boolean {
    return this.find(id) >= 0;
  }

  /** Version of the newest entry of `id`, or undefined. */
  versionOf(id: string): number | undefined {
    const s = this.find(id);
    return s < 0 ? undefined : this.version[s];
  }

  flagsOf(id: string): number {
    const s = this.find(id);
    return s < 0 ? 0 : this.flags[s]! & ~IN_USE;
  }

  /**
   * Record an entry if it is newer than the one held: higher version, then (same version, written
   * twice, e.g. by a worker a restarted leader no longer knew about) the later log in `order`.
   * Returns whether it was taken.
   */
  offer(id: string, e: SlotEntry, newer: (held: SlotEntry, offered: SlotEntry) => boolean): boolean {
    let s = this.find(id);
    let flags = e.flags;
    if (s >= 0) {
      const held = this.entryAt(s);
      const createdNow = (held.flags | e.flags) & SlotFlag.CreatedNow;
      if (!newer(held, e)) {
        this.flags[s] = held.flags | createdNow | IN_USE;
        return false;
      }
      flags |= createdNow;
    } else {
      s = this.insert(id);
    }
    this.log[s] = e.log;
    this.offset[s] = e.offset;
    this.length[s] = e.length;
    this.version[s] = e.version;
    this.flags[s] = flags | IN_USE;
    return true;
  }

  /** A new slot for `id` (not held yet). */
  private insert(id: string): number {
    // The log refuses longer ids too (their length is one byte there as well).
    if (id.length > 0xff) throw new RangeError(`commit log entry id too long (${id.length} characters)`);
    const h = hashOf(id);
    let s = this.free.pop();
    if (s === undefined) {
      if (this.next >= this.log.length) this.growSlots();
      s = this.next++;
    }
    if (this.arenaUsed + id.length > this.arena.length) this.growArena(id.length);
    const at = this.arenaUsed;
    for (let i = 0; i < id.length; i++) this.arena[at + i] = id.charCodeAt(i) & 0xff;
    this.arenaUsed += id.length;
    this.idAt[s] = at;
    this.idLength[s] = id.length;
    this.hash[s] = h;
    this.flags[s] = IN_USE;
    this.count++;
    if (this.count * 2 > this.buckets.length) this.rehash(this.buckets.length * 2);
    else this.place(s);
    return s;
  }

  private place(s: number): void {
    const mask = this.buckets.length - 1;
    let b = this.hash[s]! & mask;
    while (this.buckets[b] !== 0) b = (b + 1) & mask;
    this.buckets[b] = s + 1;
  }

  private rehash(size: number): void {
    this.buckets = new Int32Array(size);
    for (let s = 0; s < this.next; s++) if ((this.flags[s]! & IN_USE) !== 0) this.place(s);
  }

  private growSlots(): void {
    const n = this.log.length * 2;
    this.log = grown(this.log, n);
    this.offset = grown(this.offset, n);
    this.length = grown(this.length, n);
    this.version = grown(this.version, n);
    this.flags = grown(this.flags, n);
    this.hash = grown(this.hash, n);
    this.idAt = grown(this.idAt, n);
    this.idLength = grown(this.idLength, n);
  }

  /** Make room for `more` bytes: reclaim dead ids if they are most of the arena, else double it. */
  private growArena(more: number): void {
    const live = this.arenaUsed - this.arenaDead;
    let size = this.arena.length;
    while (live + more > size / 2) size *= 2;
    if (size === this.arena.length && this.arenaDead === 0) size *= 2;
    const arena = new Uint8Array(size);
    let at = 0;
    for (let s = 0; s < this.next; s++) {
      if ((this.flags[s]! & IN_USE) === 0) continue;
      const from = this.idAt[s]!;
      const n = this.idLength[s]!;
      arena.set(this.arena.subarray(from, from + n), at);
      this.idAt[s] = at;
      at += n;
    }
    this.arena = arena;
    this.arenaUsed = at;
    this.arenaDead = 0;
  }

  private remove(s: number): void {
    // Backward-shift deletion keeps every probe chain unbroken without tombstones.
    const mask = this.buckets.length - 1;
    let b = this.hash[s]! & mask;
    while (this.buckets[b] !== s + 1) b = (b + 1) & mask;
    let hole = b;
    for (let j = (hole + 1) & mask; this.buckets[j] !== 0; j = (j + 1) & mask) {
      const home = this.hash[this.buckets[j]! - 1]! & mask;
      // The entry at j may move to the hole unless its home lies cyclically in (hole, j].
      const stays = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!stays) {
        this.buckets[hole] = this.buckets[j]!;
        hole = j;
      }
    }
    this.buckets[hole] = 0;
    this.flags[s] = 0;
    this.arenaDead += this.idLength[s]!;
    this.count--;
    this.free.push(s);
  }

  delete(id: string): void {
    const s = this.find(id);
    if (s >= 0) this.remove(s);
  }

  /** Forget every entry held in one of `logs`. */
  dropLogs(logs: ReadonlySet<number>): void {
    for (let s = 0; s < this.next; s++) {
      if ((this.flags[s]! & IN_USE) !== 0 && logs.has(this.log[s]!)) this.remove(s);
    }
  }

  *entries(): IterableIterator<[string, SlotEntry]> {
    for (let s = 0; s < this.next; s++) {
      if ((this.flags[s]! & IN_USE) !== 0) yield [this.idOf(s), this.entryAt(s)];
    }
  }
}
