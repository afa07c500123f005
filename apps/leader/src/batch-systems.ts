import {
  addBatchSystemFactory,
  getBatchSystem,
  type BatchSystemFactory,
  type BatchSystemOptionSpec,
} from "@toil/batch-core";
import { SingleMachineBatchSystem } from "@toil/batch-local";
import { SLURM_OPTIONS } from "@toil/batch-slurm";

/**
 * The batch systems built into the leader, each imported only when a run asks for it. Static
 * import specifiers (not names looked up at run time) let the standalone build bundle them.
 */
const BUILTIN_BATCH_SYSTEMS = {
  single_machine: async () => (await import("@toil/batch-local")).default,
  slurm: async () => (await import("@toil/batch-slurm")).default,
} as const satisfies Record<string, BatchSystemFactory>;

/** Names of the batch systems built into the leader. */
export type BuiltinBatchSystemName = keyof typeof BUILTIN_BATCH_SYSTEMS;

/** Names of the batch systems built into the leader, in the order `--help` lists their options. */
export const BUNDLED_BATCH_SYSTEMS = Object.keys(BUILTIN_BATCH_SYSTEMS) as BuiltinBatchSystemName[];

let registered = false;

/** Register the built-in batch systems with the plugin registry (idempotent; loads nothing). */
export function registerBundledBatchSystems(): void {
  if (registered) return;
  registered = true;
  for (const name of BUNDLED_BATCH_SYSTEMS) addBatchSystemFactory(name, BUILTIN_BATCH_SYSTEMS[name]);
}

/** Options declared by a batch system (empty if it cannot be loaded: the run reports that later). */
async function batchSystemOptionSpecs(name: string): Promise<readonly BatchSystemOptionSpec[]> {
  registerBundledBatchSystems();
  try {
    const cls = await getBatchSystem(name);
    return cls.options ?? [];
  } catch {
    return [];
  }
}

/**
 * Options of the bundled batch systems, without loading anything (what `Toil.parseArgs` accepts
 * besides the core options; a plugin's options need `Toil.parseArgsAsync`).
 */
export function bundledOptionSpecs(): BatchSystemOptionSpec[] {
  const out: BatchSystemOptionSpec[] = [];
  for (const spec of [...SingleMachineBatchSystem.options, ...SLURM_OPTIONS]) {
    if (!out.some((s) => s.name === spec.name)) out.push(spec);
  }
  return out;
}

/**
 * Options a command line may use, as `toil run` accepts them: the bundled batch systems' and, when
 * `--batchSystem` names a plugin, that plugin's (it is loaded to find them).
 */
export async function optionSpecsForArgv(argv: readonly string[]): Promise<BatchSystemOptionSpec[]> {
  const specs = bundledOptionSpecs();
  const named = batchSystemFromArgv(argv);
  if (named && !(BUNDLED_BATCH_SYSTEMS as readonly string[]).includes(named)) {
    for (const spec of await batchSystemOptionSpecs(named)) if (!specs.some((s) => s.name === spec.name)) specs.push(spec);
  }
  return specs;
}

/** The batch system named on a command line (`--batchSystem X` / `--batchSystem=X`), env-free pre-scan. */
export function batchSystemFromArgv(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") break;
    if (a === "--batchSystem") return argv[i + 1];
    if (a.startsWith("--batchSystem=")) return a.slice("--batchSystem=".length);
  }
  return undefined;
}
