import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Absolute path of one of this package's scripts in `runtime/` (the pack runner, the worker
 * host): next to the package's `dist/` or `src/`, or, in a bundle, in a `runtime/` directory
 * next to the bundled code or above it.
 */
export function runtimeScript(name: string): string {
  const beside = fileURLToPath(new URL(`../runtime/${name}`, import.meta.url));
  if (existsSync(beside)) return beside;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, "runtime", name);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return beside;
    dir = parent;
  }
}
