/**
 * Import records, made by the module hooks (module-hooks.ts) when they load a TypeScript ES module:
 * where in the stripped source each import specifier and each `import.meta` is, and what each
 * specifier resolved to, through the hooks, for this file at this path. With a record for every
 * module of a graph, a later process imports the graph without the hooks (direct-import.ts): Node 20
 * starts a thread for module hooks and `register()` waits for it, which is most of a cold worker's
 * start.
 *
 * A record is kept next to the stripped source (stripped-cache.ts), named by the SHA-256 of the
 * stripped source's key and the module's URL. What cannot be replayed without the hooks is recorded
 * as a reason (`unsafe`), and a process loading the module then uses the hooks as before:
 *
 * - an `import()` of a computed specifier (or a literal one that does not resolve);
 * - `import.meta` other than `.url`, `.dirname` and `.filename` (`import.meta.resolve`, the object);
 * - source-phase and deferred imports; escaped characters in a specifier;
 * - a specifier that resolves to a file the hooks give another format than Node would (an
 *   ES-syntax `.js` file in a CommonJS package), to a `.js`/`.mjs` file named by a relative path
 *   (its own imports may need the hooks), or to anything but a `node:` builtin, a TypeScript file,
 *   a package's file, or a `.json` file.
 */
import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { TS_FILE, importRecordName, readCacheFile, resolutionFlags, writeCacheFile } from "./stripped-cache.js";

/** What one specifier of a module resolved to. */
type ImportTarget =
  | { kind: "builtin" | "typescript" | "data"; url: string }
  /** A file of a package, with the stamp of the package.json that decided it (see `packageStamp`). */
  | { kind: "package"; url: string; packageJson: string; stamp: string };

/** One import specifier (static, or a dynamic `import()` of a string literal) of a stripped source. */
interface RecordedImport {
  /** Where the specifier, quotes included, starts and ends in the stripped source. */
  start: number;
  end: number;
  specifier: string;
  target?: ImportTarget;
}

/** The import record of one module (see the module comment). */
export interface ImportRecord {
  version: 1;
  /** The module's URL (the user's file). */
  url: string;
  /** The key of its stripped source (stripped-cache.ts). */
  key: string;
  /** {@link resolutionFlags} of the process that resolved the imports. */
  flags: string;
  /** Why the module cannot be loaded without the hooks, if it cannot. */
  unsafe?: string;
  imports: RecordedImport[];
  /** Where each `import.meta` starts (each followed by `.url`, `.dirname` or `.filename`). */
  meta: number[];
}

/** The stamp of a package.json: size and modification time (an upgrade in place changes it). */
export function packageStamp(file: string): string | undefined {
  try {
    const st = statSync(file);
    return `${st.size}:${st.mtimeMs}`;
  } catch {
    return undefined;
  }
}

