/**
 * A user module that imports from `@toil/job` only names `@toil/job/core` exports too can be given
 * the core entry instead: the same bindings (the main entry re-exports core's), without the
 * configuration schema and zod, which cost a worker's start as much again as the rest of the package.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** `import { a, b as c } from` right before a specifier (after types were stripped). */
const NAMED_IMPORT = /(?:^|[;\n\r}])[ \t]*import\s*\{([^{}]*)\}\s*from\s*$/;
/** A binding in a named import: `name` or `name as local`. */
const BINDING = /^([A-Za-z_$][\w$]*)(?:\s+as\s+[A-Za-z_$][\w$]*)?$/;
/** How far back the statement of a specifier is looked for. */
const STATEMENT_WINDOW = 4096;

let entries: { main: string; core: string } | null | undefined;
/** The names the core entry exports, once {@link loadCoreExportNames} ran (null: nothing is rewritten). */
let coreNames: ReadonlySet<string> | null | undefined;

/**
 * The URLs of this package's built main and core entries, or null when this code does not run from
 * the package's build (the sources, a bundle): then nothing is rewritten.
 */
function ownEntries(): { main: string; core: string } | null {
  if (entries !== undefined) return entries;
  const main = new URL("./index.js", import.meta.url).href;
  const core = new URL("./core.js", import.meta.url).href;
  entries = existsSync(fileURLToPath(main)) && existsSync(fileURLToPath(core)) ? { main, core } : null;
  return entries;
}

/**
 * Learn the core entry's export names (by importing it: this package's modules are loaded already,
 * and a static import of the entry from here would be a cycle). Call before {@link narrowedJobImport}.
 */
export async function loadCoreExportNames(): Promise<void> {
  if (coreNames !== undefined) return;
  const own = ownEntries();
  coreNames = own === null ? null : new Set(Object.keys((await import(own.core)) as object));
}

/**
 * Where the import of `target` (a resolved package URL) whose quoted specifier starts at
 * `specifierStart` in `source` should point: the core entry when `target` is this package's main
 * entry and the statement is a named import of core's exports only; else `target` itself.
 */
export function narrowedJobImport(source: string, specifierStart: number, target: string): string {
  const own = ownEntries();
  if (own === null || !coreNames || target !== own.main) return target;
  const before = source.slice(Math.max(0, specifierStart - STATEMENT_WINDOW), specifierStart);
  const names = NAMED_IMPORT.exec(before)?.[1];
  if (names === undefined) return target;
  for (const part of names.split(",")) {
    const binding = part.trim();
    if (binding === "") continue;
    const name = BINDING.exec(binding)?.[1];
    if (name === undefined || !coreNames.has(name)) return target;
  }
  return own.core;
}
