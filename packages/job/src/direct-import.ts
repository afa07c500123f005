/**
 * Importing a TypeScript module without the module hooks, when an earlier process that loaded it
 * through them left everything needed (its stripped source and import record, import-record.ts, for
 * every module of its graph). Node 20 runs `module.register()` hooks on a thread of their own, and
 * `register()` blocks until that thread is up: most of what a cold worker spends before its job.
 *
 * The graph is imported as rewritten copies of the stripped sources, in a directory of the cache
 * named by the SHA-256 of their text: each specifier replaced by what it resolved to through the
 * hooks (a TypeScript file by its own copy, relative to this one), `import.meta` by an object that
 * names the user's file (`url`, `dirname`, `filename`), and a `//# sourceURL=` naming the user's
 * file, so stack traces do. Every file's key is its source's hash, so an edited file in the graph
 * gives other copies; package imports are replayed only while the package.json that resolved them
 * is unchanged. Anything else (no record yet, a reason in a record, a file that cannot be read) is a
 * reason to load through the hooks as before, which the caller does.
 */
import { existsSync, mkdirSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { pruneCache } from "./cache-prune.js";
import { narrowedJobImport } from "./core-imports.js";
import { packageStamp, type ImportRecord } from "./import-record.js";
import {
  NEEDS_LOWERING,
  STRIPPER_ID,
  TS_FILE,
  importRecordName,
  readCacheFile,
  resolutionFlags,
  sha256,
  strippedKey,
  strippedName,
  toilCacheRoot,
  transformsFor,
} from "./stripped-cache.js";

/** How to import a module graph without the hooks. */
export interface DirectImportPlan {
  /** The URL to import: the entry module's copy. */
  url: string;
  /** Each module of the graph (the user's URL) and the URL of its copy. */
  copies: Map<string, string>;
}

/** The name `import.meta` is replaced by in a copy. */
const META_NAME = "__toilImportMeta";

class NotDirect extends Error {}

/** Why not, as a thrown {@link NotDirect}. */
function refuse(reason: string): never {
  throw new NotDirect(reason);
}

interface Copy {
  url: string;
  text: string;
}

/** The rewritten copy of one module; the modules it imports are added to `graph` first. */
function rewrite(url: string, graph: Copy[], indexOf: Map<string, number>): number {
  const known = indexOf.get(url);
  if (known !== undefined) return known;
  const index = graph.length;
  indexOf.set(url, index);
  graph.push({ url, text: "" });
  if (!url.startsWith("file:") || /[?#]/.test(url)) refuse(`${url} is not a plain file URL`);
  const file = fileURLToPath(url);
  if (!TS_FILE.test(file)) refuse(`${url} is not a TypeScript file`);
  let source: string;
  try {
    source = readFileSync(file, "utf8");
  } catch (err) {
    refuse(`${file} cannot be read (${(err as { code?: string }).code ?? String(err)})`);
  }
  if (NEEDS_LOWERING.test(source)) refuse(`${file} is compiled by esbuild`);
  const key = strippedKey(source, transformsFor(file), file);
  const stripped = readCacheFile(strippedName(key)) ?? refuse(`${file} has not been stripped by an earlier process`);
  const recordText = readCacheFile(importRecordName(key, url)) ?? refuse(`${file} has no import record yet`);
  let record: ImportRecord;
  try {
    record = JSON.parse(recordText) as ImportRecord;
  } catch {
    refuse(`the import record of ${file} is damaged`);
  }
  if (record.version !== 1 || record.url !== url || record.key !== key) refuse(`the import record of ${file} is for another file`);
  if (record.unsafe !== undefined) refuse(`${file} ${record.unsafe}`);
  if (record.flags !== resolutionFlags()) refuse(`${file}'s imports were resolved under other Node flags (${record.flags})`);
  if (stripped.includes(META_NAME)) refuse(`${file} uses the name ${META_NAME}`);

  const edits: Array<[start: number, end: number, text: string]> = [];
  for (const imp of record.imports) {
    const quoted = stripped.slice(imp.start, imp.end);
    if (quoted.slice(1, -1) !== imp.specifier) refuse(`the import record of ${file} does not match its stripped source`);
    const target = imp.target ?? refuse(`${file}: ${imp.specifier} was never resolved`);
    let to: string;
    switch (target.kind) {
      case "builtin":
        to = target.url;
        break;
      case "typescript":
        to = `./m${rewrite(target.url, graph, indexOf)}.mjs`;
        break;
      case "package":
        if (packageStamp(target.packageJson) !== target.stamp) refuse(`${target.packageJson} changed since ${imp.specifier} was resolved`);
        if (!existsSync(fileURLToPath(target.url))) refuse(`${target.url} (${imp.specifier}) is gone`);
        to = narrowedJobImport(stripped, imp.start, target.url);
        break;
      case "data":
        to = target.url;
        break;
      default:
        refuse(`${file}: ${imp.specifier} has an unknown kind of target`);
    }
    edits.push([imp.start, imp.end, JSON.stringify(to)]);
  }
  for (const at of record.meta) {
    if (stripped.slice(at, at + "import.meta".length) !== "import.meta") refuse(`the import record of ${file} does not match its stripped source`);
    edits.push([at, at + "import.meta".length, META_NAME]);
  }
  edits.sort((a, b) => b[0] - a[0]);
  let text = stripped;
  for (const [start, end, replacement] of edits) text = text.slice(0, start) + replacement + text.slice(end);
  if (record.meta.length > 0) {
    // On the first line (after a hashbang), so every other line keeps its number.
    const meta = `const ${META_NAME} = { url: ${JSON.stringify(url)}, dirname: ${JSON.stringify(path.dirname(file))}, filename: ${JSON.stringify(file)} };`;
    const at = text.startsWith("#!") ? text.indexOf("\n") + 1 : 0;
    if (at === 0 && text.startsWith("#!")) refuse(`${file} is only a hashbang line`);
    text = text.slice(0, at) + meta + text.slice(at);
  }
  graph[index] = { url, text: `${text}\n//# sourceURL=${url}\n` };
  return index;
}

/** Write the copies into `dir` (all of them, or none: a directory renamed into place). */
function writeCopies(dir: string, graph: readonly Copy[]): void {
  if (existsSync(dir)) return;
  const tmp = `${dir}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    mkdirSync(tmp, { recursive: true, mode: 0o700 });
    graph.forEach((copy, i) => writeFileSync(path.join(tmp, `m${i}.mjs`), copy.text, { mode: 0o600 }));
    renameSync(tmp, dir);
    pruneCache(path.dirname(path.dirname(dir)));
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    // Another process renamed the same copies into place first: they are these copies.
    if (!existsSync(dir)) refuse(`the copies cannot be written (${(err as { code?: string }).code ?? String(err)})`);
  }
}

/**
 * How to import the TypeScript module `url` without the hooks, or why it cannot be (then import it
 * through them). Reads the module's graph from the cache and writes its rewritten copies once.
 */
export function planDirectImport(url: string): DirectImportPlan | string {
  const root = toilCacheRoot();
  if (root === null) return "there is no cache directory";
  const graph: Copy[] = [];
  try {
    // Node imports a file by its real path (so do the hooks, and their records say so).
    let real: string;
    try {
      real = pathToFileURL(realpathSync(fileURLToPath(url))).href;
    } catch {
      refuse(`${url} is not a readable file`);
    }
    rewrite(real, graph, new Map());
  } catch (err) {
    if (err instanceof NotDirect) return err.message;
    throw err;
  }
  const hash = sha256(STRIPPER_ID, ...graph.map((copy, i) => `\0m${i}.mjs\0${copy.text}`));
  const dir = path.join(root, "direct", hash);
  try {
    writeCopies(dir, graph);
  } catch (err) {
    if (err instanceof NotDirect) return err.message;
    throw err;
  }
  const copies = new Map(graph.map((copy, i) => [copy.url, pathToFileURL(path.join(dir, `m${i}.mjs`)).href]));
  return { url: pathToFileURL(path.join(dir, "m0.mjs")).href, copies };
}
