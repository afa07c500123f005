import { BatchSystemOptionError } from "./errors.js";

/** How a plugin option's text value (from a flag or environment variable) is read. */
export type BatchSystemOptionType = "string" | "number" | "integer" | "boolean" | "list";

/**
 * An option a batch plugin adds to the workflow configuration: a command-line flag, an optional
 * environment variable and a default. The resolved value lands in the config under `name`.
 *
 * @example
 * { name: "slurmTime", flag: "--slurmTime", env: "TOIL_SLURM_TIME", type: "string",
 *   description: "Default time limit of Slurm jobs ([DD-]HH:MM:SS)" }
 */
export interface BatchSystemOptionSpec {
  /** Config key, camelCase (e.g. "slurmPartition"). */
  name: string;
  /** Command-line flag, including dashes (e.g. "--slurmPartition"). */
  flag: string;
  /** One-line help text. */
  description: string;
  /** How text values are parsed (default "string"). */
  type?: BatchSystemOptionType;
  /** Value when neither the flag nor the environment variable is given. */
  default?: string | number | boolean | readonly string[];
  /** Environment variable consulted when the flag is absent. */
  env?: string;
  /** Custom parser for text values (overrides `type`); throw to reject. */
  parse?: (raw: string) => unknown;
  /** Validation of the parsed value; throw (or return a message) to reject. */
  check?: (value: unknown) => void | string;
}

const TRUE = new Set(["1", "true", "yes", "on", "y"]);
const FALSE = new Set(["0", "false", "no", "off", "n", ""]);

/** Parses one option's text value per its spec. */
export function parseBatchSystemOptionValue(spec: BatchSystemOptionSpec, raw: string, origin: string): unknown {
  try {
    if (spec.parse) return spec.parse(raw);
    switch (spec.type ?? "string") {
      case "string":
        return raw;
      case "list":
        return raw.split(",").map((s) => s.trim()).filter(Boolean);
      case "boolean": {
        const v = raw.trim().toLowerCase();
        if (TRUE.has(v)) return true;
        if (FALSE.has(v)) return false;
        throw new Error(`expected a boolean (true/false), got "${raw}"`);
      }
      case "number":
      case "integer": {
        const n = Number(raw);
        if (raw.trim() === "" || !Number.isFinite(n)) throw new Error(`expected a number, got "${raw}"`);
        if (spec.type === "integer" && !Number.isInteger(n)) throw new Error(`expected an integer, got "${raw}"`);
        return n;
      }
    }
  } catch (err) {
    if (err instanceof BatchSystemOptionError) throw err;
    throw new BatchSystemOptionError(
      `Bad value for ${spec.flag} (from ${origin}): ${(err as Error).message}. ${spec.description}`,
      { cause: err },
    );
  }
}

/**
 * Resolves plugin options into config values. Precedence: an explicitly given value (from a
 * flag or config file, keyed by `name`) > the environment variable > the default. Options with
 * none of these are left out. Given values that are strings are parsed per the spec.
 */
export function resolveBatchSystemOptions(
  specs: readonly BatchSystemOptionSpec[],
  given: Readonly<Record<string, unknown>> = {},
  env: Readonly<Record<string, string | undefined>> = process.env,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const spec of specs) {
    let value: unknown;
    let origin: string;
    if (given[spec.name] !== undefined) {
      value = given[spec.name];
      origin = spec.flag;
      if (typeof value === "string") value = parseBatchSystemOptionValue(spec, value, origin);
    } else if (spec.env && env[spec.env] !== undefined) {
      origin = `$${spec.env}`;
      value = parseBatchSystemOptionValue(spec, env[spec.env] as string, origin);
    } else if (spec.default !== undefined) {
      origin = "default";
      value = spec.default;
    } else {
      continue;
    }
    if (spec.check) {
      let problem: void | string;
      try {
        problem = spec.check(value);
      } catch (err) {
        problem = (err as Error).message;
      }
      if (typeof problem === "string") {
        throw new BatchSystemOptionError(`Bad value for ${spec.flag} (from ${origin}): ${problem}. ${spec.description}`);
      }
    }
    out[spec.name] = value;
  }
  return out;
}

/** Checks a plugin's option declarations (unique names and flags, flags start with "--"). */
export function validateBatchSystemOptionSpecs(specs: readonly BatchSystemOptionSpec[], plugin: string): void {
  const names = new Set<string>();
  const flags = new Set<string>();
  for (const s of specs) {
    if (!s || typeof s.name !== "string" || !s.name) {
      throw new BatchSystemOptionError(`Batch system "${plugin}" declares an option without a name.`);
    }
    if (typeof s.flag !== "string" || !s.flag.startsWith("--")) {
      throw new BatchSystemOptionError(`Option "${s.name}" of batch system "${plugin}" needs a flag starting with "--".`);
    }
    if (names.has(s.name)) throw new BatchSystemOptionError(`Batch system "${plugin}" declares option "${s.name}" twice.`);
    if (flags.has(s.flag)) throw new BatchSystemOptionError(`Batch system "${plugin}" declares flag ${s.flag} twice.`);
    names.add(s.name);
    flags.add(s.flag);
  }
}
