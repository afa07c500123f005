import { packageProject } from "../../tooling/vitest.shared.js";

export default packageProject("@toil/cwl", { testTimeout: 120_000 });
