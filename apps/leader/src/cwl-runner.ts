#!/usr/bin/env node
/**
 * The `toil-cwl-runner` command: `toil-cwl-runner [options] PROCESS [JOB_ORDER]` (the standard CWL
 * runner interface; also `toil cwl`).
 */
import { allBundledOptionSpecs, batchSystemFromArgv, batchSystemOptionSpecs } from "./batch-systems.js";
import { cwlMain } from "./commands/cwl.js";

const argv = process.argv.slice(2);
const specs = [...(await allBundledOptionSpecs())];
const named = batchSystemFromArgv(argv);
if (named && named !== "single_machine" && named !== "slurm") {
  for (const spec of await batchSystemOptionSpecs(named)) if (!specs.some((s) => s.name === spec.name)) specs.push(spec);
}
const code = await cwlMain(argv, { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() }, specs);
process.exitCode = code;
// Leave once output is flushed, even if a plugin left a handle open.
setTimeout(() => process.exit(code), 200).unref();
