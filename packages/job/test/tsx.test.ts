// Loading workflow modules the way a worker does, in a fresh node process: .ts files through tsx
// (also a CommonJS-loaded .ts outside any "type": "module" package), .mjs natively.
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { STRIPPER_ID } from "../src/module-hooks.js";

const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, "..");

/** Run `source` in a fresh node: from the sources with tsx, or (`built`) with only Node and the built package. */
function runScript(source: string, built = false, env?: NodeJS.ProcessEnv): string {
  const dir = mkdtempSync(join(tmpdir(), "toil-job-tsx-"));
  const script = join(pkg, "test", "fixtures", `.run-${process.pid}-${Math.random().toString(36).slice(2)}.${built ? "mjs" : "mts"}`);
  writeFileSync(script, source.replaceAll("$DIR", dir));
  try {
    const args = built ? [script] : ["--conditions=source", "--import", "tsx", script];
    return execFileSync(process.execPath, args, { cwd: pkg, encoding: "utf8", ...(env ? { env: { ...process.env, ...env } } : {}) });
  } finally {
    execFileSync("rm", ["-f", script]);
  }
}

describe("worker-side module loading", () => {
  it("rebuilds and runs jobs from .ts (CommonJS-loaded) and .mjs workflow files", () => {
    const out = runScript(`
      import { writeFileSync } from "node:fs";
      import { JobDescription, executeJob, importWorkflowModule, Job, saveJobGraph } from "@toil/job";
      const ts = "$DIR/flow.ts";
      writeFileSync(ts, "export function shout(s: string): string { return s.toUpperCase() + '!'; }\\n");
      const mjs = "$DIR/flow.mjs";
      writeFileSync(mjs, "export function whisper(s) { return s.toLowerCase(); }\\n");
      const a = await importWorkflowModule(ts);
      const b = await importWorkflowModule(mjs);
      const fs = { jobId: "x", logToLeader() {} };
      const results = [];
      for (const [fn, arg] of [[a.shout, "hey"], [b.whisper, "HEY"]]) {
        const { descriptions } = saveJobGraph(Job.wrapFn(fn, arg));
        const stored = JobDescription.fromJSON(JSON.stringify(descriptions[0]));
        const fromFile = stored.getBody().module.endsWith(fn === a.shout ? "flow.ts" : "flow.mjs");
        const out = await executeJob(stored, fs);
        results.push(out.returnValue, fromFile);
      }
      console.log(JSON.stringify(results));
    `);
    expect(JSON.parse(out.trim())).toEqual(["HEY!", true, "hey", true]);
  });
  it("reports a module that cannot be imported", () => {
    const out = runScript(`
      import { JobDescription, executeJob } from "@toil/job";
      const d = new JobDescription({ jobName: "gone" });
      d.attachBody({ kind: "function", module: "file:///nonexistent/flow.ts", exportName: "f", data: [] });
      try { await executeJob(d, { jobId: "x" }); } catch (e) { console.log(e.name + ": " + e.message); }
    `);
    expect(out).toMatch(/JobRebuildError: Cannot import module file:\/\/\/nonexistent\/flow.ts/);
  });
  it("loads TypeScript workflow files with only Node, in a CommonJS package too (the built package's module hooks)", () => {
    const out = runScript(`
      import { writeFileSync } from "node:fs";
      import { importUserModule, findExport } from "@toil/job";
      writeFileSync("$DIR/package.json", JSON.stringify({ name: "cjs-project", type: "commonjs" }));
      writeFileSync("$DIR/flow.ts", "export function shout(s: string): string { return s.toUpperCase(); }\\nexport default function main(): string { return shout('hi'); }\\n");
      writeFileSync("$DIR/legacy.ts", "const n: number = 2;\\nmodule.exports = { twice: (x: number): number => x * n };\\n");
      const esm = await importUserModule("$DIR/flow.ts");
      const cjs = await importUserModule("$DIR/legacy.ts");
      console.log(JSON.stringify([esm.shout("hey"), typeof esm.default, findExport(esm.shout)?.exportName, cjs.twice(21)]));
    `, true);
    expect(JSON.parse(out.trim())).toEqual(["HEY", "function", "shout", 42]);
  });
  it("names the installed sucrase in the stripped-source cache key (an upgrade never serves older output)", () => {
    const version = (createRequire(join(pkg, "package.json"))("sucrase/package.json") as { version: string }).version;
    expect(STRIPPER_ID).toContain(`sucrase@${version} `);
  });
  it("serves a TypeScript file stripped by an earlier process from the cache, never a stale one", () => {
    const dir = mkdtempSync(join(tmpdir(), "toil-job-strip-cache-"));
    const cache = join(dir, "cache");
    const flow = join(dir, "flow.ts");
    writeFileSync(join(dir, "helper.ts"), "export const mark: string = 'helper';\n");
    const write = (word: string) =>
      writeFileSync(flow, `import { mark } from "./helper.js";\nexport function shout(s: string): string {\n  if (s === "") throw new Error("empty");\n  return s.toUpperCase() + " ${word} " + mark;\n}\n`);
    const run = () =>
      JSON.parse(
        runScript(
          `
      import { importUserModule } from "@toil/job";
      const m = await importUserModule(${JSON.stringify(flow)});
      let at = "";
      try { m.shout(""); } catch (e) { at = e.stack.split("\\n")[1].trim(); }
      console.log(JSON.stringify([m.shout("hey"), at]));
    `,
          true,
          { XDG_CACHE_HOME: cache },
        ).trim(),
      ) as [string, string];
    write("one");
    // Stack traces name the user's file and line, as without the cache.
    const at = `at Module.shout (${pathToFileURL(flow).href}:3:`;
    const first = run();
    expect(first[0]).toBe("HEY one helper");
    expect(first[1].startsWith(at)).toBe(true);
    // Both files were stripped and kept.
    const entries = () => readdirSync(join(cache, "toil-ts", "stripped")).filter((f) => f.endsWith(".js"));
    expect(entries()).toHaveLength(2);
    // A later process uses the kept copy, not sucrase: a planted change to it shows.
    for (const e of entries()) {
      const file = join(cache, "toil-ts", "stripped", e);
      const code = readFileSync(file, "utf8");
      if (code.includes("shout")) writeFileSync(file, code.replace("toUpperCase()", "toLowerCase()"));
    }
    expect(run()[0]).toBe("hey one helper");
    // An edited file is stripped afresh (its hash changed): never the old copy.
    write("two");
    const edited = run();
    expect(edited[0]).toBe("HEY two helper");
    expect(edited[1]).toBe(first[1]);
    expect(entries()).toHaveLength(3);
  });
});
