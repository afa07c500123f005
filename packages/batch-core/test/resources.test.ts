import { describe, expect, it } from "vitest";
import { AcquisitionTimeoutException, BatchSystemError, memoize, ResourcePool, ResourceSet } from "../src/index.js";

describe("ResourcePool", () => {
  it("acquireNow takes only what is free, release gives it back", () => {
    const pool = new ResourcePool(10, "cores");
    expect(pool.acquireNow(7)).toBe(true);
    expect(pool.acquireNow(4)).toBe(false);
    expect(pool.value).toBe(3);
    pool.release(7);
    expect(pool.value).toBe(10);
    expect(pool.acquireNow(10)).toBe(true);
  });

  it("acquire waits for a release", async () => {
    const pool = new ResourcePool(2, "slots");
    pool.acquireNow(2);
    const waiting = pool.acquire(1, Infinity);
    expect(pool.waiting).toBe(1);
    pool.release(1);
    await waiting;
    expect(pool.value).toBe(0);
    expect(pool.waiting).toBe(0);
  });

  it("acquire times out with AcquisitionTimeoutException naming the resource", async () => {
    const pool = new ResourcePool(5, "memory", 0.05);
    pool.acquireNow(4);
    const err = await pool.acquire(3).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AcquisitionTimeoutException);
    expect((err as AcquisitionTimeoutException).resource).toBe("memory");
    expect((err as AcquisitionTimeoutException).requested).toBe(3);
    expect((err as AcquisitionTimeoutException).available).toBe(1);
    expect((err as Error).message).toMatch(/memory/);
    // Nothing leaked: the timed-out request took nothing.
    expect(pool.value).toBe(1);
    expect(pool.waiting).toBe(0);
  });

  it("a request that can never fit times out instead of hanging", async () => {
    const pool = new ResourcePool(1, "cores");
    await expect(pool.acquire(2, 0.01)).rejects.toBeInstanceOf(AcquisitionTimeoutException);
  });

  it("a timed-out large waiter lets smaller ones behind it through", async () => {
    const pool = new ResourcePool(4, "cores");
    pool.acquireNow(3);
    const big = pool.acquire(4, 0.02).catch((e: unknown) => e);
    const small = pool.acquire(1, Infinity);
    await small;
    expect(await big).toBeInstanceOf(AcquisitionTimeoutException);
    expect(pool.value).toBe(0);
  });

  it("scoped acquisition releases on success and on error (await using, withAcquired)", async () => {
    const pool = new ResourcePool(3, "disk");
    {
      await using lease = await pool.acquisitionOf(2);
      expect(lease.amount).toBe(2);
      expect(pool.value).toBe(1);
    }
    expect(pool.value).toBe(3);
    await expect(
      pool.withAcquired(3, () => {
        expect(pool.value).toBe(0);
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(pool.value).toBe(3);
    expect(await pool.withAcquired(1, async () => 42)).toBe(42);
    expect(pool.value).toBe(3);
  });

  it("lease release is idempotent", async () => {
    const pool = new ResourcePool(1, "slots");
    const lease = await pool.acquisitionOf(1);
    lease.release();
    lease.release();
    expect(pool.value).toBe(1);
  });

  it("rejects bad amounts and over-release", () => {
    expect(() => new ResourcePool(-1, "cores")).toThrow(BatchSystemError);
    const pool = new ResourcePool(2, "cores");
    expect(() => pool.acquireNow(-1)).toThrow(/>= 0/);
    expect(() => pool.release(1)).toThrow(/only 0 was acquired/);
  });
});

describe("ResourceSet", () => {
  it("acquires and releases subsets", () => {
    const set = new ResourceSet([0, 1, 2, 3], "accelerators");
    expect(set.acquireNow(new Set([0, 2]))).toBe(true);
    expect(set.acquireNow(new Set([2, 3]))).toBe(false);
    expect(set.getFreeSnapshot()).toEqual(new Set([1, 3]));
    set.release(new Set([0]));
    expect(set.getFreeSnapshot()).toEqual(new Set([0, 1, 3]));
  });

  it("acquireAnyNow picks free members or nothing", () => {
    const set = new ResourceSet([0, 1, 2], "accelerators");
    expect(set.acquireAnyNow(2)).toEqual(new Set([0, 1]));
    expect(set.acquireAnyNow(2)).toBeNull();
    expect(set.acquireAnyNow(1)).toEqual(new Set([2]));
  });

  it("acquire waits, times out, and scoped acquisition releases", async () => {
    const set = new ResourceSet([0, 1], "accelerators", 0.02);
    set.acquireNow(new Set([1]));
    await expect(set.acquire(new Set([1]))).rejects.toBeInstanceOf(AcquisitionTimeoutException);
    const waiting = set.acquire(new Set([1]), Infinity);
    set.release(new Set([1]));
    await waiting;
    set.release(new Set([1]));
    await expect(
      set.withAcquired(new Set([0, 1]), () => {
        throw new Error("fail");
      }),
    ).rejects.toThrow("fail");
    expect(set.getFreeSnapshot()).toEqual(new Set([0, 1]));
  });

  it("rejects releasing what it does not hold", () => {
    const set = new ResourceSet([0], "accelerators");
    expect(() => set.release(new Set([0]))).toThrow(/not acquired/);
    expect(() => set.release(new Set([5]))).toThrow(/not one of/);
  });
});

describe("memoize", () => {
  it("calls once per distinct arguments", () => {
    let calls = 0;
    const f = memoize((a: number, b: string) => {
      calls++;
      return `${a}${b}`;
    });
    expect(f(1, "x")).toBe("1x");
    expect(f(1, "x")).toBe("1x");
    expect(f(2, "x")).toBe("2x");
    expect(calls).toBe(2);
    f.clear();
    f(1, "x");
    expect(calls).toBe(3);
  });

  it("does not cache a rejected promise", async () => {
    let calls = 0;
    const f = memoize(async () => {
      calls++;
      if (calls === 1) throw new Error("first fails");
      return "ok";
    });
    await expect(f()).rejects.toThrow("first fails");
    expect(await f()).toBe("ok");
    expect(await f()).toBe("ok");
    expect(calls).toBe(2);
  });
});
