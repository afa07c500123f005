import { packageProject } from "../vitest.shared.js";

// Every suite here drives real `toil` processes, kills them and restarts them.
export default packageProject("@toil/e2e", { testTimeout: 600_000 });
