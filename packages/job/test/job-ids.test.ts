import { describe, expect, it, vi } from "vitest";

// nanoid's alphabet has `-`: one id in 16.8 million starts with the temporary prefix. Make the
// first two draws do so, to see newJobId draw again rather than hand out an id the store refuses.
const draws = ["tmp-31Em75vt58JUn0hig", "tmp-AAAAAAAAAAAAAAAAA", "V1StGXR8_Z5jdHi6B-myT"];
vi.mock("nanoid", async (importOriginal) => {
  const real = await importOriginal<typeof import("nanoid")>();
  return { ...real, nanoid: (size?: number) => draws.shift() ?? real.nanoid(size) };
});

const { isTemporaryJobId, newJobId, newTemporaryJobId } = await import("../src/description.js");

describe("job ids", () => {
  it("a permanent id never starts with the temporary prefix, even when nanoid draws one that does", () => {
    const id = newJobId();
    expect(id).toBe("V1StGXR8_Z5jdHi6B-myT");
    expect(isTemporaryJobId(id)).toBe(false);
    expect(draws).toHaveLength(0);
  });

  it("a temporary id is recognised as one", () => {
    expect(isTemporaryJobId(newTemporaryJobId())).toBe(true);
    expect(isTemporaryJobId(newJobId())).toBe(false);
  });
});
