/**
 * A compact map from ids to the newest log entry of each (or its deletion): one Map from id to a
 * slot number, and the entries' fields in typed arrays, so a million ids cost tens of megabytes, not
 * hundreds (an object per entry would).
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

/** The newest entry per id. */
export class SlotTable {
  private readonly index = new Map<string, number>();
  private log = new Int32Array(1024);
  private offset = new Float64Array(1024);
  private length = new Int32Array(1024);
  private version = new Int32Array(1024);
  private flags = new Uint8Array(1024);
  private next = 0;
  private readonly free: number[] = [];

  get size(): number {
    return this.index.size;
  }

  private grow(): void {
    const n = this.log.length * 2;
    const g = <T extends Int32Array | Float64Array | Uint8Array>(a: T, make: new (n: number) => T): T => {
      const b = new make(n);
      b.set(a);
      return b;
    };
    this.log = g(this.log, Int32Array);
    this.offset = g(this.offset, Float64Array);
    this.length = g(this.length, Int32Array);
    this.version = g(this.version, Int32Array);
    this.flags = g(this.flags, Uint8Array);
  }

  get(id: string): SlotEntry | undefined {
    const s = this.index.get(id);
    if (s === undefined) return undefined;
    return { log: this.log[s]!, offset: this.offset[s]!, length: this.length[s]!, version: this.version[s]!, flags: this.flags[s]! };
  }

  has(id: string): boolean {
    return this.index.has(id);
  }

  /** Version of the newest entry of `id`, or undefined. */
  versionOf(id: string): number | undefined {
    const s = this.index.get(id);
    return s === undefined ? undefined : this.version[s];
  }

  flagsOf(id: string): number {
    const s = this.index.get(id);
    return s === undefined ? 0 : this.flags[s]!;
  }

  /**
   * Record an entry if it is newer than the one held: higher version, then (same version, written
   * twice, e.g. by a worker a restarted leader no longer knew about) the later log in `order`.
   * Returns whether it was taken.
   */
  offer(id: string, e: SlotEntry, newer: (held: SlotEntry, offered: SlotEntry) => boolean): boolean {
    let s = this.index.get(id);
    if (s !== undefined) {
      const held = { log: this.log[s]!, offset: this.offset[s]!, length: this.length[s]!, version: this.version[s]!, flags: this.flags[s]! };
      const createdNow = (held.flags | e.flags) & SlotFlag.CreatedNow;
      if (!newer(held, e)) {
        this.flags[s] = held.flags | createdNow;
        return false;
      }
      e = { ...e, flags: e.flags | createdNow };
    } else {
      s = this.free.pop();
      if (s === undefined) {
        if (this.next >= this.log.length) this.grow();
        s = this.next++;
      }
      this.index.set(id, s);
    }
    this.log[s] = e.log;
    this.offset[s] = e.offset;
    this.length[s] = e.length;
    this.version[s] = e.version;
    this.flags[s] = e.flags;
    return true;
  }

  delete(id: string): void {
    const s = this.index.get(id);
    if (s === undefined) return;
    this.index.delete(id);
    this.free.push(s);
  }

  /** Forget every entry held in one of `logs`. */
  dropLogs(logs: ReadonlySet<number>): void {
    for (const [id, s] of this.index) {
      if (logs.has(this.log[s]!)) {
        this.index.delete(id);
        this.free.push(s);
      }
    }
  }

  *entries(): IterableIterator<[string, SlotEntry]> {
    for (const [id, s] of this.index) {
      yield [id, { log: this.log[s]!, offset: this.offset[s]!, length: this.length[s]!, version: this.version[s]!, flags: this.flags[s]! }];
    }
  }
}
