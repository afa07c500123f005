/**
 * Where the workers of a workflow keep their files on a machine. The names are shared with the
 * batch systems' worker cleanup, which removes them (`workflowDirName` of @toil/batch-core), and
 * with the leader, which runs the deferred functions of workers that died.
 */
import os from "node:os";
import path from "node:path";
import type { Config } from "./config/index.js";

/**
 * The workflow's directory on this machine, inside the work directory (`--workDir`, else
 * `TOIL_WORKDIR` of `env`, else the system temp directory): `toilwf-<workflowId>`.
 */
export function workerWorkflowDir(config: Config, env: Readonly<Record<string, string | undefined>> = process.env): string {
  const workRoot = config.workDir ?? env.TOIL_WORKDIR ?? os.tmpdir();
  return path.join(workRoot, `toilwf-${config.workflowId ?? "unknown"}`);
}

/**
 * Where the workers of a workflow on this machine keep their node-wide state (deferred functions,
 * cache bookkeeping): under `--coordinationDir` if given, else in the workflow's directory
 * ({@link workerWorkflowDir}). `env` is the workers' environment (for `TOIL_WORKDIR`).
 */
export function workerCoordinationDir(config: Config, env: Readonly<Record<string, string | undefined>> = process.env): string {
  const workflowDir = workerWorkflowDir(config, env);
  return config.coordinationDir ? path.join(config.coordinationDir, path.basename(workflowDir)) : workflowDir;
}
