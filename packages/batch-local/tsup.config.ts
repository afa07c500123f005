import { packageConfig } from "../../tooling/tsup-preset.js";

export default packageConfig({ entry: { index: "src/index.ts", options: "src/options.ts", prestart: "src/prestart-entry.ts" } });