/** The package.json nearest above `file`, if any. */
function nearestPackageJson(file: string): string | undefined {
  let dir = path.dirname(file);
  for (;;) {
    const candidate = path.join(dir, "package.json");
    try {
      readFileSync(candidate);
      return candidate;
    } catch {
      // keep looking
    }
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Whether `text` is a readable record (a damaged one is made again). */
function isRecord(text: string | undefined): boolean {
  if (text === undefined) return false;
  try {
    return (JSON.parse(text) as Partial<ImportRecord>).version === 1;
  } catch {
    return false;
  }
}

/** A record being made: lexed when the module loaded, resolved at the first import it makes. */
const pending = new Map<string, ImportRecord>();

type Lexer = typeof import("es-module-lexer");
let lexer: Promise<Lexer> | undefined;

/** es-module-lexer, loaded (and its WebAssembly started) the first time a record is made. */
function loadLexer(): Promise<Lexer> {
  lexer ??= import("es-module-lexer").then(async (m) => {
    await m.init;
    return m;
  });
  return lexer;
}

const META_PROPERTY = /^\.(?:url|dirname|filename)\b/;

/** Lex `code` into a record, without targets yet. */
async function lexRecord(url: string, key: string, code: string): Promise<ImportRecord> {
  const record: ImportRecord = { version: 1, url, key, flags: resolutionFlags(), imports: [], meta: [] };
  let imports: readonly import("es-module-lexer").ImportSpecifier[];
  try {
    [imports] = (await loadLexer()).parse(code, url);
  } catch (err) {
    record.unsafe = `cannot be lexed: ${(err as Error).message}`;
    return record;
  }
  for (const imp of imports) {
    if (imp.d === -2) {
      if (!META_PROPERTY.test(code.slice(imp.e, imp.e + 10))) {
        record.unsafe = "uses import.meta other than import.meta.url, .dirname or .filename";
        return record;
      }
      record.meta.push(imp.s);
    } else if (imp.d === -1) {
      // Static: s..e is the specifier between its quotes.
      if (imp.n === undefined || code.slice(imp.s, imp.e) !== imp.n || imp.t !== 1) {
        record.unsafe = `has an import the direct path cannot rewrite: ${code.slice(imp.ss, imp.se)}`;
        return record;
      }
      record.imports.push({ start: imp.s - 1, end: imp.e + 1, specifier: imp.n });
    } else {
      // Dynamic: s..e is the argument; only a plain string literal can be resolved ahead.
      const arg = code.slice(imp.s, imp.e);
      if (imp.n === undefined || !/^(["'])[^"'\\]*\1$/.test(arg) || arg.slice(1, -1) !== imp.n) {
        record.unsafe = `imports a computed specifier: ${code.slice(imp.ss, imp.se)}`;
        return record;
      }
      record.imports.push({ start: imp.s, end: imp.e, specifier: imp.n });
    }
  }
  return record;
}

/**
 * The hooks loaded the TypeScript ES module `url` (stripped source `code`, key `key`): unless an
 * earlier process recorded it, start its record; one with nothing to resolve is written at once.
 */
export async function noteStrippedModule(url: string, key: string, code: string): Promise<void> {
  if (pending.has(url) || isRecord(readCacheFile(importRecordName(key, url)))) return;
  const record = await lexRecord(url, key, code);
  if (record.unsafe !== undefined || record.imports.length === 0) writeCacheFile(importRecordName(key, url), JSON.stringify(record));
  else pending.set(url, record);
}

/** A resolve hook's answer, as far as the record needs it. */
interface Resolved {
  url: string;
  format?: string | null;
}

/** Whether `specifier` names a package (not a path, not a URL). */
function isBareSpecifier(specifier: string): boolean {
  return !/^(?:\.{1,2}\/|\/|[a-z][a-z0-9+.-]*:)/i.test(specifier) && specifier !== "." && specifier !== "..";
}

/** What `specifier` resolved to, or why it cannot be replayed without the hooks. */
function targetOf(specifier: string, resolved: Resolved, forcedFormat: boolean): ImportTarget | string {
  const { url } = resolved;
  if (url.startsWith("node:")) return { kind: "builtin", url };
  if (!url.startsWith("file:")) return `resolves to ${url}`;
  const file = fileURLToPath(url);
  if (TS_FILE.test(file)) return { kind: "typescript", url };
  if (forcedFormat) return `${specifier} loads as an ES module only through the hooks`;
  if (isBareSpecifier(specifier)) {
    const packageJson = nearestPackageJson(file);
    const stamp = packageJson === undefined ? undefined : packageStamp(packageJson);
    if (packageJson === undefined || stamp === undefined) return `${specifier} resolves outside any package`;
    return { kind: "package", url, packageJson, stamp };
  }
  if (/\.json$/i.test(file)) return { kind: "data", url };
  return `${specifier} names a JavaScript file whose own imports may need the hooks`;
}

/**
 * The first import of module `parentURL` is being resolved: resolve every specifier its record
 * holds, the way the hooks do (`resolve`), and write the record. A specifier that does not resolve
 * makes the record unsafe (the import fails through the hooks too, or resolves only at run time).
 */
export async function completeRecord<C extends { parentURL?: string }>(
  parentURL: string,
  context: C,
  resolve: (specifier: string, context: C) => Promise<{ resolved: Resolved; forcedFormat: boolean }>,
): Promise<void> {
  const record = pending.get(parentURL);
  if (record === undefined) return;
  pending.delete(parentURL);
  for (const imp of record.imports) {
    let target: ImportTarget | string;
    try {
      const { resolved, forcedFormat } = await resolve(imp.specifier, { ...context, parentURL });
      target = targetOf(imp.specifier, resolved, forcedFormat);
    } catch (err) {
      target = `${imp.specifier} does not resolve (${(err as { code?: string }).code ?? (err as Error).message})`;
    }
    if (typeof target === "string") {
      record.unsafe = target;
      break;
    }
    imp.target = target;
  }
  writeCacheFile(importRecordName(record.key, parentURL), JSON.stringify(record));
}

/** Whether the record of module `url` is still waiting for its imports to resolve. */
export function recordPending(url: string): boolean {
  return pending.has(url);
}
