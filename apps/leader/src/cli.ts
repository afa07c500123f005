#!/usr/bin/env node
/**
 * The `toil` command: `toil run flow.ts --jobStore ./js`, `toil config FILE`, `toil status`,
 * `toil clean`, `toil kill`.
 */
import { allBundledOptionSpecs, batchSystemFromArgv, batchSystemOptionSpecs } from "./batch-systems.js";
import { main } from "./cli/program.js";
import { keepRunningWhenOutputCloses } from "./cli/closed-output.js";

keepRunningWhenOutputCloses();

const argv = process.argv.slice(2);
const specs = [...(await allBundledOptionSpecs())];
const named = batchSystemFromArgv(argv);
if (named && named !== "single_machine" && named !== "slurm") {
  for (const spec of await batchSystemOptionSpecs(named)) if (!specs.some((s) => s.name === spec.name)) specs.push(spec);
}
const code = await main(argv, { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() }, specs);
process.exitCode = code;
// Leave once output is flushed, even if a plugin left a handle open.
setTimeout(() => process.exit(code), 200).unref();
