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
 * Loading a module by its reference, and registering what it exports, is loader.ts's part.
 */
import { pathToFileURL } from "node:url";
import { isAbsolute, resolve } from "node:path";

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
export function normalizeModuleUrl(specifier: string): string {
  if (isAbsolute(specifier)) return pathToFileURL(specifier).href;
  if (specifier.startsWith("./") || specifier.startsWith("../")) return pathToFileURL(resolve(specifier)).href;
  return specifier;
}

/** A function that imports a module by URL or specifier and returns its namespace. */
export type ModuleImporter = (specifier: string) => Promise<object>;
