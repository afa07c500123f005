import { packageConfig } from "../../tooling/tsup-preset.js";

export default packageConfig({
  entry: { index: "src/index.ts", testing: "src/testing/index.ts", options: "src/option-specs.ts" },
  // The testing entry imports vitest, which the package only names as an optional peer.
  external: ["vitest"],
});
