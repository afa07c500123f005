/**
 * What a cold worker loads before its job: the built `toil-worker` and everything it imports
 * statically. The configuration schema (zod, about a third of what the worker would load) is not in
 * it: the worker imports `@toil/job/core` and reads the stored configuration without the schema.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { expect, test } from "vitest";

const WORKER_DIR = path.resolve(import.meta.dirname, "..");
const BUILT_CLI = path.join(WORKER_DIR, "dist", "cli.js");

// Follows every static import and export-from of the built files, resolving as Node does.
const WALK = `
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
const seen = new Set();
const stack = [process.argv[1]];
while (stack.length > 0) {
  const url = stack.pop();
  if (seen.has(url)) continue;
  seen.add(url);
  if (!url.startsWith("file:")) continue;
  const text = readFileSync(fileURLToPath(url), "utf8");
  for (const m of text.matchAll(/^[ \\t]*(?:import|export)[ \\t]*(?:[\\w*{}\\s,$]*?\\sfrom[ \\t]*)?["']([^"']+)["']/gm)) stack.push(import.meta.resolve(m[1], url));
}
console.log(JSON.stringify([...seen]));
`;

test.skipIf(!existsSync(BUILT_CLI))("the built worker's static import graph has no zod and not the full @toil/job entry", () => {
  const out = execFileSync(process.execPath, ["--experimental-import-meta-resolve", "--no-warnings", "--input-type=module", "-e", WALK, pathToFileURL(BUILT_CLI).href], {
    cwd: WORKER_DIR,
    encoding: "utf8",
  });
  const urls = JSON.parse(out) as string[];
  const files = urls.filter((u) => u.startsWith("file:")).map((u) => fileURLToPath(u));
  // The walk found the worker's own packages (it follows the imports it should).
  expect(files.some((f) => f.endsWith(path.join("job", "dist", "core.js")))).toBe(true);
  expect(files.some((f) => f.includes(path.join("filestore", "dist")))).toBe(true);
  expect(files.filter((f) => f.endsWith(path.join("job", "dist", "index.js")))).toEqual([]);
  expect(files.filter((f) => /\bzod@|node_modules[/\\]zod[/\\]/.test(readFileSync(f, "utf8")) || f.includes(`${path.sep}zod${path.sep}`))).toEqual([]);
});
