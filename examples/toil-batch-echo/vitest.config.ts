import { packageProject } from "../../tooling/vitest.shared.js";

export default packageProject("toil-batch-echo", { testTimeout: 60_000 });
