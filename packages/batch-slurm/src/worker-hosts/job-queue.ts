/**
 * The jobs waiting for hosts of one shape, oldest first. Taking the oldest and putting a job back
 * in front are O(1), so a queue of a hundred thousand jobs costs nothing per job handed out.
 */
export class JobQueue<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  /** Jobs waiting. */
  get length(): number {
    return this.items.length - this.head;
  }

  /** Adds a job at the back. */
  push(item: T): void {
    this.items.push(item);
  }

  /** Puts a job back in front (it was handed out and never started). */
  unshift(item: T): void {
    if (this.head > 0) this.items[--this.head] = item;
    else this.items.unshift(item);
  }

  /** Removes and returns the oldest job `accept` takes, if any. */
  take(accept: (item: T) => boolean): T | undefined {
    for (let i = this.head; i < this.items.length; i++) {
      const item = this.items[i] as T;
      if (!accept(item)) continue;
      if (i === this.head) {
        this.items[this.head++] = undefined;
        this.compact();
      } else {
        this.items.splice(i, 1);
      }
      return item;
    }
    return undefined;
  }

  /** Whether some waiting job satisfies `test`. */
  some(test: (item: T) => boolean): boolean {
    for (let i = this.head; i < this.items.length; i++) if (test(this.items[i] as T)) return true;
    return false;
  }

  /** Removes a job; returns whether it was waiting. */
  remove(item: T): boolean {
    const i = this.items.indexOf(item, this.head);
    if (i < 0) return false;
    if (i === this.head) this.take((x) => x === item);
    else this.items.splice(i, 1);
    return true;
  }

  /** Removes and returns every waiting job, oldest first. */
  drain(): T[] {
    const out = this.items.slice(this.head) as T[];
    this.items = [];
    this.head = 0;
    return out;
  }

  private compact(): void {
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
