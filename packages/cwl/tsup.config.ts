import { defineConfig } from "tsup";

export default defineConfig({
  // `jobs` is the module workers import by reference to rebuild CWL jobs (see src/jobs/index.ts).
  entry: { index: "src/index.ts", "cwl-jobs": "src/jobs/index.ts" },
  format: ["esm"],
  dts: true,
  clean: true,
  target: "node20",
  sourcemap: true,
});
