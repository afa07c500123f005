import { packageProject } from "../vitest.shared.js";

// The required CWL conformance tests run the real toil-cwl-runner, a process per test.
export default packageProject("@toil/cwl-conformance", { testTimeout: 900_000 });
