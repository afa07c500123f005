import type { ConfigOptionSpec } from "@toil/job";
import { coreOptionSpecs } from "./core-options.js";

/** One option the CLI knows about: a core option, or one declared by a batch-system plugin. */
export interface CliOption {
  spec: ConfigOptionSpec;
  /** Flag without dashes. */
  flag: string;
  /** True for options declared by a batch-system plugin (their values go to `config.batchOptions`). */
  plugin: boolean;
}

/** Core options plus the given plugin options, as the CLI sees them. */
export function cliOptions(pluginSpecs: readonly ConfigOptionSpec[] = []): CliOption[] {
  const out: CliOption[] = coreOptionSpecs.map((spec) => ({ spec, flag: spec.flag ?? spec.name, plugin: false }));
  const taken = new Set(out.map((o) => o.flag));
  for (const spec of pluginSpecs) {
    const flag = (spec.flag ?? spec.name).replace(/^-+/, "");
    if (taken.has(flag)) continue;
    taken.add(flag);
    out.push({ flag, plugin: true, spec: { ...spec, section: spec.section || "Batch system" } });
  }
  return out;
}
