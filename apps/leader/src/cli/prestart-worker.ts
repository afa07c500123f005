/**
 * `toil run` with the single-machine batch system starts its first warm worker host before it loads
 * anything else, so that the host's node start-up and its import of the worker overlap with the
 * leader's own start-up, the workflow's loading and the store's creation (see `prestartWarmHost` in
 * @toil/batch-local). The command line decides here, before the configuration is resolved; the run
 * stops the host once its configuration says it will not use it (`settlePrestartedWorker`).
 */
import type { Config } from "@toil/job";
import { batchSystemFromArgv } from "./argv-scan.js";

/**
 * Variables the leader sets for its workers that neither node nor the worker reads when it starts
 * (each job's environment carries them): a prestarted host may lack them. The trusted module roots
 * (`TRUSTED_MODULE_ROOTS_ENV` of @toil/job, named here so this module loads nothing heavy).
 */
export const PRESTART_LATE_ENV: readonly string[] = ["TOIL_TRUSTED_MODULE_ROOTS"];

const NO_PRESTART_FLAGS = new Set(["--help", "-h", "--debugWorker", "--no-warmWorkers"]);

/** Whether a `toil` command line may run workflow jobs in warm hosts of the single-machine batch system. */
export function mayUseWarmHosts(argv: readonly string[]): boolean {
  if (argv[0] !== "run") return false;
  for (const a of argv) {
    if (a === "--") break;
    if (NO_PRESTART_FLAGS.has(a) || a.startsWith("--warmWorkers=")) return false;
  }
  const named = batchSystemFromArgv(argv);
  return named === undefined || named === "single_machine";
}

/** Start the first warm host if the command line may use one (nothing happens if it cannot be started). */
export async function prestartWorkerFor(argv: readonly string[]): Promise<void> {
  if (!mayUseWarmHosts(argv)) return;
  try {
    const [{ prestartWarmHost }, { workerScriptPath }] = await Promise.all([import("@toil/batch-local/prestart"), import("../worker-script.js")]);
    prestartWarmHost(workerScriptPath(), PRESTART_LATE_ENV);
  } catch {
    // The batch system starts its hosts itself.
  }
}

/**
 * Once the run's configuration is known: start the first warm host now if the command line did not
 * (a config file chose the batch system), or stop a prestarted one the run will not use.
 */
export async function settlePrestartedWorker(config: Config): Promise<void> {
  try {
    const { discardPrestartedHost, prestartWarmHost } = await import("@toil/batch-local/prestart");
    if (config.batchSystem !== "single_machine" || config.debugWorker || config.batchOptions?.warmWorkers === false) discardPrestartedHost();
    else prestartWarmHost((await import("../worker-script.js")).workerScriptPath(), PRESTART_LATE_ENV);
  } catch {
    // The batch system starts its hosts itself.
  }
}
