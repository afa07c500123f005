/**
 * Module hooks of the standalone bundle (registered by `register.ts` before anything else runs):
 *
 * - `@toil/job` and `@toil/leader` in user code resolve to the copies inside the bundle, so the
 *   jobs a workflow builds are the bundle's own jobs;
 * - TypeScript files (`.ts`, `.mts`) are loaded by stripping their types with the bundled
 *   transformer (sucrase, pure JavaScript: nothing native, nothing to install). Lines keep their
 *   numbers, so stack traces point at the user's source;
 * - a relative import that names `./x.js` (the TypeScript NodeNext convention) or `./x` falls
 *   back to `./x.ts` / `./x/index.ts` when that is the file that exists.
 */
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { resolveWithTypeScriptFallback } from "@toil/job/module-hooks";
import { transform } from "sucrase";

let urls: Record<string, string> = {};

export async function initialize(data: { urls: Record<string, string> }): Promise<void> {
  urls = data.urls;
}

const TS_FILE = /\.(?:ts|mts)$/i;

interface ResolveContext {
  parentURL?: string;
}

type NextResolve = (specifier: string, context: ResolveContext) => Promise<{ url: string; format?: string | null }>;

export async function resolve(
  specifier: string,
  context: ResolveContext,
  next: NextResolve,
): Promise<{ url: string; format?: string | null; shortCircuit?: boolean }> {
  const url = urls[specifier];
  if (url) return { url, shortCircuit: true };
  return resolveWithTypeScriptFallback(specifier, context, next);
}

type NextLoad = (url: string, context: unknown) => Promise<{ format?: string | null; source?: string | ArrayBuffer | Uint8Array | null }>;

export async function load(
  url: string,
  context: unknown,
  next: NextLoad,
): Promise<{ format?: string | null; source?: string | ArrayBuffer | Uint8Array | null; shortCircuit?: boolean }> {
  if (!url.startsWith("file:") || !TS_FILE.test(url.split("?")[0] ?? url)) return next(url, context);
  const filePath = fileURLToPath(url);
  const code = await readFile(filePath, "utf8");
  const out = transform(code, { transforms: ["typescript"], filePath, disableESTransforms: true });
  return { format: "module", source: out.code, shortCircuit: true };
}
