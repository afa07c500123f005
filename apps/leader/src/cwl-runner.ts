#!/usr/bin/env node
/**
 * The `toil-cwl-runner` command: `toil-cwl-runner [options] PROCESS [JOB_ORDER]` (the standard CWL
 * runner interface; also `toil cwl`).
 */
import { optionSpecsForArgv } from "./batch-systems.js";
import { cwlMain } from "./commands/cwl.js";

const argv = process.argv.slice(2);
// The bundled batch systems' options come from data modules; only a plugin named by --batchSystem is loaded.
const specs = await optionSpecsForArgv(argv);
const code = await cwlMain(argv, { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() }, specs);
process.exitCode = code;
// Leave once output is flushed, even if a plugin left a handle open.
setTimeout(() => process.exit(code), 200).unref();
