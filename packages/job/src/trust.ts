/**
 * What a worker agrees to import when it rebuilds a job from the job store. Job descriptions,
 * job arguments and deferred functions are data: the only code they can name is an export of a
 * module, and this module decides which references are acceptable before anything is imported:
 *
 * - the export name is a plain identifier (never code, never `__proto__`/`constructor`/`prototype`);
 * - the module is a `file:` URL (or absolute path) of a JavaScript/TypeScript file, or a package
 *   specifier; never a Node built-in (`node:child_process`, `fs`), never a `data:`/`http:` URL;
 * - when the leader told the worker which directories hold the workflow's code
 *   ({@link TRUSTED_MODULE_ROOTS_ENV}, set by `toil run` from the modules it registered), a `file:`
 *   module must lie inside one of them, so a module planted in the job store or elsewhere is refused.
 */
import { existsSync } from "node:fs";
import { isBuiltin } from "node:module";
import { dirname, isAbsolute, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { JobRebuildError } from "./errors.js";

/**
 * Environment variable with the JSON array of directories whose modules a worker may import;
 * an entry starting with "!" excludes a directory inside them (the leader excludes the job store).
 */
export const TRUSTED_MODULE_ROOTS_ENV = "TOIL_TRUSTED_MODULE_ROOTS";

/** A job store reference that names code the worker will not run. */
export class UntrustedModuleError extends JobRebuildError {
  static override readonly code: string = "JOB_UNTRUSTED_MODULE";
  constructor(
    /** The module the description named. */
    readonly module: string,
    /** The export it named. */
    readonly exportName: string,
    reason: string,
  ) {
    super(
      `Refusing to load '${String(exportName)}' from module ${JSON.stringify(module)}: ${reason}. ` +
        "Job descriptions and arguments are data and may only name exports of the workflow's own modules; " +
        "if the job store was not changed by someone else, check the workflow's modules are where they were when it started.",
    );
  }
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const FORBIDDEN_NAMES = new Set(["__proto__", "constructor", "prototype"]);
const MODULE_FILE = /\.(?:js|mjs|cjs|ts|mts|cts|tsx|jsx)$/i;
/** npm package name, optionally scoped, optionally with a subpath of plain path segments. */
const PACKAGE_SPECIFIER = /^(?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*(?:\/[A-Za-z0-9._~-]+)*$/;

function trustedRoots(): string[] | undefined {
  const raw = process.env[TRUSTED_MODULE_ROOTS_ENV];
  if (raw === undefined || raw === "") return undefined;
  try {
    const roots = JSON.parse(raw) as unknown;
    if (Array.isArray(roots) && roots.every((r) => typeof r === "string" && isAbsolute(r.replace(/^!/, "")))) return roots as string[];
  } catch {
    // fall through
  }
  throw new JobRebuildError(
    `${TRUSTED_MODULE_ROOTS_ENV} must be a JSON array of absolute directory paths; got ${JSON.stringify(raw)}.`,
  );
}

function within(root: string, p: string): boolean {
  const r = resolve(root);
  return p === r || p.startsWith(r.endsWith(sep) ? r : r + sep);
}

/**
 * Check a stored module reference before it is imported. Throws {@link UntrustedModuleError}
 * naming the module, the export and the reason.
 */
export function checkModuleReference(module: unknown, exportName: unknown): void {
  const m = String(module);
  const e = String(exportName);
  const refuse = (reason: string): never => {
    throw new UntrustedModuleError(m, e, reason);
  };
  if (typeof module !== "string" || module === "") refuse("the module is not a non-empty string");
  if (typeof exportName !== "string" || !IDENTIFIER.test(exportName) || FORBIDDEN_NAMES.has(exportName)) {
    refuse("the export name is not a plain identifier");
  }
  if (m.includes("\0")) refuse("the module name contains a NUL byte");
  if (isBuiltin(m)) refuse("Node built-in modules are never job code");
  let file: string | undefined;
  if (isAbsolute(m)) file = resolve(m);
  else if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(m)) {
    if (!m.startsWith("file:")) refuse("only file: URLs and package names can hold job code");
    let url: URL;
    try {
      url = new URL(m);
    } catch {
      return refuse("it is not a valid file: URL");
    }
    if (url.search !== "" || url.hash !== "") refuse("a module URL with a query or fragment is not a workflow module");
    file = fileURLToPath(url);
  } else if (m.startsWith("./") || m.startsWith("../")) {
    refuse("stored module references are absolute; a relative one was not written by toil");
  } else if (!PACKAGE_SPECIFIER.test(m)) {
    refuse("it is neither a file: URL nor a package name");
  }
  if (file !== undefined) {
    if (!MODULE_FILE.test(file)) refuse("it is not a JavaScript or TypeScript file");
    const roots = trustedRoots();
    if (roots !== undefined) {
      const include = roots.filter((r) => !r.startsWith("!"));
      const excluded = roots.filter((r) => r.startsWith("!")).map((r) => r.slice(1));
      if (!include.some((r) => within(r, file))) refuse(`it lies outside the workflow's module directories (${include.join(", ")})`);
      const hit = excluded.find((r) => within(r, file));
      if (hit !== undefined) refuse(`it lies inside ${hit}, which never holds workflow code (the job store)`);
    }
  }
}

/**
 * The directories a worker may import workflow code from, for `file:` module URLs: for each, the
 * nearest enclosing directory with a package.json (the project), else its own directory.
 */
export function trustedModuleRootsFor(moduleUrls: Iterable<string>): string[] {
  const roots = new Set<string>();
  for (const u of moduleUrls) {
    let file: string;
    try {
      if (u.startsWith("file:")) file = fileURLToPath(u);
      else if (isAbsolute(u)) file = u;
      else continue;
    } catch {
      continue;
    }
    let dir = dirname(file);
    let root = dir;
    for (;;) {
      if (existsSync(join(dir, "package.json"))) {
        root = dir;
        break;
      }
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
    roots.add(root);
  }
  return [...roots];
}
