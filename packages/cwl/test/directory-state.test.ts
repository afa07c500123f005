import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { directoryIdentity, exportCwlOutputs, newDirectoryLocation, refreshDirectories, type CwlDirectory, type CwlFile } from "../src/index.js";
import { tempDir, writeFiles } from "./helpers.js";

describe("Directories changed in place", () => {
  it("a stored Directory's identity brings every value that holds it up to date", async () => {
    const location = newDirectoryLocation("work");
    const id = directoryIdentity(location)!;
    expect(id).toMatch(/^[0-9a-f]+$/);
    expect(directoryIdentity("_:work")).toBeUndefined();
    const recorded = new Map<string, CwlFile[]>([[id, [{ class: "File", location: "toilfile:1", basename: "new.txt" }]]]);
    const states = { readDirectoryState: async (k: string) => recorded.get(k) };
    const d: CwlDirectory = { class: "Directory", location, basename: "work", listing: [] };
    const other: CwlDirectory = { class: "Directory", location: newDirectoryLocation("x"), basename: "x", listing: [] };
    const value = { d, other };
    const fresh = await refreshDirectories(value, states);
    expect(fresh.d.listing).toEqual([{ class: "File", location: "toilfile:1", basename: "new.txt" }]);
    expect(fresh.other.listing).toEqual([]);
    expect(value.d.listing).toEqual([]);
  });

  it("exporting writes a file two outputs share once, under its own name", async () => {
    const src = writeFiles(tempDir(), { "blurb": "b" });
    const file = { class: "File", location: pathToFileURL(path.join(src, "blurb")).href, basename: "blurb" };
    const outdir = tempDir();
    const out = await exportCwlOutputs({ a: [file], b: [file] }, outdir, async () => undefined);
    expect(readdirSync(outdir)).toEqual(["blurb"]);
    expect((out.b as { path: string }[])[0]!.path).toBe(path.join(outdir, "blurb"));
    expect(existsSync(path.join(outdir, "blurb_2"))).toBe(false);
  });
});
