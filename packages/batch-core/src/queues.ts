/**
 * The two queues toil-ts schedules with: a FIFO for work in arrival order (jobs ready to issue,
 * jobs waiting for cores, ended jobs not yet reported) and a min-heap for work in deadline order
 * (jobs waiting out their retry backoff). Both stay O(1) or O(log n) per item at 100,000 items,
 * where `Array.prototype.shift` is O(n). The leader and the batch systems share them from here.
 */

/** First in, first out, with O(1) `push` and `shift` (an array with a moving head, compacted now and then). */
export class FifoQueue<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  /** Items waiting. */
  get length(): number {
    return this.items.length - this.head;
  }

  /** Adds an item at the back. */
  push(item: T): void {
    this.items.push(item);
  }

  /** The oldest item, left in the queue; undefined when it is empty. */
  peek(): T | undefined {
    return this.head < this.items.length ? this.items[this.head] : undefined;
  }

  /** Removes and returns the oldest item; undefined when the queue is empty. */
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    // Drop the reference: a shifted item must not stay reachable until the next compaction.
    this.items[this.head] = undefined;
    this.head++;
    this.compact();
    return item;
  }

  /** Puts an item back in front (it was taken and not used). O(1) after a `shift` or `take` of the front. */
  unshift(item: T): void {
    if (this.head > 0) this.items[--this.head] = item;
    else this.items.unshift(item);
  }

  /**
   * Removes and returns the oldest item `accept` takes; undefined when none does. O(1) when the
   * front is accepted (the usual case), O(n) when it has to look past items it skips.
   */
  take(accept: (item: T) => boolean): T | undefined {
    for (let i = this.head; i < this.items.length; i++) {
      const item = this.items[i] as T;
      if (!accept(item)) continue;
      if (i === this.head) return this.shift();
      this.items.splice(i, 1);
      return item;
    }
    return undefined;
  }

  /** Whether some waiting item satisfies `test`. O(n). */
  some(test: (item: T) => boolean): boolean {
    for (let i = this.head; i < this.items.length; i++) if (test(this.items[i] as T)) return true;
    return false;
  }

  /** Removes one item (compared with `===`); returns whether it was waiting. O(n). */
  remove(item: T): boolean {
    return this.take((x) => x === item) !== undefined;
  }

  /** Removes and returns every waiting item, oldest first. */
  drain(): T[] {
    const out = this.items.slice(this.head) as T[];
    this.items = [];
    this.head = 0;
    return out;
  }

  /** Removes every item `matches` accepts, keeping the others in order; returns how many went. O(n). */
  removeWhere(matches: (item: T) => boolean): number {
    const before = this.length;
    this.items = (this.items.slice(this.head) as T[]).filter((item) => !matches(item));
    this.head = 0;
    return before - this.items.length;
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}

/** A binary min-heap of values by numeric key: the value with the smallest key comes out first. */
export class MinHeap<T> {
  private readonly items: Array<{ key: number; value: T }> = [];

  /** Values in the heap. */
  get size(): number {
    return this.items.length;
  }

  /** Adds `value` with `key` (e.g. the time it is due). O(log n). */
  push(key: number, value: T): void {
    const items = this.items;
    items.push({ key, value });
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent]!.key <= items[i]!.key) break;
      [items[parent], items[i]] = [items[i]!, items[parent]!];
      i = parent;
    }
  }

  /** The smallest key; undefined when the heap is empty. */
  peekKey(): number | undefined {
    return this.items[0]?.key;
  }

  /** Removes and returns the value with the smallest key; undefined when the heap is empty. O(log n). */
  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    if (!top) return undefined;
    const last = items.pop()!;
    if (items.length > 0) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < items.length && items[l]!.key < items[m]!.key) m = l;
        if (r < items.length && items[r]!.key < items[m]!.key) m = r;
        if (m === i) break;
        [items[m], items[i]] = [items[i]!, items[m]!];
        i = m;
      }
    }
    return top.value;
  }
}
