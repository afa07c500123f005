import { existsSync, readFileSync, realpathSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { BATCH_SYSTEM_METHODS, type BatchSystemClass } from "./batch-system.js";
import { BatchSystemError, BatchSystemPluginLoadError, InvalidBatchSystemPluginError, UnknownBatchSystemError } from "./errors.js";
import { type BatchSystemOptionSpec, validateBatchSystemOptionSpecs } from "./options.js";

/** Lazily produces a batch system class (usually by importing its module). */
export type BatchSystemFactory = () => BatchSystemClass | Promise<BatchSystemClass>;

/**
 * A batch system name: one registered with {@link addBatchSystemFactory} (the leader registers its
 * built-ins that way), a plugin package name or suffix, or a module path.
 */
export type BatchSystemName = string;

/** Prefix of third-party batch plugin packages: `toil-batch-<name>` or `@scope/toil-batch-<name>`. */
export const PLUGIN_PACKAGE_PREFIX = "toil-batch-";

const factories = new Map<string, BatchSystemFactory>();
const extraSearchPaths: string[] = [];

/**
 * Register a batch system under `name`. The factory runs only when the batch system is first
 * asked for, so registering costs nothing. Replaces an earlier registration of the same name.
 */
export function addBatchSystemFactory(name: string, factory: BatchSystemFactory): void {
  if (typeof name !== "string" || name.trim() === "") {
    throw new BatchSystemError("addBatchSystemFactory needs a non-empty batch system name.");
  }
  if (typeof factory !== "function") {
    throw new BatchSystemError(`addBatchSystemFactory("${name}") needs a factory function returning the batch system class.`);
  }
  factories.set(name, factory);
}

/** Unregister a batch system (for tests). Returns whether it was registered. */
export function removeBatchSystemFactory(name: string): boolean {
  return factories.delete(name);
}

/** Empty the registry and the added search paths (for tests). */
export function resetBatchSystemRegistry(): void {
  factories.clear();
  extraSearchPaths.length = 0;
}

/** Names of the registered batch systems, sorted. */
export function getBatchSystemNames(): string[] {
  return [...factories.keys()].sort();
}

/** Whether a name is registered (plugin packages and module paths are not listed until loaded). */
export function hasBatchSystem(name: string): boolean {
  return factories.has(name);
}

/** Extra directories to search for plugin packages (besides the current directory and the main script's). */
export function addBatchSystemSearchPath(dir: string): void {
  extraSearchPaths.push(resolve(dir));
}

/** Options of {@link getBatchSystem}. */
export interface GetBatchSystemOptions {
  /** Directories from which to look for plugin packages (default: cwd, the main script's directory, added paths). */
  searchFrom?: readonly string[];
  /** Base directory for relative module paths (default: cwd). */
  cwd?: string;
}

function looksLikeModulePath(name: string): boolean {
  return (
    name.startsWith("./") ||
    name.startsWith("../") ||
    name.startsWith("file:") ||
    isAbsolute(name) ||
    /\.(c|m)?(j|t)s$/.test(name)
  );
}

/**
 * Resolve a batch system by name to its class:
 * 1. a name registered with `addBatchSystemFactory` (the leader registers `single_machine` and `slurm`);
 * 2. a module path (`./my-plugin.js`, absolute path or `file:` URL) whose default export is the class;
 * 3. an installed package `toil-batch-<name>` (or `@scope/toil-batch-<name>` for `@scope/<name>`,
 *    or the package name itself), whose default export is the class (or which registers `name` on import).
 * The class is checked against the contract; a wrong shape throws {@link InvalidBatchSystemPluginError}.
 */
export async function getBatchSystem(name: BatchSystemName, options: GetBatchSystemOptions = {}): Promise<BatchSystemClass> {
  if (typeof name !== "string" || name === "") throw new UnknownBatchSystemError(String(name), getBatchSystemNames(), []);
  const factory = factories.get(name);
  if (factory) {
    const cls = await factory();
    return validateBatchSystemClass(cls, name, "registered factory");
  }
  if (looksLikeModulePath(name)) {
    const file = name.startsWith("file:") ? new URL(name) : pathToFileURL(resolve(options.cwd ?? process.cwd(), name));
    if (name.startsWith("file:") ? false : !existsSync(file)) {
      throw new UnknownBatchSystemError(name, getBatchSystemNames(), [`module file ${file.pathname} (it does not exist)`]);
    }
    const mod = await importPlugin(file.href, name, `module ${file.pathname}`);
    const cls = validateBatchSystemClass(mod.default, name, `module ${file.pathname}`);
    return cls;
  }
  const candidates = pluginPackageCandidates(name);
  const tried: string[] = [];
  for (const pkg of candidates) {
    const entry = resolvePackageEntry(pkg, options.searchFrom);
    tried.push(`package ${pkg}`);
    if (!entry) continue;
    const cls = await importPluginEntry(entry, pkg, name);
    factories.set(name, () => cls);
    return cls;
  }
  throw new UnknownBatchSystemError(name, getBatchSystemNames(), tried);
}

/** Package names tried for a batch system name. */
export function pluginPackageCandidates(name: string): string[] {
  const scoped = /^(@[^/]+)\/(.+)$/.exec(name);
  if (scoped) {
    const [, scope, rest] = scoped as unknown as [string, string, string];
    return rest.startsWith(PLUGIN_PACKAGE_PREFIX) ? [name] : [`${scope}/${PLUGIN_PACKAGE_PREFIX}${rest}`, name];
  }
  return name.startsWith(PLUGIN_PACKAGE_PREFIX) ? [name] : [`${PLUGIN_PACKAGE_PREFIX}${name}`];
}

/** Import an installed package that provides a batch system and check its default export. */
export async function loadBatchSystemPackage(
  pkg: string,
  options: { name?: string; searchFrom?: readonly string[] } = {},
): Promise<BatchSystemClass> {
  const entry = resolvePackageEntry(pkg, options.searchFrom);
  if (!entry) {
    throw new UnknownBatchSystemError(options.name ?? pkg, getBatchSystemNames(), [
      `package ${pkg} (not installed where the leader runs; add it to your project's dependencies)`,
    ]);
  }
  return importPluginEntry(entry, pkg, options.name ?? pkg);
}

/** Import a plugin module; an error thrown while it loads becomes {@link BatchSystemPluginLoadError}. */
async function importPlugin(href: string, name: string, origin: string): Promise<Record<string, unknown>> {
  try {
    return (await import(href)) as Record<string, unknown>;
  } catch (err) {
    const reason = err instanceof Error ? `${err.name && err.name !== "Error" ? `${err.name}: ` : ""}${err.message}` : String(err);
    throw new BatchSystemPluginLoadError(name, origin, reason, { cause: err });
  }
}

async function importPluginEntry(entry: string, pkg: string, name: string): Promise<BatchSystemClass> {
  const before = factories.get(name);
  const mod = await importPlugin(pathToFileURL(entry).href, name, `package ${pkg}`);
  if (mod.default === undefined) {
    // Toil style: the package may register itself when imported.
    const registered = factories.get(name);
    if (registered && registered !== before) {
      return validateBatchSystemClass(await registered(), name, `package ${pkg}`);
    }
  }
  return validateBatchSystemClass(mod.default, name, `package ${pkg}`);
}

function defaultSearchDirs(extra?: readonly string[]): string[] {
  const dirs = [...(extra ?? []), ...extraSearchPaths, process.cwd()];
  const main = process.argv[1];
  if (main) {
    try {
      dirs.push(dirname(realpathSync(main)));
    } catch {
      dirs.push(dirname(resolve(main)));
    }
  }
  return [...new Set(dirs)];
}

function activeConditions(): string[] {
  // Inside the workspace's test runner, sibling packages resolve to their TypeScript sources.
  return process.env.VITEST ? ["source", "import", "node", "default"] : ["import", "node", "default"];
}

function pickExport(target: unknown, conditions: readonly string[], baseDir: string): string[] {
  if (typeof target === "string") return [join(baseDir, target)];
  if (Array.isArray(target)) return target.flatMap((t) => pickExport(t, conditions, baseDir));
  if (target && typeof target === "object") {
    const out: string[] = [];
    for (const [key, value] of Object.entries(target)) {
      if (conditions.includes(key)) out.push(...pickExport(value, conditions, baseDir));
    }
    return out;
  }
  return [];
}

/**
 * Find the ESM entry file of an installed package by walking up from the search directories
 * through `node_modules`, honouring the package's `exports` map. Returns `null` when not found.
 */
export function resolvePackageEntry(pkg: string, searchFrom?: readonly string[]): string | null {
  for (const start of defaultSearchDirs(searchFrom)) {
    let dir = start;
    for (;;) {
      const pkgDir = join(dir, "node_modules", pkg);
      const manifest = join(pkgDir, "package.json");
      if (existsSync(manifest)) {
        const entry = entryOfPackage(pkgDir, manifest);
        if (entry) return entry;
      }
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  return null;
}

function entryOfPackage(pkgDir: string, manifest: string): string | null {
  let json: { exports?: unknown; main?: string; module?: string };
  try {
    json = JSON.parse(readFileSync(manifest, "utf8")) as typeof json;
  } catch (err) {
    throw new BatchSystemError(`Cannot read ${manifest}: ${(err as Error).message}`, { cause: err });
  }
  const candidates: string[] = [];
  if (json.exports !== undefined) {
    const exp = json.exports;
    const root =
      exp && typeof exp === "object" && !Array.isArray(exp) && Object.keys(exp).some((k) => k.startsWith("."))
        ? (exp as Record<string, unknown>)["."]
        : exp;
    candidates.push(...pickExport(root, activeConditions(), pkgDir));
  } else {
    if (json.module) candidates.push(join(pkgDir, json.module));
    candidates.push(join(pkgDir, json.main ?? "index.js"));
  }
  const found = candidates.find((c) => existsSync(c));
  if (found) return found;
  if (candidates.length > 0) {
    throw new BatchSystemError(
      `Package at ${pkgDir} names ${candidates.join(" / ")} as its entry, but no such file exists. Build the package first.`,
    );
  }
  return null;
}

/**
 * Check that `value` is a batch system class that fits the contract. Throws
 * {@link InvalidBatchSystemPluginError} listing everything missing.
 */
export function validateBatchSystemClass(value: unknown, name: string, origin: string): BatchSystemClass {
  const missing: string[] = [];
  if (value === undefined || value === null) {
    throw new InvalidBatchSystemPluginError(name, origin, ["it has no default export"]);
  }
  if (typeof value !== "function") {
    throw new InvalidBatchSystemPluginError(name, origin, [
      `its default export is ${/^[aeiou]/.test(typeof value) ? "an" : "a"} ${typeof value}, not a class`,
    ]);
  }
  const cls = value as unknown as Record<string, unknown> & { prototype?: Record<string, unknown> };
  for (const s of ["supportsAutoDeployment", "supportsWorkerCleanup"]) {
    if (typeof cls[s] !== "function") missing.push(`missing static ${s}()`);
  }
  const proto = cls.prototype;
  for (const m of BATCH_SYSTEM_METHODS) {
    if (!proto || typeof proto[m] !== "function") missing.push(`missing method ${m}()`);
  }
  if (cls.options !== undefined) {
    if (!Array.isArray(cls.options)) missing.push("static options must be an array of option declarations");
    else {
      try {
        validateBatchSystemOptionSpecs(cls.options as BatchSystemOptionSpec[], name);
      } catch (err) {
        missing.push((err as Error).message);
      }
    }
  }
  if (missing.length) throw new InvalidBatchSystemPluginError(name, origin, missing);
  return value as unknown as BatchSystemClass;
}

/** The options a batch system declares (loads it). */
export async function getBatchSystemOptionSpecs(name: BatchSystemName, options?: GetBatchSystemOptions): Promise<readonly BatchSystemOptionSpec[]> {
  const cls = await getBatchSystem(name, options);
  return cls.options ?? [];
}
