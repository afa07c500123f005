import { type ConfigOptionSpec, type OptionKind, parseOptionText, parsePluginOptions } from "@toil/job";
import { BatchSystemOptionError } from "./errors.js";

/**
 * An option a batch plugin adds to the workflow configuration: a flag (`--<flag ?? name>`), an
 * optional environment variable and a default. This is `@toil/job`'s `ConfigOptionSpec`, so the
 * leader puts plugin options into `config.batchOptions` exactly like its own options.
 *
 * @example
 * { name: "slurmTime", kind: "string", section: "Slurm", env: "TOIL_SLURM_TIME",
 *   help: "Default time limit of Slurm jobs ([DD-]HH:MM:SS)" }
 */
export type BatchSystemOptionSpec = ConfigOptionSpec;
/** Kinds of option values (`boolean`, `string`, `path`, `size`, `number`, `int`, `enum`, ...). */
export type BatchSystemOptionKind = OptionKind;

const KINDS: readonly OptionKind[] = ["boolean", "string", "path", "size", "number", "int", "enum", "setEnv", "accelerators"];

/**
 * Resolve plugin options into config values (what goes into `config.batchOptions`).
 * Precedence: an explicitly given value (flag or config file, keyed by option name) > the
 * option's environment variable > its default. Values are checked and converted per `kind`;
 * a bad value throws `ConfigError` naming the option.
 */
export function resolveBatchSystemOptions(
  specs: readonly BatchSystemOptionSpec[],
  given: Readonly<Record<string, unknown>> = {},
  env: Readonly<Record<string, string | undefined>> = process.env,
): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const spec of specs) {
    if (given[spec.name] !== undefined) values[spec.name] = given[spec.name];
    else if (spec.env && env[spec.env] !== undefined) values[spec.name] = parseOptionText(spec, env[spec.env] as string);
  }
  return parsePluginOptions(specs, values);
}

/** Check a plugin's option declarations: names and flags unique, known kinds, help text present. */
export function validateBatchSystemOptionSpecs(specs: readonly BatchSystemOptionSpec[], plugin: string): void {
  const names = new Set<string>();
  const flags = new Set<string>();
  for (const s of specs) {
    if (!s || typeof s.name !== "string" || !s.name) {
      throw new BatchSystemOptionError(`Batch system "${plugin}" declares an option without a name.`);
    }
    const flag = s.flag ?? s.name;
    if (flag.startsWith("-")) {
      throw new BatchSystemOptionError(`Option "${s.name}" of batch system "${plugin}": write its flag without leading dashes ("${flag.replace(/^-+/, "")}").`);
    }
    if (!KINDS.includes(s.kind)) {
      throw new BatchSystemOptionError(`Option "${s.name}" of batch system "${plugin}" has unknown kind "${String(s.kind)}"; use one of ${KINDS.join(", ")}.`);
    }
    if (typeof s.help !== "string" || !s.help) {
      throw new BatchSystemOptionError(`Option "${s.name}" of batch system "${plugin}" needs a help text.`);
    }
    if (names.has(s.name)) throw new BatchSystemOptionError(`Batch system "${plugin}" declares option "${s.name}" twice.`);
    if (flags.has(flag)) throw new BatchSystemOptionError(`Batch system "${plugin}" declares flag --${flag} twice.`);
    names.add(s.name);
    flags.add(flag);
  }
}
