import {
  addBatchSystemFactory,
  getBatchSystem,
  type BatchSystemClass,
  type BatchSystemOptionSpec,
} from "@toil/batch-core";

let registered = false;

/**
 * Register the bundled batch systems with static imports, so they are found even when the leader
 * runs from a bundle without a node_modules tree next to it.
 */
export function registerBundledBatchSystems(): void {
  if (registered) return;
  registered = true;
  addBatchSystemFactory("single_machine", async () => (await import("@toil/batch-local")).default as unknown as BatchSystemClass);
  addBatchSystemFactory("slurm", async () => {
    const mod = (await import("@toil/batch-slurm")) as unknown as { default?: BatchSystemClass };
    if (!mod.default) throw new Error("The slurm batch system is not available in this build.");
    return mod.default;
  });
}

/** Options declared by a batch system (empty if it cannot be loaded: the run reports that later). */
export async function batchSystemOptionSpecs(name: string): Promise<readonly BatchSystemOptionSpec[]> {
  registerBundledBatchSystems();
  try {
    const cls = await getBatchSystem(name);
    return cls.options ?? [];
  } catch {
    return [];
  }
}

/** Options of every bundled batch system (for `--help` and `toil config`). */
export async function allBundledOptionSpecs(): Promise<BatchSystemOptionSpec[]> {
  const out: BatchSystemOptionSpec[] = [];
  const seen = new Set<string>();
  for (const name of ["single_machine", "slurm"]) {
    for (const spec of await batchSystemOptionSpecs(name)) {
      if (seen.has(spec.name)) continue;
      seen.add(spec.name);
      out.push(spec);
    }
  }
  return out;
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
