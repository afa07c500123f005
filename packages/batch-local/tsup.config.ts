import { defineConfig } from "tsup";

export default defineConfig({
  entry: { index: "src/index.ts", options: "src/options.ts", prestart: "src/prestart-entry.ts" },
  format: ["esm"],
  dts: true,
  clean: true,
  target: "node20",
  sourcemap: true,
});
