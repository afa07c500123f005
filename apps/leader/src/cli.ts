#!/usr/bin/env node
/**
 * The `toil` command: `toil run flow.ts --jobStore ./js`, `toil config FILE`, `toil status`,
 * `toil clean`, `toil kill`.
 */
import { optionSpecsForArgv } from "./batch-systems.js";
import { main } from "./cli/program.js";
import { keepRunningWhenOutputCloses } from "./cli/closed-output.js";

keepRunningWhenOutputCloses();

const argv = process.argv.slice(2);
// The bundled batch systems' options come from data modules; only a plugin named by --batchSystem is loaded.
const specs = await optionSpecsForArgv(argv);
const code = await main(argv, { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() }, specs);
process.exitCode = code;
// Leave once output is flushed, even if a plugin left a handle open.
setTimeout(() => process.exit(code), 200).unref();
