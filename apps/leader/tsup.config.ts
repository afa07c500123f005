import { copyFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { defineConfig } from "tsup";

/** The warm-host script of @toil/batch-local must sit in `runtime/` next to the bundled code. */
function copyWarmHost(): void {
  const pkgDir = path.join("node_modules", "@toil", "batch-local");
  mkdirSync("dist/standalone/runtime", { recursive: true });
  copyFileSync(path.join(pkgDir, "runtime", "warm-host.mjs"), "dist/standalone/runtime/warm-host.mjs");
}

export default defineConfig([
  {
    // The package build: dependencies stay external (installed next to it).
    entry: ["src/index.ts", "src/cli.ts", "src/worker.ts"],
    format: ["esm"],
    dts: { entry: ["src/index.ts"] },
    clean: true,
    target: "node20",
    sourcemap: true,
    keepNames: true,
  },
  {
    // The standalone build: everything bundled except tsx (only needed for .ts workflow files).
    entry: {
      toil: "src/standalone/toil.ts",
      worker: "src/standalone/worker.ts",
      job: "src/standalone/job.ts",
      leader: "src/standalone/leader.ts",
      hooks: "src/standalone/hooks.ts",
    },
    outDir: "dist/standalone",
    format: ["esm"],
    dts: false,
    clean: true,
    target: "node20",
    sourcemap: false,
    keepNames: true,
    splitting: true,
    noExternal: [/^(?!tsx)/],
    external: ["tsx", "tsx/esm/api", "playwright-core"],
    banner: { js: "import { createRequire as __toilCreateRequire } from 'node:module'; const require = __toilCreateRequire(import.meta.url);" },
    onSuccess: async () => copyWarmHost(),
  },
]);
