/**
 * Node module hooks (`module.register`) that let workflow files written as ES modules load in a
 * CommonJS package. `npm init -y` writes `"type": "commonjs"` into package.json, and a package.json
 * without a "type" means the same, so Node (and tsx, for `.ts`) would load a `flow.ts` or `flow.js`
 * that says `import { Job } from "@toil/job"` as CommonJS and fail. For such files (`.ts`, `.js`,
 * outside node_modules, in a package that is not `"type": "module"`) whose source uses `import` or
 * `export` statements, these hooks say "ES module", as `.mts` and `.mjs` always are. Files without
 * module syntax (real CommonJS) are left alone.
 *
 * Registered by `importUserModule` after tsx's loader, so they see its resolution first.
 *
 * @module @toil/worker/module-hooks
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const packageTypes = new Map<string, string | undefined>();

/** The "type" of the package a file belongs to (the nearest package.json above it), if any. */
function packageTypeOf(file: string): string | undefined {
  const visited: string[] = [];
  let dir = path.dirname(file);
  let found: string | undefined;
  for (;;) {
    if (packageTypes.has(dir)) {
      found = packageTypes.get(dir);
      break;
    }
    visited.push(dir);
    let text: string | undefined;
    try {
      text = readFileSync(path.join(dir, "package.json"), "utf8");
    } catch {
      text = undefined;
    }
    if (text !== undefined) {
      try {
        const type = (JSON.parse(text) as { type?: unknown }).type;
        found = typeof type === "string" ? type : "commonjs";
      } catch {
        found = "commonjs";
      }
      break;
    }
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  for (const d of visited) packageTypes.set(d, found);
  return found;
}

/**
 * Whether source text uses ES module statements: `import ... from`, `import "x"`, `export ...`,
 * or `import.meta` (TypeScript's CommonJS forms `import x = require()` and `export =` do not count).
 */
export function hasModuleSyntax(source: string): boolean {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  if (/\bimport\.meta\b/.test(code)) return true;
  return /^[ \t]*(?:import[ \t]*[{*"'`]|import[ \t]+(?!\w+[ \t]*=[ \t]*require\b)(?:type[ \t]+)?[\w$]+[ \t]*(?:,|from\b)|export[ \t]*[{*]|export[ \t]+(?:default|const|let|var|function|class|async|type|interface|enum|abstract|declare|namespace)\b)/m.test(code);
}

const CANDIDATE = /\.(?:ts|js)$/i;

/** The format to load `url` with when the rule above applies, else undefined. */
export function esmFormatFor(url: string): "module" | "module-typescript" | undefined {
  if (!url.startsWith("file:")) return undefined;
  let file: string;
  try {
    file = fileURLToPath(url.split("?")[0]!);
  } catch {
    return undefined;
  }
  if (!CANDIDATE.test(file) || file.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
  if (packageTypeOf(file) === "module") return undefined;
  let source: string;
  try {
    source = readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  if (!hasModuleSyntax(source)) return undefined;
  return /\.ts$/i.test(file) ? "module-typescript" : "module";
}

interface ResolveResult {
  url: string;
  format?: string | null;
  shortCircuit?: boolean;
}

/** Module hook: resolve as usual, then mark ES-module-syntax user files in CommonJS packages as modules. */
export async function resolve(
  specifier: string,
  context: { parentURL?: string; conditions?: string[] },
  next: (specifier: string, context: unknown) => Promise<ResolveResult>,
): Promise<ResolveResult> {
  const resolved = await next(specifier, context);
  if (resolved.format === "module" || resolved.format === "builtin" || resolved.format === "json" || resolved.format === "wasm") return resolved;
  const format = esmFormatFor(resolved.url);
  return format ? { ...resolved, format } : resolved;
}
