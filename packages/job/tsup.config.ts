import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts", "src/module-hooks.ts"],
  format: ["esm"],
  dts: true,
  clean: true,
  target: "node20",
  sourcemap: true,
  // zod is bundled (only the parts the config schema uses): its package is about a hundred ESM
  // files, and loading them cost every CLI, worker and warm host start ~85 ms more than this.
  noExternal: ["zod"],
});
