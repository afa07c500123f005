/**
 * Builds a test child-process script once (esbuild, TypeScript sources through the `source`
 * condition) so each spawn is a plain `node bundle.mjs`: no TypeScript loader per process.
 */
import * as path from "node:path";
import { build } from "esbuild";

export async function bundleChild(entry: string, outDir: string): Promise<string> {
  const outfile = path.join(outDir, `${path.basename(entry, ".ts")}.mjs`);
  await build({
    entryPoints: [entry],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    conditions: ["source"],
    outfile,
    minify: true, // less to parse at every start
    // CommonJS dependencies (proper-lockfile, graceful-fs) require Node built-ins at run time.
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    logLevel: "error",
  });
  return outfile;
}
