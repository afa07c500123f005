/**
 * How a worker finds user code again (Toil's `Resource` / `ModuleDescriptor`).
 *
 * A job class, job function, service class, serializable class or deferred function is stored as
 * a reference `{ module, exportName }`: the absolute `file:` URL of the module that exports it (or a
 * package specifier) and the name of the export. References are found by identity in the exports
 * of *registered* modules:
 *
 * - the workflow module: registered by whoever loads it (`importWorkflowModule(path)` imports and
 *   registers it; the `toil run` command does this);
 * - any other module whose exports are used as jobs: register it once from inside itself with
 *   `import * as self from "./this-file.js"; registerModule(import.meta.url, self);`
 *   (a module may import itself; the scan is lazy, so the line may sit anywhere in the file).
 *
 * Worker side, {@link importModule} loads `.ts`/`.mts`/`.cts` files with tsx and everything else
 * with `import()`, and registers what it loads.
 */
import { pathToFileURL } from "node:url";
import { isAbsolute, resolve } from "node:path";
import { JobRebuildError } from "./errors.js";
import { checkModuleReference } from "./trust.js";

/** Where an exported class or function lives. */
export interface ExportRef {
  /** Absolute `file:` URL of the module, or a package specifier. */
  module: string;
  /** The export's name. */
  exportName: string;
}

interface RegisteredModule {
  url: string;
  namespace: object;
  /** Exports not yet readable (module still evaluating): rescan later. */
  pending: boolean;
}

// biome-ignore lint: identity keys
type AnyFunction = Function;

const refs = new WeakMap<AnyFunction, ExportRef>();
const modules = new Map<string, RegisteredModule>();

function scan(mod: RegisteredModule): void {
  let pending = false;
  let names: string[];
  try {
    names = Object.keys(mod.namespace);
  } catch {
    mod.pending = true;
    return;
  }
  for (const name of names) {
    let value: unknown;
    try {
      value = (mod.namespace as Record<string, unknown>)[name];
    } catch {
      pending = true; // binding in its temporal dead zone: the module is still evaluating
      continue;
    }
    if (typeof value === "function" && !refs.has(value)) {
      // `default` is a fallback: prefer a named export of the same value.
      refs.set(value, { module: mod.url, exportName: name });
    } else if (typeof value === "function" && name !== "default" && refs.get(value)?.exportName === "default") {
      refs.set(value, { module: mod.url, exportName: name });
    }
  }
  mod.pending = pending;
}

/**
 * Register a module's exports so jobs defined there can be stored and found again by a worker.
 *
 * @param moduleUrl `import.meta.url` of the module (or a package specifier for a package's entry).
 * @param namespace the module namespace object (`import * as self from "./self.js"`).
 */
export function registerModule(moduleUrl: string, namespace: object): void {
  const url = normalizeModuleUrl(moduleUrl);
  const existing = modules.get(url);
  if (existing !== undefined && existing.namespace === namespace) return;
  const mod: RegisteredModule = { url, namespace, pending: true };
  modules.set(url, mod);
  scan(mod);
}

/** URLs (or package specifiers) of every registered module (the leader derives the workers' trusted module directories from them). */
export function registeredModuleUrls(): string[] {
  return [...modules.keys()];
}

/** Record explicitly where a class or function is exported (rarely needed; prefer {@link registerModule}). */
export function registerExport(value: AnyFunction, moduleUrl: string, exportName: string): void {
  refs.set(value, { module: normalizeModuleUrl(moduleUrl), exportName });
}

/** Find the module and export name of a class or function, or undefined if it is not an export of a registered module. */
export function findExport(value: AnyFunction): ExportRef | undefined {
  const hit = refs.get(value);
  if (hit !== undefined) return hit;
  // A miss: rescan (a module registered while it was still evaluating may have more exports now).
  for (const mod of modules.values()) {
    scan(mod);
    const again = refs.get(value);
    if (again !== undefined) return again;
  }
  return undefined;
}

/** The advice every "cannot be found again" error gives. */
export function exportAdvice(what: string, name: string): string {
  return (
    `A worker rebuilds ${what} by importing the module that exports it, so '${name}' must be ` +
    `(1) declared at the top level of a module (not inside a function) and exported (\`export class ${name} ...\` / ` +
    `\`export function ${name} ...\`), and (2) that module must be registered: the workflow module is registered when it is ` +
    `loaded with importWorkflowModule() (as \`toil run\` does); any other module registers itself with ` +
    `\`import * as self from "./<this file>.js"; registerModule(import.meta.url, self);\`.`
  );
}

/** Absolute paths become file URLs; URLs and package specifiers are kept. */
function normalizeModuleUrl(specifier: string): string {
  if (isAbsolute(specifier)) return pathToFileURL(specifier).href;
  if (specifier.startsWith("./") || specifier.startsWith("../")) return pathToFileURL(resolve(specifier)).href;
  return specifier;
}

/** A function that imports a module by URL or specifier and returns its namespace. */
export type ModuleImporter = (specifier: string) => Promise<object>;

const TS_EXTENSION = /\.(?:ts|mts|cts|tsx)$/i;

/**
 * tsx loads a TypeScript file without a `"type": "module"` package.json above it as CommonJS, whose
 * namespace is `{ default: { ...exports } }`; unwrap that so callers see the real exports.
 */
function unwrapNamespace(ns: Record<string, unknown>): object {
  const inner = ns.default;
  if (inner !== null && typeof inner === "object" && "default" in inner) return inner;
  if (inner !== null && typeof inner === "object" && Object.keys(ns).every((k) => k === "default" || k === "module.exports")) {
    return inner;
  }
  return ns;
}

const loaded = new Map<string, Promise<object>>();
let inProgress = 0;

/** How many module imports are under way (jobs built while a workflow module loads are checked when saved). */
export function importsInProgress(): number {
  return inProgress;
}

/**
 * Import a module (a `file:` URL, an absolute path or a package specifier) and register its
 * exports. TypeScript files are loaded with tsx. Imports are cached.
 */
export function importModule(specifier: string): Promise<object> {
  const url = normalizeModuleUrl(specifier);
  let p = loaded.get(url);
  if (p === undefined) {
    p = (async () => {
      let ns: object;
      inProgress++;
      try {
        if (TS_EXTENSION.test(url.split("?")[0] ?? url)) {
          const { tsImport } = (await import("tsx/esm/api")) as {
            tsImport: (s: string, parent: string) => Promise<Record<string, unknown>>;
          };
          ns = unwrapNamespace(await tsImport(url, import.meta.url));
        } else {
          ns = (await import(url)) as object;
        }
      } catch (cause) {
        loaded.delete(url);
        inProgress--;
        throw new JobRebuildError(
          `Cannot import module ${url}: ${cause instanceof Error ? cause.message : String(cause)}. ` +
            `The module must be reachable at the same path on every machine that runs workers.`,
          { cause },
        );
      }
      inProgress--;
      registerModule(url, ns);
      return ns;
    })();
    loaded.set(url, p);
  }
  return p;
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
  if (importer !== importModule) registerModule(ref.module, ns);
  if (!(ref.exportName in ns)) {
    throw new JobRebuildError(
      `Module ${ref.module} has no export '${ref.exportName}' (it exports: ${Object.keys(ns).join(", ") || "nothing"}). ` +
        `Was the workflow changed since the job was stored? Restore the export or start the workflow afresh.`,
    );
  }
  return ns[ref.exportName];
}
