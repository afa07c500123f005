/**
 * The commit log view's table of newest entries: whatever sequence of offers, deletions and
 * dropped logs it is given, it answers exactly like a plain Map of objects would (the table packs
 * ids and positions into typed arrays, grows them, reuses freed slots and compacts its id bytes).
 */
import { describe, expect, it } from "vitest";
import { DELETED_VERSION, SlotFlag, SlotTable, type SlotEntry } from "../src/commit-log/slots.js";

/** Deterministic pseudo-random numbers (a failure can be replayed). */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";

function randomId(r: () => number): string {
  const n = r() < 0.9 ? 21 : 1 + Math.floor(r() * 128);
  let id = "";
  for (let i = 0; i < n; i++) id += ALPHABET[Math.floor(r() * ALPHABET.length)];
  return id;
}

const newer = (held: SlotEntry, offered: SlotEntry): boolean =>
  offered.version !== held.version ? offered.version > held.version : offered.version !== DELETED_VERSION && offered.offset > held.offset;

/** The same rules over a Map of objects. */
class Reference {
  readonly map = new Map<string, SlotEntry>();
  offer(id: string, e: SlotEntry): boolean {
    const held = this.map.get(id);
    if (held) {
      const createdNow = (held.flags | e.flags) & SlotFlag.CreatedNow;
      if (!newer(held, e)) {
        held.flags |= createdNow;
        return false;
      }
      this.map.set(id, { ...e, flags: e.flags | createdNow });
      return true;
    }
    this.map.set(id, { ...e });
    return true;
  }
}

function expectSame(table: SlotTable, ref: Reference, probes: string[]): void {
  expect(table.size).toBe(ref.map.size);
  const listed = new Map(table.entries());
  const looked = new Map<string, unknown>();
  for (const id of probes) looked.set(id, [table.get(id), table.has(id), table.versionOf(id), table.flagsOf(id)]);
  const want = new Map<string, unknown>();
  for (const id of probes) {
    const e = ref.map.get(id);
    want.set(id, [e, e !== undefined, e?.version, e?.flags ?? 0]);
  }
  // One comparison each: the tables' whole contents, then every lookup.
  expect(listed).toEqual(ref.map);
  expect(looked).toEqual(want);
}

describe("the slot table", () => {
  it("answers like a Map through growth, deletions, reused slots, dropped logs and id compaction", () => {
    for (const seed of [1, 2, 3]) {
      const r = rng(seed);
      const table = new SlotTable();
      const ref = new Reference();
      const ids: string[] = [];
      const known = new Set<string>();
      for (let step = 0; step < 40_000; step++) {
        const roll = r();
        if (roll < 0.55 || ids.length === 0) {
          const id = r() < 0.2 && ids.length > 0 ? ids[Math.floor(r() * ids.length)]! : randomId(r);
          if (!known.has(id) && ids.length < 20_000) {
            known.add(id);
            ids.push(id);
          }
          const deleted = r() < 0.1;
          const e: SlotEntry = {
            log: Math.floor(r() * 8),
            offset: Math.floor(r() * 2 ** 40),
            length: Math.floor(r() * 100_000),
            version: deleted ? DELETED_VERSION : 1 + Math.floor(r() * 5),
            flags: (deleted ? SlotFlag.Deleted : 0) | (r() < 0.5 ? SlotFlag.CreatedNow : 0),
          };
          expect(table.offer(id, e, newer)).toBe(ref.offer(id, e));
        } else if (roll < 0.9) {
          const id = ids[Math.floor(r() * ids.length)]!;
          table.delete(id);
          ref.map.delete(id);
        } else if (roll < 0.902) {
          const logs = new Set([Math.floor(r() * 8)]);
          table.dropLogs(logs);
          for (const [id, e] of ref.map) if (logs.has(e.log)) ref.map.delete(id);
        }
        if (step % 10_000 === 9_999) expectSame(table, ref, ids);
      }
      expectSame(table, ref, ids);
      expect(table.size).toBeGreaterThan(1_000);
    }
  });

  it("holds a hundred thousand job ids and finds each, and none it was not given", () => {
    const r = rng(7);
    const table = new SlotTable();
    const ids = Array.from({ length: 100_000 }, () => randomId(r));
    ids.forEach((id, i) => table.offer(id, { log: i % 3, offset: i * 1000, length: 500, version: 1, flags: 0 }, newer));
    const unique = new Set(ids);
    expect(table.size).toBe(unique.size);
    ids.forEach((id) => expect(table.has(id)).toBe(true));
    for (let i = 0; i < 1000; i++) expect(table.has(`${randomId(r)}x`)).toBe(false);
    // An id and its prefix are different ids.
    const id = ids[0]!;
    expect(table.has(id.slice(0, -1))).toBe(unique.has(id.slice(0, -1)));
    table.dropLogs(new Set([0, 2]));
    for (const [k, e] of table.entries()) expect([k, e.log]).toEqual([k, 1]);
  });
});
