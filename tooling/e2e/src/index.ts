export { recordFigure } from "./figures.js";
export { REPO_ROOT, TOIL_CLI, requireBuild, runToil, tempDir, type RunResult } from "./toil.js";
