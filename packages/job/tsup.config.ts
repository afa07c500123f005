import { packageConfig } from "../../tooling/tsup-preset.js";

export default packageConfig({
  entry: ["src/index.ts", "src/core.ts", "src/module-hooks.ts"],
  // zod is bundled (only the parts the config schema uses): its package is about a hundred ESM
  // files, and loading them cost every CLI, worker and warm host start ~85 ms more than this.
  noExternal: ["zod"],
});
