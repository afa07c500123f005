import { existsSync } from "node:fs";
import { register } from "node:module";
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { registerModule } from "@toil/job";

function normalizeModuleUrl(specifier: string): string {
  if (isAbsolute(specifier)) return pathToFileURL(specifier).href;
  if (specifier.startsWith("./") || specifier.startsWith("../")) return pathToFileURL(resolve(specifier)).href;
  return specifier;
}

function unwrap(ns: Record<string, unknown>): object {
  // A .ts file without a `"type": "module"` package.json above it is loaded as CommonJS.
  const inner = ns.default;
  if (inner !== null && typeof inner === "object" && "default" in inner && Object.keys(ns).every((k) => k === "default" || k === "module.exports")) {
    return inner;
  }
  return ns;
}

let hooksRegistered = false;

/**
 * Register this package's module hooks (module-hooks.ts) once: TypeScript user modules are then
 * loaded with their types stripped, and ES-module workflow files load in CommonJS packages too
 * (`npm init -y` projects). Running from source (no built hooks file next to this module), the
 * process must have a TypeScript loader of its own (tsx), which then does both.
 */
function ensureHooks(): void {
  if (hooksRegistered) return;
  hooksRegistered = true;
  const hooks = new URL("./module-hooks.js", import.meta.url);
  if (existsSync(fileURLToPath(hooks))) register(hooks.href);
}

const cache = new Map<string, Promise<object>>();

/**
 * Import a user module (workflow file, job module) by path, `file:` URL or package specifier, and
 * register its exports so jobs and functions defined there can be stored and found again.
 * TypeScript files are loaded with their types stripped (see module-hooks.ts).
 */
export function importUserModule(specifier: string): Promise<object> {
  const url = normalizeModuleUrl(specifier);
  let p = cache.get(url);
  if (!p) {
    p = (async () => {
      ensureHooks();
      const ns = unwrap((await import(url)) as Record<string, unknown>);
      registerModule(url, ns);
      return ns;
    })();
    p.catch(() => cache.delete(url));
    cache.set(url, p);
  }
  return p;
}
