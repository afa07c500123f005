export { REPO_ROOT, requireBuild, type RunResult, runToil, TOIL_CLI, tempDir } from "@toil/test-support";
