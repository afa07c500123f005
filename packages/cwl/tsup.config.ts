import { packageConfig } from "../../tooling/tsup-preset.js";

export default packageConfig({
  // `jobs` is the module workers import by reference to rebuild CWL jobs (see src/jobs/index.ts).
  entry: { index: "src/index.ts", "cwl-jobs": "src/jobs/index.ts" },
});
