/**
 * The batch systems built into the leader and the options they add. This module loads none of
 * them: `toil --help` and the operating commands take the option tables from the packages' light
 * `options` entries; the registry (@toil/batch-core) is in ./batch-registry.ts, loaded by a run.
 */
import type { BatchSystemFactory, BatchSystemOptionSpec } from "@toil/batch-core";
import { SINGLE_MACHINE_OPTIONS } from "@toil/batch-local/options";
import { SLURM_OPTIONS } from "@toil/batch-slurm/options";
import { batchSystemFromArgv } from "./cli/argv-scan.js";

/**
 * The batch systems built into the leader, each imported only when a run asks for it. Static
 * import specifiers (not names looked up at run time) let the standalone build bundle them.
 */
export const BUILTIN_BATCH_SYSTEMS = {
  single_machine: async () => (await import("@toil/batch-local")).default,
  slurm: async () => (await import("@toil/batch-slurm")).default,
} as const satisfies Record<string, BatchSystemFactory>;

/** Names of the batch systems built into the leader. */
export type BuiltinBatchSystemName = keyof typeof BUILTIN_BATCH_SYSTEMS;

/** Names of the batch systems built into the leader, in the order `--help` lists their options. */
export const BUNDLED_BATCH_SYSTEMS = Object.keys(BUILTIN_BATCH_SYSTEMS) as BuiltinBatchSystemName[];

/** Options declared by a batch system; a plugin is loaded to find them (empty if it cannot be: the run reports that later). */
async function batchSystemOptionSpecs(name: string): Promise<readonly BatchSystemOptionSpec[]> {
  if (name === "single_machine") return SINGLE_MACHINE_OPTIONS;
  if (name === "slurm") return SLURM_OPTIONS;
  // A plugin is found by name; the built-ins need not be registered for that.
  const { getBatchSystem } = await import("@toil/batch-core");
  try {
    return (await getBatchSystem(name)).options ?? [];
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
  for (const spec of [...SINGLE_MACHINE_OPTIONS, ...SLURM_OPTIONS]) {
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
