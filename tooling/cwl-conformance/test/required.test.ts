/**
 * The `required` tests of the CWL v1.2 conformance suite (all 84), run against the built
 * toil-cwl-runner. Exit 33 (unsupported) fails a required test.
 */
import { selectTests } from "../src/suite.js";
import { describeConformance, suite } from "./conformance-cases.js";

const { file, present, tests } = suite();
describeConformance("CWL v1.2 conformance: required tests", file, present, selectTests(tests, { tags: ["required"] }), false, 84);
