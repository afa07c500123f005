/**
 * The on-disk cache shared by the module hooks (module-hooks.ts, in Node's hooks thread) and the
 * loader (loader.ts, direct-import.ts, on the main thread): TypeScript sources with their types
 * stripped, keyed by the SHA-256 of what was stripped, and next to each the record of its imports
 * (import-record.ts) that lets a later process import it without the hooks.
 *
 * Everything here is plain `node:` code: the main thread of a worker loads it before any job.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { pruneCache } from "./cache-prune.js";

/**
 * What produced a cached stripped source: the stripper and its version. Change it whenever the
 * stripping changes (sucrase upgraded, other options), so no entry stripped otherwise is used.
 */
export const STRIPPER_ID = "sucrase@3.35.1 typescript disableESTransforms v1";

/** TypeScript files, by extension. */
export const TS_FILE = /\.(?:ts|mts|cts|tsx)$/i;

/**
 * Syntax that types-stripping leaves as it is but Node 20 cannot run: `using` / `await using`
 * declarations (which TypeScript lowers) and decorators. Files with it are compiled by esbuild.
 */
export const NEEDS_LOWERING = /(?:^|[;{}\s])(?:await[ \t]+)?using[ \t]+[\w$]+[ \t]*=|^[ \t]*@[\w$]/m;

/** The sucrase transforms a TypeScript file is stripped with. */
export function transformsFor(file: string): string[] {
  return /\.tsx$/i.test(file) ? ["typescript", "jsx"] : ["typescript"];
}

let cacheRoot: string | null | undefined;

/** `$XDG_CACHE_HOME/toil-ts` (`~/.cache/toil-ts`), or null when there is no home to keep it in. */
export function toilCacheRoot(): string | null {
  if (cacheRoot !== undefined) return cacheRoot;
  let base = process.env.XDG_CACHE_HOME;
  if (!base || !path.isAbsolute(base)) {
    try {
      const home = homedir();
      base = home ? path.join(home, ".cache") : undefined;
    } catch {
      base = undefined;
    }
  }
  cacheRoot = base ? path.join(base, "toil-ts") : null;
  return cacheRoot;
}

/** The directory of cached stripped sources and their import records, or null (no home). */
function strippedCacheDir(): string | null {
  const root = toilCacheRoot();
  return root ? path.join(root, "stripped") : null;
}

/** SHA-256, hex. */
export function sha256(...parts: string[]): string {
  const hash = process.getBuiltinModule("node:crypto").createHash("sha256");
  for (const p of parts) hash.update(p);
  return hash.digest("hex");
}

/** The cache key of stripping `source` with `transforms` (a .tsx file's path is in its JSX output). */
export function strippedKey(source: string, transforms: readonly string[], file: string): string {
  return sha256(`${STRIPPER_ID}\0${transforms.join(",")}\0${transforms.includes("jsx") ? file : ""}\0`, source);
}

/** The text of a file in the stripped-source cache, if there is one. */
export function readCacheFile(name: string): string | undefined {
  const dir = strippedCacheDir();
  if (!dir) return undefined;
  try {
    return readFileSync(path.join(dir, name), "utf8");
  } catch {
    return undefined;
  }
}

/**
 * Write `text` to `file`: whole into a file of its own, then renamed into place, so a reader (another
 * process writing the same entry at the same moment included) sees all of it or nothing. A cache that
 * cannot be written (read-only home, full disk) is skipped: false.
 */
function writeAtomically(file: string, text: string): boolean {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(tmp, text, { mode: 0o600 });
    renameSync(tmp, file);
    return true;
  } catch {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // nothing to clean up
    }
    return false;
  }
}

/**
 * Keep a file in the stripped-source cache for later processes (see {@link writeAtomically}); a new
 * entry is also the moment to remove the ones nobody has used for a month (see cache-prune.ts).
 */
export function writeCacheFile(name: string, text: string): void {
  const dir = strippedCacheDir();
  if (dir && writeAtomically(path.join(dir, name), text)) pruneCache(path.dirname(dir));
}

/** The file name of the stripped source with key `key`. */
export function strippedName(key: string): string {
  return `${key}.js`;
}

/** The file name of the import record of the module at `url` whose stripped source has key `key`. */
export function importRecordName(key: string, url: string): string {
  return `${sha256(key, "\0", url)}.imports.json`;
}

/**
 * What, besides the files, decides how Node resolves a specifier in this process: the Node version
 * and the `--conditions` / `-C` and `--no-addons` flags (command line and NODE_OPTIONS). An import
 * record made under other flags is not used.
 */
export function resolutionFlags(): string {
  const args = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? "").split(/\s+/).filter(Boolean)];
  const conditions: string[] = [];
  let addons = true;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--no-addons") addons = false;
    else if (a === "-C" || a === "--conditions") conditions.push(args[++i] ?? "");
    else if (a.startsWith("--conditions=")) conditions.push(a.slice("--conditions=".length));
    else if (a.startsWith("-C") && a.length > 2) conditions.push(a.slice(2).replace(/^=/, ""));
  }
  return `${process.version} ${addons ? "addons" : "no-addons"} ${[...new Set(conditions)].sort().join(",")}`;
}
