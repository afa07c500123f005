#!/usr/bin/env node
/**
 * The `toil` command: `toil run flow.ts --jobStore ./js`, `toil config FILE`, `toil status`,
 * `toil clean`, `toil kill`.
 */
import { prestartWorkerFor } from "./cli/prestart-worker.js";
import { usesBatchSystemOptions } from "./cli/argv-scan.js";
import { keepRunningWhenOutputCloses } from "./cli/closed-output.js";

keepRunningWhenOutputCloses();

const argv = process.argv.slice(2);
// `toil run`: the first warm worker host starts before the rest of the CLI loads.
await prestartWorkerFor(argv);
// The bundled batch systems' options come from data modules; only a plugin named by --batchSystem is loaded.
const specs = usesBatchSystemOptions(argv) ? await (await import("./batch-systems.js")).optionSpecsForArgv(argv) : [];
const { main } = await import("./cli/program.js");
const code = await main(argv, { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() }, specs);
process.exitCode = code;
// Leave once output is flushed, even if a plugin left a handle open.
setTimeout(() => process.exit(code), 200).unref();
