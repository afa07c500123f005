/**
 * The one loader of user modules (workflow files, job modules, deferred functions' modules): the
 * leader loads the workflow file with it, a worker the module of each job it runs, and rebuilding a
 * job or a value from its stored reference imports through it by default.
 *
 * It imports a module by path, `file:` URL or package specifier, unwraps a CommonJS namespace to the
 * module's real exports, registers them (see registry.ts) and caches the result per URL. Before the
 * first import it registers this package's module hooks (module-hooks.ts) with Node, once per
 * process: TypeScript files then load with their types stripped, and ES-module workflow files load
 * in CommonJS packages too (`npm init -y` projects). Running from source (no built hooks file next
 * to this module), the process needs a TypeScript loader of its own (tsx, vitest), which does both.
 * A TypeScript module that an earlier process loaded through the hooks is imported without them
 * when that is safe (direct-import.ts): Node 20 starts a thread for the hooks and waits for it.
 */
import { existsSync } from "node:fs";
import { register } from "node:module";
import { fileURLToPath } from "node:url";
import { loadCoreExportNames } from "./core-imports.js";
import { planDirectImport } from "./direct-import.js";
import { JobRebuildError } from "./errors.js";
import { type ExportRef, type ModuleImporter, normalizeModuleUrl, registerModule } from "./registry.js";
import { checkModuleReference } from "./trust.js";

/**
 * The exports of a module from the namespace `import()` gave. A module Node (or a TypeScript
 * loader) ran as CommonJS has the namespace `{ default: module.exports, ...names found in it }`;
 * the module's real exports are then `module.exports`, whose own `default` is the module's default
 * export. Recognised by its shape: every name but `default` is `module.exports` or a copy of a
 * property of `default`, and `default` is an object marked as compiled from ES module syntax
 * (`__esModule`), or having a `default` of its own, or a plain object of which Node found no names.
 * Any other namespace (an ES module's) is returned as it is.
 */
export function unwrapCommonJsNamespace(ns: Record<string, unknown>): object {
  const inner = ns.default as Record<string, unknown> | null | undefined;
  if (inner === null || typeof inner !== "object") return ns;
  let named = false;
  for (const key of Object.keys(ns)) {
    if (key === "default" || key === "module.exports") continue;
    if (!(key in inner) || inner[key] !== ns[key]) return ns;
    named = true;
  }
  const proto = Object.getPrototypeOf(inner) as unknown;
  const plain = proto === Object.prototype || proto === null;
  return "__esModule" in inner || "default" in inner || (plain && !named) ? inner : ns;
}

let hooksRegistered = false;
let builtHooks: URL | null | undefined;

/** The module hooks built next to this module (module-hooks.ts), or null (running from the sources). */
function moduleHooksFile(): URL | null {
  if (builtHooks === undefined) {
    const hooks = new URL("./module-hooks.js", import.meta.url);
    builtHooks = existsSync(fileURLToPath(hooks)) ? hooks : null;
  }
  return builtHooks;
}

/**
 * User modules imported without the hooks (see direct-import.ts): the user's URL and that of the
 * copy imported. Once the hooks are registered they answer an import of one of these with the copy,
 * so no module is ever instantiated twice.
 */
const directCopies = new Map<string, string>();

/** Register the module hooks, once per process. */
function ensureModuleHooks(): void {
  if (hooksRegistered) return;
  hooksRegistered = true;
  const hooks = moduleHooksFile();
  if (hooks) register(hooks.href, { data: { aliases: Object.fromEntries(directCopies) } });
}

/** `NODE_DEBUG=toil-import` logs, as `util.debuglog` would (without loading node:util's public module). */
function debug(message: string): void {
  if (/(?:^|[\s,])toil-import(?:$|[\s,])/i.test(process.env.NODE_DEBUG ?? "")) process.stderr.write(`TOIL-IMPORT ${process.pid}: ${message}\n`);
}

/** How each user module was imported, by URL (see {@link userModuleLoadPath}). */
const loadPaths = new Map<string, "direct" | "hooks">();

/**
 * How the user module `specifier` was imported in this process: `"direct"` (a TypeScript module
 * whose graph an earlier process stripped and recorded, imported without Node's module hooks),
 * `"hooks"` (through them), or undefined (not imported). `NODE_DEBUG=toil-import` also logs it,
 * with the reason a module could not be imported directly.
 */
