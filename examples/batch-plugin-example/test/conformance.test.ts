import { describeBatchSystemConformance } from "@toil/batch-core/testing";
import ExampleBatchSystem from "../src/index.js";

// The example runs everything at once and only kills process groups, so it opts out of the
// concurrency-limit and escaped-descendant checks.
describeBatchSystemConformance("toil-batch-example", ExampleBatchSystem, {
  enforcesConcurrency: false,
  localProcesses: false,
});
