import { describe, expect, it } from "vitest";
import {
  InvalidRequirementError,
  ToilError,
  parseAccelerator,
  parseCores,
  parseRequirements,
  parseSize,
  requirementsString,
  resolveRequirements,
} from "../src/index.js";
import { parseAccelerators, parsePreemptible } from "../src/requirements.js";

describe("parseSize", () => {
  it("uses powers of 1000 for decimal units and 1024 for binary ones", () => {
    expect(parseSize("2G")).toBe(2_000_000_000);
    expect(parseSize("2Gi")).toBe(2_147_483_648);
    expect(parseSize("500Mi")).toBe(524_288_000);
    expect(parseSize("1.5G")).toBe(1_500_000_000);
    expect(parseSize("1.5GiB")).toBe(1_610_612_736);
    expect(parseSize("100")).toBe(100);
    expect(parseSize(100)).toBe(100);
    expect(parseSize("2 gb")).toBe(2_000_000_000);
    expect(parseSize("1k")).toBe(1000);
    expect(parseSize("1KiB")).toBe(1024);
    expect(parseSize("3b")).toBe(3);
    expect(parseSize("1Ti")).toBe(1024 ** 4);
  });
  it("truncates fractional bytes", () => {
    expect(parseSize("1.5")).toBe(1);
    expect(parseSize("0.0001K")).toBe(0);
  });
  it("rejects malformed sizes with a typed error naming job, field and value", () => {
    for (const bad of ["", "abc", "2X", "-1G", "1.2.3G", "G"]) {
      expect(() => parseSize(bad, { jobName: "align", field: "memory" })).toThrow(InvalidRequirementError);
    }
    try {
      parseSize("2Zi", { jobName: "align", field: "memory" });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ToilError);
      const err = e as InvalidRequirementError;
      expect(err.field).toBe("memory");
      expect(err.value).toBe("2Zi");
      expect(err.jobName).toBe("align");
      expect(err.message).toContain("align");
      expect(err.message).toContain("memory");
      expect(err.message).toContain('"2Zi"');
    }
    expect(() => parseSize(1.5)).toThrow(/whole number/);
    expect(() => parseSize(-3)).toThrow(InvalidRequirementError);
    expect(() => parseSize(Number.NaN)).toThrow(InvalidRequirementError);
  });
});

describe("cores and preemptible", () => {
  it("parses cores, fractions allowed", () => {
    expect(parseCores("1")).toBe(1);
    expect(parseCores(0.5)).toBe(0.5);
    expect(parseCores("0.1")).toBe(0.1);
    expect(() => parseCores("two", { jobName: "j" })).toThrow(/Job 'j'.*cores.*"two"/);
    expect(() => parseCores(-1)).toThrow(InvalidRequirementError);
  });
  it("parses preemptible flags", () => {
    expect(parsePreemptible(1)).toBe(true);
    expect(parsePreemptible(0)).toBe(false);
    expect(parsePreemptible("True")).toBe(true);
    expect(parsePreemptible("false")).toBe(false);
    expect(() => parsePreemptible("maybe")).toThrow(InvalidRequirementError);
    expect(() => parsePreemptible(2)).toThrow(InvalidRequirementError);
  });
});

describe("parseAccelerator", () => {
  it("parses the string forms", () => {
    expect(parseAccelerator("gpu")).toEqual({ kind: "gpu", count: 1 });
    expect(parseAccelerator("gpu:2")).toEqual({ kind: "gpu", count: 2 });
    expect(parseAccelerator("cuda:1")).toEqual({ kind: "gpu", count: 1, api: "cuda", brand: "nvidia" });
    expect(parseAccelerator("nvidia-tesla-k80:2")).toEqual({ kind: "gpu", count: 2, model: "nvidia-tesla-k80", brand: "nvidia" });
    expect(parseAccelerator("amd")).toEqual({ kind: "gpu", count: 1, brand: "amd" });
    expect(parseAccelerator(3)).toEqual({ kind: "gpu", count: 3 });
  });
  it("parses the object form", () => {
    expect(parseAccelerator({ kind: "gpu", count: 1, model: "a100" })).toEqual({ kind: "gpu", count: 1, model: "a100" });
    expect(parseAccelerator({ api: "rocm" })).toEqual({ kind: "gpu", count: 1, api: "rocm", brand: "amd" });
    expect(parseAccelerators(["cuda:1", { kind: "fpga", count: 2 }])).toEqual([
      { kind: "gpu", count: 1, api: "cuda", brand: "nvidia" },
      { kind: "fpga", count: 2 },
    ]);
  });
  it("rejects malformed accelerators", () => {
    expect(() => parseAccelerator("cuda:x", { jobName: "train" })).toThrow(/train.*accelerators.*"cuda:x"/);
    expect(() => parseAccelerator("cuda:0")).toThrow(InvalidRequirementError);
    expect(() => parseAccelerator({ count: 1.5 })).toThrow(InvalidRequirementError);
    expect(() => parseAccelerator({ colour: "red" } as never)).toThrow(/unknown key 'colour'/);
    expect(() => parseAccelerator("a:b:c")).toThrow(InvalidRequirementError);
    expect(() => parseAccelerator(0)).toThrow(InvalidRequirementError);
  });
});

describe("parseRequirements", () => {
  it("parses every field and resolves defaults", () => {
    const r = parseRequirements({ cores: "2", memory: "1Gi", disk: 5, accelerators: "cuda:1", preemptible: "true" });
    expect(r).toEqual({
      cores: 2,
      memory: 1024 ** 3,
      disk: 5,
      accelerators: [{ kind: "gpu", count: 1, api: "cuda", brand: "nvidia" }],
      preemptible: true,
    });
    const full = resolveRequirements({ memory: 10 });
    expect(full).toEqual({ cores: 1, memory: 10, disk: 2 * 1024 ** 3, accelerators: [], preemptible: false });
    expect(requirementsString(resolveRequirements({}))).toBe(
      "disk: 2.0 Gi, memory: 2.0 Gi, cores: 1, accelerators: [], preemptible: false",
    );
  });
  it("rejects unknown fields", () => {
    expect(() => parseRequirements({ memroy: "1G" } as never, "j")).toThrow(/unknown requirement/);
  });
});
