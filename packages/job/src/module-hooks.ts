/**
 * Node module hooks (`module.register`) for user code, registered once per process by
 * `importUserModule` (a workflow file in the leader, a job's module in a worker):
 *
 * - **TypeScript** (`.ts`, `.mts`, `.cts`, `.tsx`) is loaded by stripping its types with sucrase
 *   (pure JavaScript, bundled with these hooks and loaded only when the first TypeScript file is):
 *   nothing native to start, and lines keep their numbers, so stack traces point at the user's
 *   source. A file that uses syntax Node 20 cannot run once its types are gone (`using`
 *   declarations, decorators) is compiled by esbuild instead, where it is installed;
 * - a relative import that names `./x.js` (the TypeScript NodeNext convention) or `./x` falls back
 *   to `./x.ts` / `./x/index.ts` when that is the file that exists;
 * - ES-module workflow files load in a CommonJS package too. `npm init -y` writes
 *   `"type": "commonjs"` into package.json, and a package.json without a "type" means the same, so
 *   Node would load a `flow.ts` or `flow.js` that says `import { Job } from "@toil/job"` as CommonJS
 *   and fail. For such files (`.ts`, `.js`, outside node_modules, in a package that is not
 *   `"type": "module"`) whose source uses `import` or `export` statements, these hooks say "ES
 *   module", as `.mts` and `.mjs` always are. Files without module syntax (real CommonJS) are left
 *   alone (a CommonJS TypeScript file is stripped and loaded as CommonJS).
 * - **Stripped sources are cached** by the hash of what was stripped (the source text, the
 *   stripper's version and options), in `$XDG_CACHE_HOME/toil-ts/stripped` (`~/.cache/...`): a
 *   process that loads a file already stripped by an earlier one (every job of a workflow after
 *   the first on a host, or on any host sharing the home directory) does not load sucrase at all.
 *   The module keeps its own URL, so imports, `import.meta` and stack traces are as without the
 *   cache; an edited file has another hash, so stale code is never served.
 * - **Imports are recorded** for each stripped ES module (import-record.ts): what each specifier
 *   resolved to here, so that a later process can import the module without these hooks
 *   (direct-import.ts). Modules it imported that way are answered with the same copies here.
 *
 * @module @toil/job/module-hooks
 */
import { existsSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { completeRecord, noteStrippedModule, recordPending } from "./import-record.js";
import { NEEDS_LOWERING, TS_FILE, readCacheFile, strippedKey, strippedName, transformsFor, writeCacheFile } from "./stripped-cache.js";

export { STRIPPER_ID } from "./stripped-cache.js";

const packageTypes = new Map<string, string | undefined>();

/** The "type" of the package a file belongs to (the nearest package.json above it), if any. */
function packageTypeOf(file: string): string | undefined {
  const visited: string[] = [];
  let dir = path.dirname(file);
  let found: string | undefined;
  for (;;) {
    if (packageTypes.has(dir)) {
      found = packageTypes.get(dir);
      break;
    }
    visited.push(dir);
    let text: string | undefined;
    try {
      text = readFileSync(path.join(dir, "package.json"), "utf8");
    } catch {
      text = undefined;
    }
    if (text !== undefined) {
      try {
        const type = (JSON.parse(text) as { type?: unknown }).type;
        found = typeof type === "string" ? type : "commonjs";
      } catch {
        found = "commonjs";
      }
      break;
    }
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  for (const d of visited) packageTypes.set(d, found);
  return found;
}

/**
 * Whether source text uses ES module statements: `import ... from`, `import "x"`, `export ...`,
 * or `import.meta` (TypeScript's CommonJS forms `import x = require()` and `export =` do not count).
 */
export function hasModuleSyntax(source: string): boolean {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  if (/\bimport\.meta\b/.test(code)) return true;
  return /^[ \t]*(?:import[ \t]*[{*"'`]|import[ \t]+(?!\w+[ \t]*=[ \t]*require\b)(?:type[ \t]+)?[\w$]+[ \t]*(?:,|from\b)|export[ \t]*[{*]|export[ \t]+(?:default|const|let|var|function|class|async|type|interface|enum|abstract|declare|namespace)\b)/m.test(code);
}

const CANDIDATE = /\.(?:ts|js)$/i;

/** The format to load `url` with when the rule above applies, else undefined. */
export function esmFormatFor(url: string): "module" | "module-typescript" | undefined {
  if (!url.startsWith("file:")) return undefined;
  let file: string;
  try {
    file = fileURLToPath(url.split("?")[0]!);
  } catch {
    return undefined;
  }
  if (!CANDIDATE.test(file) || file.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
  if (packageTypeOf(file) === "module") return undefined;
  let source: string;
  try {
    source = readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  if (!hasModuleSyntax(source)) return undefined;
  return /\.ts$/i.test(file) ? "module-typescript" : "module";
}

interface ResolveResult {
  url: string;
  format?: string | null;
  shortCircuit?: boolean;
}

/** Other file names a relative import may mean when the named file does not exist. */
function fallbacks(specifier: string, parentURL: string): string[] {
  const out: string[] = [];
  const js = /\.([mc]?)js$/.exec(specifier);
  if (js) out.push(specifier.replace(/\.([mc]?)js$/, `.${js[1]}ts`));
  else if (!/\.[cm]?[jt]sx?$/i.test(specifier)) out.push(`${specifier}.ts`, `${specifier}/index.ts`);
  return out.filter((s) => existsSync(fileURLToPath(new URL(s, parentURL))));
}

/** What a resolve hook is told about the import: who imports it. */
export interface ResolveHookContext {
  /** The importing module's URL (none for the entry point). */
  parentURL?: string;
}

/**
 * Resolve `specifier` as `next` does; when a relative import names a file that does not exist
 * (`./x.js` or `./x`, the TypeScript NodeNext convention), the TypeScript file it means
 * (`./x.ts`, `./x/index.ts`). Shared by every loader hook of toil-ts, the standalone bundle's too.
 */
export async function resolveWithTypeScriptFallback<C extends ResolveHookContext, R>(
  specifier: string,
  context: C,
  next: (specifier: string, context: C) => Promise<R>,
): Promise<R> {
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

/**
 * Module hook: resolve as usual (a relative import of a missing `./x.js` or `./x` tries the
 * TypeScript file), then mark ES-module-syntax user files in CommonJS packages as modules.
 */
export async function resolve(
  specifier: string,
  context: { parentURL?: string; conditions?: string[] },
  next: (specifier: string, context: unknown) => Promise<ResolveResult>,
): Promise<ResolveResult> {
  const parent = context.parentURL;
  if (parent !== undefined && recordPending(parent)) {
    await completeRecord(parent, context, (s, c) => resolveThroughHooks(s, c, next));
  }
  const { resolved } = await resolveThroughHooks(specifier, context, next);
  const alias = directAliases.get(resolved.url);
  return alias === undefined ? resolved : { url: alias, format: "module", shortCircuit: true };
}

/** {@link resolve} without the aliases, saying whether these hooks chose the format. */
async function resolveThroughHooks(
  specifier: string,
  context: { parentURL?: string; conditions?: string[] },
  next: (specifier: string, context: unknown) => Promise<ResolveResult>,
): Promise<{ resolved: ResolveResult; forcedFormat: boolean }> {
  const resolved = await resolveWithTypeScriptFallback(specifier, context, next);
  if (resolved.format === "module" || resolved.format === "builtin" || resolved.format === "json" || resolved.format === "wasm") return { resolved, forcedFormat: false };
  const format = esmFormatFor(resolved.url);
  return format ? { resolved: { ...resolved, format }, forcedFormat: true } : { resolved, forcedFormat: false };
}

/**
 * User modules this process imported without the hooks (direct-import.ts), by URL, and the URL of
 * the copy it imported: an import of one of them through the hooks gets that same instance.
 */
const directAliases = new Map<string, string>();

/** What `register()` passes to the hooks: the user modules already imported without them. */
export interface ModuleHooksData {
  /** User module URL -> URL of the rewritten copy that was imported instead. */
  aliases?: Record<string, string>;
}

/** Module hook: takes the data `register()` was given. */
export function initialize(data: ModuleHooksData | undefined): void {
  for (const [from, to] of Object.entries(data?.aliases ?? {})) directAliases.set(from, to);
}

type Transform = (code: string, options: { transforms: string[]; filePath: string; disableESTransforms: boolean }) => { code: string };
let sucrase: Promise<Transform> | undefined;

/** sucrase's transform, loaded the first time a TypeScript file is. */
function stripper(): Promise<Transform> {
  sucrase ??= import("sucrase").then((m) => (m as unknown as { transform: Transform }).transform);
  return sucrase;
}

type EsbuildTransform = (code: string, options: Record<string, unknown>) => Promise<{ code: string }>;
let esbuild: Promise<EsbuildTransform | undefined> | undefined;

/** esbuild's transform (it starts a native service), or undefined where it is not installed (the standalone bundle). */
function lowering(): Promise<EsbuildTransform | undefined> {
  esbuild ??= import("esbuild").then(
    (m) => ((m as { transform?: EsbuildTransform }).transform ?? (m as { default?: { transform?: EsbuildTransform } }).default?.transform),
    () => undefined,
  );
  return esbuild;
}

/** The format a TypeScript file loads as: by extension, then by its package and its own syntax. */
function typeScriptFormat(file: string, source: string): "module" | "commonjs" {
  if (/\.mts$/i.test(file)) return "module";
  if (/\.cts$/i.test(file)) return "commonjs";
  if (!file.includes(`${path.sep}node_modules${path.sep}`) && packageTypeOf(file) === "module") return "module";
  return hasModuleSyntax(source) ? "module" : "commonjs";
}

/** What a `load` hook answers for one module (Node's `LoadFnOutput`). */
export interface LoadResult {
  /** How Node runs the source: "module", "commonjs", ... */
  format?: string | null;
  /** The module's source, as Node runs it. */
  source?: string | ArrayBuffer | Uint8Array | null;
  /** True when no later hook is to be asked. */
  shortCircuit?: boolean;
}

/** Module hook: TypeScript files are loaded with their types stripped (see the module comment). */
export async function load(
  url: string,
  context: { format?: string | null },
  next: (url: string, context: unknown) => Promise<LoadResult>,
): Promise<LoadResult> {
  if (!url.startsWith("file:") || !TS_FILE.test(url.split("?")[0] ?? url)) return next(url, context);
  const file = fileURLToPath(url.split("?")[0]!);
  const source = await readFile(file, "utf8");
  const format = typeScriptFormat(file, source);
  if (NEEDS_LOWERING.test(source)) {
    const transform = await lowering();
    if (transform) {
      const loader = /\.tsx$/i.test(file) ? "tsx" : "ts";
      const { code } = await transform(source, { loader, format: format === "module" ? "esm" : "cjs", target: "node20", sourcefile: file, sourcemap: "inline" });
      return { format, source: code, shortCircuit: true };
    }
  }
  const transforms = transformsFor(file);
  const key = strippedKey(source, transforms, file);
  const cached = readCacheFile(strippedName(key));
  if (cached !== undefined) {
    if (format === "module") await noteStrippedModule(url, key, cached);
    return { format, source: cached, shortCircuit: true };
  }
  const transform = await stripper();
  let code: string;
  try {
    ({ code } = transform(source, { transforms, filePath: file, disableESTransforms: true }));
  } catch (err) {
    // sucrase says "Error transforming <file>: Unexpected token (4:22)": name the place as file:line:col.
    const text = err instanceof Error ? err.message : String(err);
    const at = /\((\d+):(\d+)\)\s*$/.exec(text);
    const reason = text.replace(/^Error transforming [^:]*: /, "").replace(/\s*\(\d+:\d+\)\s*$/, "");
    throw new SyntaxError(at ? `${file}:${at[1]}:${Number(at[2]) + 1}: ${reason}` : `${file}: ${reason}`);
  }
  writeCacheFile(strippedName(key), code);
  if (format === "module") await noteStrippedModule(url, key, code);
  return { format, source: code, shortCircuit: true };
}
