import { packageProject } from "../../tooling/vitest.shared.js";

// Real-cluster tests wait for Slurm's scheduler (about a second per job start), more on a busy machine.
export default packageProject("@toil/batch-slurm", { testTimeout: 180_000 });
