import { AcquisitionTimeoutException, BatchSystemError } from "./errors.js";

/** A held amount of a resource; releasing it is idempotent. Works with `using` / `await using`. */
export interface ResourceLease<T> extends Disposable, AsyncDisposable {
  /** What was acquired. */
  readonly amount: T;
  /** Give it back (only the first call does anything). */
  release(): void;
}

interface Waiter<T> {
  amount: T;
  resolve: () => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

/** Shared waiting logic: FIFO waiters, each granted as soon as it fits, with a timeout. */
abstract class WaitableResource<T> {
  private waiters: Waiter<T>[] = [];

  constructor(
    /** Name used in messages, e.g. "cores". */
    readonly resourceType: string,
    /** Default timeout of `acquire`, in seconds. */
    readonly timeout: number,
  ) {}

  protected abstract tryTake(amount: T): boolean;
  protected abstract giveBack(amount: T): void;
  protected abstract describe(amount: T): string | number;
  protected abstract describeFree(): string | number;

  /** Reserve `amount` if possible right now; returns whether it was reserved. */
  acquireNow(amount: T): boolean {
    return this.tryTake(amount);
  }

  /**
   * Reserve `amount`, waiting until it is free. Rejects with `AcquisitionTimeoutException`
   * after `timeoutSeconds` (default: the pool's timeout; `Infinity` waits forever).
   */
  acquire(amount: T, timeoutSeconds: number = this.timeout): Promise<void> {
    if (this.waiters.length === 0 && this.tryTake(amount)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter<T> = { amount, resolve, reject, timer: undefined };
      if (Number.isFinite(timeoutSeconds)) {
        waiter.timer = setTimeout(
          () => {
            const i = this.waiters.indexOf(waiter);
            if (i >= 0) this.waiters.splice(i, 1);
            reject(new AcquisitionTimeoutException(this.resourceType, this.describe(amount), this.describeFree()));
            // A waiter leaving may let the ones behind it through.
            this.grantWaiters();
          },
          Math.max(0, timeoutSeconds * 1000),
        );
      }
      this.waiters.push(waiter);
    });
  }

  /** Give back `amount` (wakes waiters that now fit). */
  release(amount: T): void {
    this.giveBack(amount);
    this.grantWaiters();
  }

  /** Acquire (waiting like {@link acquire}) and return a lease; use with `await using`. */
  async acquisitionOf(amount: T, timeoutSeconds: number = this.timeout): Promise<ResourceLease<T>> {
    await this.acquire(amount, timeoutSeconds);
    return this.lease(amount);
  }

  /** Run `fn` while holding `amount`; always releases, also when `fn` throws. */
  async withAcquired<R>(amount: T, fn: () => R | Promise<R>, timeoutSeconds: number = this.timeout): Promise<R> {
    await using _lease = await this.acquisitionOf(amount, timeoutSeconds);
    return await fn();
  }

  /** Number of callers waiting in `acquire`. */
  get waiting(): number {
    return this.waiters.length;
  }

  private lease(amount: T): ResourceLease<T> {
    let held = true;
    const release = () => {
      if (!held) return;
      held = false;
      this.release(amount);
    };
    return {
      amount,
      release,
      [Symbol.dispose]: release,
      [Symbol.asyncDispose]: async () => release(),
    };
  }

  private grantWaiters(): void {
    for (let i = 0; i < this.waiters.length; ) {
      const w = this.waiters[i] as Waiter<T>;
      if (this.tryTake(w.amount)) {
        this.waiters.splice(i, 1);
        if (w.timer) clearTimeout(w.timer);
        w.resolve();
      } else {
        i++;
      }
    }
  }
}

/**
 * An integral amount of a resource (job slots, tenths of cores, bytes of memory). Amounts are
 * acquired now or with a timeout, and released.
 */
export class ResourcePool extends WaitableResource<number> {
  private freeAmount: number;

