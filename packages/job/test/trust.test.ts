import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import {
  checkModuleReference,
  resolveExport,
  runDeferredFunction,
  TRUSTED_MODULE_ROOTS_ENV,
  trustedModuleRootsFor,
  UntrustedModuleError,
} from "../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "toil-trust-"));
const canary = join(dir, "canary");
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  delete process.env[TRUSTED_MODULE_ROOTS_ENV];
});

describe("checkModuleReference", () => {
  it("refuses built-ins, foreign URL schemes, code-like export names and relative paths, naming them", () => {
    const refused: [unknown, unknown, RegExp][] = [
      ["node:child_process", "execSync", /built-in/],
      ["child_process", "execSync", /built-in/],
      ["fs", "writeFileSync", /built-in/],
      ["data:text/javascript,export const f=1", "f", /only file: URLs/],
      ["https://example.com/x.js", "f", /only file: URLs/],
      ["file:///x/flow.ts?reload", "f", /query or fragment/],
      ["file:///etc/passwd", "f", /not a JavaScript or TypeScript file/],
      ["./flow.js", "f", /relative/],
      ["not a package!", "f", /neither a file: URL nor a package name/],
      ["file:///x/flow.js", "f; process.exit()", /plain identifier/],
      ["file:///x/flow.js", "__proto__", /plain identifier/],
      ["file:///x/flow.js", "constructor", /plain identifier/],
      [{ toString: () => "x" }, "f", /non-empty string/],
      ["file:///x/flow.js", 42, /plain identifier/],
    ];
    for (const [m, e, why] of refused) {
      let err: unknown;
      try {
        checkModuleReference(m, e);
      } catch (x) {
        err = x;
      }
      expect(err, `${String(m)} ${String(e)}`).toBeInstanceOf(UntrustedModuleError);
      expect((err as Error).message).toMatch(why);
      expect((err as Error).message).toContain("Refusing to load");
    }
  });

  it("accepts workflow files and package names", () => {
    expect(() => checkModuleReference("file:///home/u/proj/flow.ts", "Gate")).not.toThrow();
    expect(() => checkModuleReference("/home/u/proj/lib/jobs.mjs", "default")).not.toThrow();
    expect(() => checkModuleReference("@scope/jobs/sub", "align")).not.toThrow();
  });

  it("with trusted roots, refuses file modules outside them", () => {
    process.env[TRUSTED_MODULE_ROOTS_ENV] = JSON.stringify(["/home/u/proj"]);
    expect(() => checkModuleReference("file:///home/u/proj/src/flow.ts", "Gate")).not.toThrow();
    expect(() => checkModuleReference("file:///home/u/project2/flow.ts", "Gate")).toThrow(/outside the workflow's module directories/);
    expect(() => checkModuleReference("file:///home/u/proj/../evil/x.mjs", "f")).toThrow(UntrustedModuleError);
    process.env[TRUSTED_MODULE_ROOTS_ENV] = JSON.stringify(["/home/u/proj", "!/home/u/proj/js"]);
    expect(() => checkModuleReference("file:///home/u/proj/flow.ts", "Gate")).not.toThrow();
    expect(() => checkModuleReference("file:///home/u/proj/js/shared/evil.mjs", "run")).toThrow(/never holds workflow code/);
    process.env[TRUSTED_MODULE_ROOTS_ENV] = "not json";
    expect(() => checkModuleReference("file:///home/u/proj/flow.ts", "Gate")).toThrow(/JSON array of absolute/);
  });

  it("trustedModuleRootsFor uses the nearest package.json directory", () => {
    const proj = join(dir, "proj");
    mkdirSync(join(proj, "src", "deep"), { recursive: true });
    writeFileSync(join(proj, "package.json"), "{}");
    expect(trustedModuleRootsFor([pathToFileURL(join(proj, "src", "deep", "flow.ts")).href, "some-package"])).toEqual([proj]);
  });
});

describe("rebuilding refuses before importing", () => {
  it("a deferred function naming child_process.execSync never runs", async () => {
    await expect(
      runDeferredFunction({ module: "node:child_process", exportName: "execSync", args: [`touch ${canary}`] } as never),
    ).rejects.toThrow(UntrustedModuleError);
    await expect(resolveExport({ module: "fs", exportName: "writeFileSync" })).rejects.toThrow(/built-in/);
    const { existsSync } = await import("node:fs");
    expect(existsSync(canary)).toBe(false);
  });

  it("a module planted outside the trusted roots is not imported (its top-level code never runs)", async () => {
    const planted = join(dir, "planted.mjs");
    writeFileSync(planted, `import { writeFileSync } from "node:fs"; writeFileSync(${JSON.stringify(canary)}, "x"); export function f() {}`);
    process.env[TRUSTED_MODULE_ROOTS_ENV] = JSON.stringify([join(dir, "proj")]);
    await expect(resolveExport({ module: pathToFileURL(planted).href, exportName: "f" })).rejects.toThrow(/outside/);
    const { existsSync } = await import("node:fs");
    expect(existsSync(canary)).toBe(false);
  });
});
