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

const TS_FILE = /\.(?:ts|mts|cts|tsx)$/i;
let tsxRegistered: Promise<void> | undefined;

/**
 * Register tsx's loader once for the whole process, so TypeScript user modules are imported by
 * the ordinary module loader. (tsx's isolated `tsImport` would load a second copy of every package
 * the user module imports, `@toil/job` included, and jobs built by the user module would not be
 * recognised as jobs.)
 */
function ensureTsx(): Promise<void> {
  tsxRegistered ??= (async () => {
    const api = (await import("tsx/esm/api")) as { register: () => unknown };
    api.register();
  })();
  return tsxRegistered;
}

function unwrap(ns: Record<string, unknown>): object {
  // A .ts file without a `"type": "module"` package.json above it is loaded as CommonJS.
  const inner = ns.default;
  if (inner !== null && typeof inner === "object" && "default" in inner && Object.keys(ns).every((k) => k === "default" || k === "module.exports")) {
    return inner;
  }
  return ns;
}

let esmHooksRegistered = false;

/**
 * Register this package's module hooks (module-hooks.ts) once, after tsx's: ES-module workflow
 * files then load in CommonJS packages too (`npm init -y` projects). A build without the hooks file
 * next to this module (running from source) goes without.
 */
function ensureEsmHooks(): void {
  if (esmHooksRegistered) return;
  esmHooksRegistered = true;
  const hooks = new URL("./module-hooks.js", import.meta.url);
  if (existsSync(fileURLToPath(hooks))) register(hooks.href);
}

const cache = new Map<string, Promise<object>>();

/**
 * Import a user module (workflow file, job module) by path, `file:` URL or package specifier, and
 * register its exports so jobs and functions defined there can be stored and found again.
 * TypeScript files are compiled on the fly by tsx.
 */
export function importUserModule(specifier: string): Promise<object> {
  const url = normalizeModuleUrl(specifier);
  let p = cache.get(url);
  if (!p) {
    p = (async () => {
      if (TS_FILE.test(url.split("?")[0] ?? url)) await ensureTsx();
      ensureEsmHooks();
      const ns = unwrap((await import(url)) as Record<string, unknown>);
      registerModule(url, ns);
      return ns;
    })();
    p.catch(() => cache.delete(url));
    cache.set(url, p);
  }
  return p;
}
