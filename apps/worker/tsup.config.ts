import { packageConfig } from "../../tooling/tsup-preset.js";

export default packageConfig({ entry: ["src/index.ts", "src/cli.ts"] });
