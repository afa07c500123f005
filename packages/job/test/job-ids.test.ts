import { describe, expect, it, vi } from "vitest";

// Ids use nanoid's alphabet, which has `-`: one id in 16.8 million starts with the temporary
// prefix. Make the first two draws do so (by choosing the random bytes the ids are made from), to
// see newJobId draw again rather than hand out an id the store refuses.
const draws = ["tmp-31Em75vt58JUn0hig", "tmp-AAAAAAAAAAAAAAAAA", "V1StGXR8_Z5jdHi6B-myT"];
let rigged = false;
vi.mock("node:crypto", async (importOriginal) => {
  const real = await importOriginal<typeof import("node:crypto")>();
  const { urlAlphabet } = await import("nanoid");
  const getRandomValues = <T extends NodeJS.TypedArray>(bytes: T): T => {
    real.getRandomValues(bytes);
    if (!rigged) {
      rigged = true;
      const symbols = draws.join("");
      for (let i = 0; i < symbols.length; i++) (bytes as unknown as Uint8Array)[i] = urlAlphabet.indexOf(symbols[i]!);
    }
    return bytes;
  };
  return { ...real, getRandomValues, default: { ...real, getRandomValues } };
});
const { isTemporaryJobId, newJobId, newTemporaryJobId } = await import("../src/description.js");

describe("job ids", () => {
  it("a permanent id never starts with the temporary prefix, even when the random draw makes one that does", () => {
    const id = newJobId();
    expect(id).toBe("V1StGXR8_Z5jdHi6B-myT");
    expect(isTemporaryJobId(id)).toBe(false);
  });

  it("a temporary id is recognised as one", () => {
    expect(isTemporaryJobId(newTemporaryJobId())).toBe(true);
    expect(isTemporaryJobId(newJobId())).toBe(false);
  });
});
