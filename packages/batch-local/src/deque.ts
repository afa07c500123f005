/** FIFO queue with O(1) push/shift (array with a moving head, compacted now and then). */
export class Deque<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  peek(): T | undefined {
    return this.items[this.head];
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined as T;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Remove every item matching `pred` (O(n); used for kills only). */
  removeWhere(pred: (item: T) => boolean): number {
    const before = this.length;
    this.items = this.items.slice(this.head).filter((x) => !pred(x));
    this.head = 0;
    return before - this.items.length;
  }
}
