import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

let cached: string | undefined;

/**
 * Absolute path of the `toil-worker` script the leader issues. A bundled leader ships it next to
 * itself (`worker.js`); otherwise it is what `@toil/worker/bin` resolves to (its built `dist/cli.js`).
 * `TOIL_WORKER_SCRIPT` overrides both.
 */
export function workerScriptPath(): string {
  if (cached) return cached;
  const override = process.env.TOIL_WORKER_SCRIPT;
  if (override) return (cached = path.resolve(override));
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const candidate of [path.join(here, "worker.js"), path.join(here, "..", "dist", "worker.js")]) {
    if (existsSync(candidate)) return (cached = candidate);
  }
  try {
    // `@toil/worker/bin` is the built script under every condition (never the TypeScript source).
    const script = fileURLToPath(import.meta.resolve("@toil/worker/bin"));
    if (existsSync(script)) return (cached = script);
  } catch {
    // not installed next to this leader: fall through
  }
  throw new Error(
    "Cannot find the toil-worker script: build it (`pnpm --filter @toil/worker build`) or set TOIL_WORKER_SCRIPT to its path.",
  );
}