export function userModuleLoadPath(specifier: string): "direct" | "hooks" | undefined {
  return loadPaths.get(normalizeModuleUrl(specifier));
}

/** What to `import()` for the user module `url`: a copy imported without the hooks, or the module itself through them. */
function importTarget(url: string): string {
  const earlier = directCopies.get(url);
  if (earlier !== undefined) {
    loadPaths.set(url, "direct");
    return earlier;
  }
  // Once the hooks thread runs there is nothing to save; TypeScript only (the hooks are for it).
  const eligible = !hooksRegistered && moduleHooksFile() !== null && process.env.TOIL_DIRECT_IMPORT !== "0" && /\.(?:ts|mts)$/i.test(url);
  const plan = eligible ? planDirectImport(url) : undefined;
  if (typeof plan === "object" && ![...plan.copies.keys()].some((u) => directCopies.has(u))) {
    for (const [from, to] of plan.copies) directCopies.set(from, to);
    directCopies.set(url, plan.url);
    debug(`direct ${url} (${plan.url})`);
    loadPaths.set(url, "direct");
    return plan.url;
  }
  debug(`hooks ${url}${typeof plan === "string" ? `: ${plan}` : typeof plan === "object" ? ": shares modules with one imported earlier" : ""}`);
  ensureModuleHooks();
  loadPaths.set(url, "hooks");
  return url;
}

const loaded = new Map<string, Promise<object>>();
let inProgress = 0;

/** How many module imports are under way (jobs built while a workflow module loads are checked when saved). */
export function importsInProgress(): number {
  return inProgress;
}

/**
 * Import a user module (workflow file, job module) by path, `file:` URL or package specifier, and
 * register its exports so jobs and functions defined there can be stored and found again.
 * TypeScript files are loaded with their types stripped (see module-hooks.ts). Imports are cached;
 * a failed import is not (the next call tries again) and rejects with the module's own error.
 */
export function importUserModule(specifier: string): Promise<object> {
  const url = normalizeModuleUrl(specifier);
  let p = loaded.get(url);
  if (p === undefined) {
    p = (async () => {
      await loadCoreExportNames();
      const target = importTarget(url);
      inProgress++;
      let ns: object;
      try {
        ns = unwrapCommonJsNamespace((await import(target)) as Record<string, unknown>);
      } finally {
        inProgress--;
      }
      registerModule(url, ns);
      return ns;
    })();
    p.catch(() => loaded.delete(url));
    loaded.set(url, p);
  }
  return p;
}

/**
 * {@link importUserModule} for rebuilding jobs and values from stored references: an import that
 * fails becomes a {@link JobRebuildError} naming the module.
 */
export async function importModule(specifier: string): Promise<object> {
  try {
    return await importUserModule(specifier);
  } catch (cause) {
    throw new JobRebuildError(
      `Cannot import module ${normalizeModuleUrl(specifier)}: ${cause instanceof Error ? cause.message : String(cause)}. ` +
        `The module must be reachable at the same path on every machine that runs workers.`,
      { cause },
    );
  }
}

/** Import the workflow module (path or URL), register its exports, and return its namespace. */
export async function importWorkflowModule(pathOrUrl: string): Promise<Record<string, unknown>> {
  return (await importModule(pathOrUrl)) as Record<string, unknown>;
}

/** Resolve an export reference to its value, importing the module (with `importer`, default {@link importModule}). */
export async function resolveExport(ref: ExportRef, importer: ModuleImporter = importModule): Promise<unknown> {
  // Stored references are data: check what they name before importing anything.
  checkModuleReference(ref?.module, ref?.exportName);
  const ns = (await importer(ref.module)) as Record<string, unknown>;
  if (importer !== importModule && importer !== importUserModule) registerModule(ref.module, ns);
  if (!(ref.exportName in ns)) {
    throw new JobRebuildError(
      `Module ${ref.module} has no export '${ref.exportName}' (it exports: ${Object.keys(ns).join(", ") || "nothing"}). ` +
        `Was the workflow changed since the job was stored? Restore the export or start the workflow afresh.`,
    );
  }
  return ns[ref.exportName];
}
