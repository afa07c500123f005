import { describeBatchSystemConformance } from "@toil/batch-core/testing";
import EchoBatchSystem from "../src/index.js";

// The whole kit: limits, kills of escaped descendants, environment, hostile arguments.
process.env.TOIL_BATCH_ECHO_LOG ??= "/dev/null";
describeBatchSystemConformance("toil-batch-echo", EchoBatchSystem);
