import { describeBatchSystemConformance } from "@toil/batch-core/testing";
import { SingleMachineBatchSystem } from "../src/index.js";

// The kit's job script exports runWarmCommand, so its commands run in warm worker hosts.
describeBatchSystemConformance(
  "single_machine (warm worker hosts)",
  (ctx) => new SingleMachineBatchSystem(ctx.config, ctx.maxCores, ctx.maxMemory, ctx.maxDisk, { warmWorkers: true, killGraceSeconds: 0.5, logger: () => {} }),
);
