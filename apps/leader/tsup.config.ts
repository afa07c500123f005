import { copyFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { defineConfig, type Options } from "tsup";

/**
 * The scripts the batch systems start in other processes must sit in `runtime/` next to the
 * bundled code: @toil/batch-local's warm host, @toil/batch-slurm's worker host and pack runner
 * (and the module they share).
 */
function copyRuntimeScripts(): void {
  mkdirSync("dist/standalone/runtime", { recursive: true });
  const scripts: [string, string[]][] = [
    ["batch-local", ["warm-host.mjs"]],
    ["batch-slurm", ["worker-host.mjs", "pack-runner.mjs", "run-job.mjs", "cgroup-memory.mjs"]],
  ];
  for (const [pkg, names] of scripts) {
    for (const name of names) copyFileSync(path.join("node_modules", "@toil", pkg, "runtime", name), `dist/standalone/runtime/${name}`);
  }
}

/**
 * In the standalone build, the packages' `import("tsx/esm/api")` (how they load .ts files) becomes
 * src/standalone/tsx-api.ts: the bundle's own hooks strip types, so tsx and esbuild's native
 * binary are not needed.
 */
const tsxInBundle: NonNullable<Options["esbuildPlugins"]>[number] = {
  name: "toil-tsx-in-bundle",
  setup(build) {
    build.onResolve({ filter: /^tsx(\/.*)?$/ }, () => ({ path: path.resolve("src/standalone/tsx-api.ts") }));
  },
};

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
    // The standalone build: everything bundled, including the TypeScript loader (see src/standalone/hooks.ts):
    // it runs with only Node installed, .ts workflow files included.
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
    noExternal: [/./],
    external: ["playwright-core"],
    esbuildPlugins: [tsxInBundle],
    banner: { js: "import { createRequire as __toilCreateRequire } from 'node:module'; const require = __toilCreateRequire(import.meta.url);" },
    onSuccess: async () => copyRuntimeScripts(),
  },
]);