  constructor(
    /** Total amount. */
    readonly initialValue: number,
    resourceType: string,
    timeout = 5,
  ) {
    super(resourceType, timeout);
    if (!Number.isFinite(initialValue) || initialValue < 0) {
      throw new BatchSystemError(`ResourcePool "${resourceType}" needs a finite amount >= 0, got ${initialValue}.`);
    }
    this.freeAmount = initialValue;
  }

  /** Amount currently free. */
  get value(): number {
    return this.freeAmount;
  }

  /** Takes `amount` if it is free; returns whether it was taken. */
  protected tryTake(amount: number): boolean {
    checkAmount(amount, this.resourceType);
    if (amount > this.freeAmount) return false;
    this.freeAmount -= amount;
    return true;
  }

  /** Returns `amount` to the pool. */
  protected giveBack(amount: number): void {
    checkAmount(amount, this.resourceType);
    if (this.freeAmount + amount > this.initialValue) {
      throw new BatchSystemError(
        `Released ${amount} of ${this.resourceType} but only ${this.initialValue - this.freeAmount} was acquired.`,
      );
    }
    this.freeAmount += amount;
  }

  /** `amount` as shown in messages. */
  protected describe(amount: number): number {
    return amount;
  }

  /** The free amount as shown in messages. */
  protected describeFree(): number {
    return this.freeAmount;
  }

  override toString(): string {
    return `ResourcePool(${this.resourceType}: ${this.freeAmount}/${this.initialValue} free)`;
  }
}

function checkAmount(amount: number, type: string): void {
  if (!Number.isFinite(amount) || amount < 0) {
    throw new BatchSystemError(`Cannot acquire or release ${amount} of ${type}: amounts are finite and >= 0.`);
  }
}

/**
 * A collection of distinct resources (accelerator indices). Subsets are acquired now or with a
 * timeout, and released.
 */
export class ResourceSet extends WaitableResource<ReadonlySet<number>> {
  private readonly all: ReadonlySet<number>;
  private readonly free: Set<number>;

  constructor(initialValue: Iterable<number>, resourceType: string, timeout = 5) {
    super(resourceType, timeout);
    this.all = new Set(initialValue);
    this.free = new Set(this.all);
  }

  /** Everything the set manages. */
  get initialValue(): ReadonlySet<number> {
    return this.all;
  }

  /** A copy of the currently free members. */
  getFreeSnapshot(): Set<number> {
    return new Set(this.free);
  }

  /** Reserve any `count` free members now, or return `null` if fewer are free. */
  acquireAnyNow(count: number): Set<number> | null {
    if (count > this.free.size) return null;
    const picked = new Set<number>();
    for (const m of [...this.free].sort((a, b) => a - b)) {
      if (picked.size >= count) break;
      picked.add(m);
    }
    for (const m of picked) this.free.delete(m);
    return picked;
  }

  /** Takes the members in `subset` if all are free; returns whether they were taken. */
  protected tryTake(subset: ReadonlySet<number>): boolean {
    for (const m of subset) if (!this.free.has(m)) return false;
    for (const m of subset) this.free.delete(m);
    return true;
  }

  /** Returns the members in `subset` to the set. */
  protected giveBack(subset: ReadonlySet<number>): void {
    for (const m of subset) {
      if (!this.all.has(m)) throw new BatchSystemError(`Released ${m}, which is not one of the ${this.resourceType}.`);
      if (this.free.has(m)) throw new BatchSystemError(`Released ${this.resourceType} ${m}, which was not acquired.`);
    }
    for (const m of subset) this.free.add(m);
  }

  /** `subset` as shown in messages. */
  protected describe(subset: ReadonlySet<number>): string {
    return `{${[...subset].join(", ")}}`;
  }

  /** The free members as shown in messages. */
  protected describeFree(): string {
    return `{${[...this.free].sort((a, b) => a - b).join(", ")}}`;
  }

  override toString(): string {
    return `ResourceSet(${this.resourceType}: ${this.describeFree()} free of ${this.all.size})`;
  }
}
