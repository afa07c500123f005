import { packageProject } from "../../tooling/vitest.shared.js";

// Every test here starts real `toil` processes; on a loaded CI machine one CLI start can take seconds.
export default packageProject("@toil/leader", { testTimeout: 120_000 });
