/** How a command-line or environment value is read. */
export type OptionKind = "boolean" | "string" | "path" | "size" | "number" | "int" | "enum" | "setEnv" | "accelerators";

/** Description of one run option: drives the CLI flags, environment variables and the commented config file. */
export interface ConfigOptionSpec {
  /** Key in the config object (and in a config file). */
  name: string;
  /** How a command-line or environment value is read. */
  kind: OptionKind;
  /** One-line help. */
  help: string;
  /** Section heading in `toil config` output and `--help`. */
  section: string;
  /** Environment variable that sets this option (lower precedence than a flag). */
  env?: string;
  /** Flag name when it differs from `name` (without the leading dashes). */
  flag?: string;
  /** Allowed values for kind "enum". */
  choices?: readonly string[];
  /** Default for plugin options (core options take theirs from the schema). */
  default?: unknown;
  /** Placeholder shown in help, e.g. "BYTES". */
  valueName?: string;
}
