import { describeBatchSystemConformance } from "@toil/batch-core/testing";
import { SingleMachineBatchSystem } from "../src/index.js";

// Every command runs as a fresh process.
describeBatchSystemConformance(
  "single_machine (fresh processes)",
  (ctx) => new SingleMachineBatchSystem(ctx.config, ctx.maxCores, ctx.maxMemory, ctx.maxDisk, { warmWorkers: false, killGraceSeconds: 0.5, logger: () => {} }),
);
