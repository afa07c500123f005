export { figuresFile, recordFigure, type Figure } from "./figures.js";
export { REPO_ROOT, TOIL_CLI, processesMatching, requireBuild, runToil, tempDir, type RunOptions, type RunResult } from "./toil.js";
