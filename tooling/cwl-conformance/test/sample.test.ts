/**
 * A fixed sample of the CWL v1.2 conformance suite beyond the required tests: the first 3 tests of
 * each tag (`sampleByTag`; the list is in this package's README), run against the built
 * toil-cwl-runner. A test the runner reports unsupported (exit 33) is skipped with its reason.
 */
import { requiresDocker } from "../src/containers.js";
import { sampleByTag } from "../src/suite.js";
import { describeConformance, suite } from "./conformance-cases.js";

const { file, present, tests } = suite();
describeConformance("CWL v1.2 conformance: 3 tests of each tag", file, present, sampleByTag(tests, 3, (t) => requiresDocker(t.tool)), true);
