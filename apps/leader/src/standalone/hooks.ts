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
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
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

/** Other file names a relative import may mean when the named file does not exist. */
function fallbacks(specifier: string, parentURL: string): string[] {
  const out: string[] = [];
  const js = /\.(m?)js$/.exec(specifier);
  if (js) out.push(specifier.replace(/\.(m?)js$/, js[1] ? ".mts" : ".ts"));
  else if (!/\.[cm]?[jt]s$/i.test(specifier)) out.push(`${specifier}.ts`, `${specifier}/index.ts`);
  return out.filter((s) => existsSync(fileURLToPath(new URL(s, parentURL))));
}

export async function resolve(
  specifier: string,
  context: ResolveContext,
  next: NextResolve,
): Promise<{ url: string; format?: string | null; shortCircuit?: boolean }> {
  const url = urls[specifier];
  if (url) return { url, shortCircuit: true };
  try {
    return await next(specifier, context);
  } catch (err) {
    const parent = context.parentURL;
    const relative = specifier.startsWith("./") || specifier.startsWith("../");
    if (!relative || !parent?.startsWith("file:") || (err as { code?: string }).code !== "ERR_MODULE_NOT_FOUND") throw err;
    const [alt] = fallbacks(specifier, parent);
    if (alt === undefined) throw err;
    return next(alt, context);
  }
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
