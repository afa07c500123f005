import { coreOptionSpecs, type ConfigOptionSpec } from "@toil/job";
import type { BatchSystemOptionSpec } from "@toil/batch-core";

/** One option the CLI knows about: a core option, or one declared by a batch-system plugin. */
export interface CliOption {
  spec: ConfigOptionSpec;
  /** Flag without dashes. */
  flag: string;
  /** Set for options declared by a batch-system plugin (their values go to `config.batchOptions`). */
  plugin?: BatchSystemOptionSpec;
}

/** Core options plus the given plugin options, as the CLI sees them. */
export function cliOptions(pluginSpecs: readonly BatchSystemOptionSpec[] = []): CliOption[] {
  const out: CliOption[] = coreOptionSpecs.map((spec) => ({ spec, flag: spec.flag ?? spec.name }));
  const taken = new Set(out.map((o) => o.flag));
  for (const plugin of pluginSpecs) {
    const flag = plugin.flag.replace(/^-+/, "");
    if (taken.has(flag)) continue;
    taken.add(flag);
    out.push({
      flag,
      plugin,
      spec: {
        name: plugin.name,
        kind: plugin.type === "boolean" ? "boolean" : plugin.type === "integer" ? "int" : plugin.type === "number" ? "number" : "string",
        help: plugin.description,
        section: "Batch system",
        ...(plugin.env ? { env: plugin.env } : {}),
        ...(plugin.default !== undefined ? { default: plugin.default } : {}),
      },
    });
  }
  return out;
}
