/**
 * Where the workers of a workflow keep their files on a machine. The names are shared with the
 * batch systems' worker cleanup, which removes them (`workflowDirName` of @toil/batch-core), and
 * with the leader, which runs the deferred functions of workers that died.
 */
import os from "node:os";
import path from "node:path";
import type { Config } from "./config/index.js";

let tempDirKey: string | undefined;
let tempDir = "";
/**
 * `os.tmpdir()`, remembered while TMPDIR, TMP and TEMP stay as they were: Node reads each of them
 * with a check of the process's credentials (five system calls apiece), and a warm worker asks
 * for every job.
 */
function systemTempDir(): string {
  const key = `${process.env.TMPDIR}\0${process.env.TMP}\0${process.env.TEMP}`;
  if (key !== tempDirKey) {
    tempDir = os.tmpdir();
    tempDirKey = key;
  }
  return tempDir;
}

/**
 * The workflow's directory on this machine, inside the work directory (`--workDir`, else
 * `TOIL_WORKDIR` of `env`, else the system temp directory): `toilwf-<workflowId>`.
 */
export function workerWorkflowDir(config: Config, env: Readonly<Record<string, string | undefined>> = process.env): string {
  const workRoot = config.workDir ?? env.TOIL_WORKDIR ?? systemTempDir();
  return path.join(workRoot, `toilwf-${config.workflowId ?? "unknown"}`);
}

/**
 * Where the workers of a workflow on this machine keep their node-wide state (deferred functions,
 * cache bookkeeping): under `--coordinationDir` if given, else in the workflow's directory
 * ({@link workerWorkflowDir}). `env` is the workers' environment (for `TOIL_WORKDIR`); a caller
 * that has the workflow's directory already passes it as `workflowDir`.
 */
export function workerCoordinationDir(
  config: Config,
  env: Readonly<Record<string, string | undefined>> = process.env,
  workflowDir: string = workerWorkflowDir(config, env),
): string {
  return config.coordinationDir ? path.join(config.coordinationDir, path.basename(workflowDir)) : workflowDir;
}
