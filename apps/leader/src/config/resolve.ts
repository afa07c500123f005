import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import YAML from "yaml";
import {
  ConfigError,
  parseConfig,
  parseOptionText,
  parsePluginOptions,
  parseSetEnv,
  type Config,
  type ConfigOptionSpec,
} from "@toil/job";
import { cliOptions, type CliOption } from "./specs.js";
import { checkJobStoreLocation } from "./jobstore-location.js";

/** Where an option's value came from. */
export type OptionSource = "flag" | "env" | "file" | "default";

/** Where {@link resolveConfig} reads options from. */
export interface ResolveInput {
  /** Values given as command-line flags, keyed by option name (strings, booleans or string arrays as commander gives them). */
  flags?: Record<string, unknown>;
  /** The environment (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** Path of a YAML config file (`--config`). */
  configFile?: string;
  /** Options declared by the chosen batch system. */
  pluginSpecs?: readonly ConfigOptionSpec[];
  /** Directory relative paths are resolved against (default: process.cwd()). */
  cwd?: string;
  /**
   * Check that the job store location is usable (not a file, writable, not a foreign non-empty
   * directory) and throw `ConfigError` saying what to do if not. Default true.
   */
  checkJobStore?: boolean;
}

/** A configuration and where each of its explicit options came from. */
export interface ResolvedConfig {
  /** The validated configuration. */
  config: Config;
  /** Options set explicitly (by flag, environment or file), with their source; restarts overlay exactly these. */
  explicit: Map<string, OptionSource>;
}

/** Turn a job store argument into a locator with an absolute path. */
export function normalizeJobStoreLocator(locator: string, cwd = process.cwd()): string {
  if (locator.startsWith("file:")) return `file:${path.resolve(cwd, locator.slice(5))}`;
  if (!locator.includes(":") || locator.startsWith("/") || locator.startsWith(".")) return path.resolve(cwd, locator);
  return locator;
}

/** Read a YAML config file into a plain mapping (null values mean "not set"). */
export function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? "it does not exist (ENOENT); check the --config path, or write a commented template with `toil config FILE`"
        : code === "EISDIR"
          ? "it is a directory (EISDIR); give the YAML file itself"
          : code === "EACCES" || code === "EPERM"
            ? `it is not readable by this user (${code}); fix its permissions`
            : (code ?? (err as Error).message);
    throw new ConfigError(`Cannot read config file ${file}: ${why}.`);
  }
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (err) {
    throw new ConfigError(
      `Config file ${file} is not valid YAML: ${(err as Error).message.trimEnd()}\nFix the line shown above; \`toil config FILE\` writes a valid template.`,
    );
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== "object" || Array.isArray(doc)) {
    throw new ConfigError(`Config file ${file} must be a mapping of option names to values (as \`toil config FILE\` writes).`);
  }
  return Object.fromEntries(Object.entries(doc as Record<string, unknown>).filter(([, v]) => v !== null && v !== undefined));
}

function closest(name: string, candidates: readonly string[]): string | undefined {
  const lower = name.toLowerCase().replace(/^-+/, "");
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    const d = editDistance(lower, c.toLowerCase());
    if (d < bestScore) {
      bestScore = d;
      best = c;
    }
  }
  return bestScore <= Math.max(2, Math.floor(lower.length / 4)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!;
      dp[j] = Math.min(dp[j]! + 1, dp[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length]!;
}

function envValue(option: CliOption, text: string): unknown {
  if (option.spec.kind === "setEnv") return parseSetEnv(text.split(/[\s,]+/).filter(Boolean));
  return parseOptionText(option.spec, text);
}

function flagValue(option: CliOption, value: unknown, env: NodeJS.ProcessEnv): unknown {
  if (option.spec.kind === "setEnv") return parseSetEnv(Array.isArray(value) ? (value as string[]) : [String(value)], env);
  if (option.spec.kind === "accelerators" && Array.isArray(value)) {
    return (value as string[]).flatMap((v) => parseOptionText(option.spec, v) as unknown[]);
  }
  if (typeof value === "string") return parseOptionText(option.spec, value);
  return value;
}

function fileValue(option: CliOption, value: unknown): unknown {
  const spec: ConfigOptionSpec = option.spec;
  if (spec.kind === "accelerators" && typeof value === "string") return parseOptionText(spec, value);
  if (spec.kind === "setEnv" && Array.isArray(value)) return parseSetEnv(value.map(String));
  if (spec.kind === "size" && typeof value === "string") return parseOptionText(spec, value);
  return value;
}

function sourceLabel(option: CliOption, source: OptionSource, file?: string): string {
  switch (source) {
    case "flag":
      return `--${option.flag}`;
    case "env":
      return `$${option.spec.env}`;
    case "file":
      return file ?? "config file";
    default:
      return "default";
  }
}

/**
 * Build the workflow configuration from flags, environment and a config file.
 * Precedence: flag > environment variable > config file > default.
 */
export function resolveConfig(input: ResolveInput = {}): ResolvedConfig {
  const env = input.env ?? process.env;
  const cwd = input.cwd ?? process.cwd();
  const options = cliOptions(input.pluginSpecs);
  const byName = new Map(options.map((o) => [o.spec.name, o]));
  const flags = input.flags ?? {};
  const fileValues = input.configFile ? readConfigFile(input.configFile) : {};

  // Unknown keys in the file are errors, with a suggestion.
  const known = [...byName.keys()];
  const unknown = Object.keys(fileValues).filter((k) => !byName.has(k));
  if (unknown.length > 0) {
    const lines = unknown.map((k) => {
      const near = closest(k, known);
      return `  ${k}: unknown option${near ? `; did you mean "${near}"?` : ""}`;
    });
    throw new ConfigError(`Invalid config file ${input.configFile}:\n${lines.join("\n")}`);
  }

  const explicit = new Map<string, OptionSource>();
  const core: Record<string, unknown> = {};
  const plugin: Record<string, unknown> = {};
  const sources = new Map<string, string>();
  const problems: string[] = [];
  let givenJobStore: string | undefined;

  for (const option of options) {
    const name = option.spec.name;
    let value: unknown;
    let source: OptionSource = "default";
    try {
      if (flags[name] !== undefined) {
        value = flagValue(option, flags[name], env);
        source = "flag";
      } else if (option.spec.env && env[option.spec.env] !== undefined && env[option.spec.env] !== "") {
        value = envValue(option, env[option.spec.env] as string);
        source = "env";
      } else if (fileValues[name] !== undefined) {
        value = fileValue(option, fileValues[name]);
        source = "file";
      }
    } catch (err) {
      const msg = (err as Error).message.replace(/^--\S+: /, "");
      problems.push(`  ${name} (from ${sourceLabel(option, flags[name] !== undefined ? "flag" : option.spec.env && env[option.spec.env] ? "env" : "file", input.configFile)}): ${msg}`);
      continue;
    }
    if (value === undefined) continue;
    if (source !== "default") explicit.set(name, source);
    sources.set(name, sourceLabel(option, source, input.configFile));
    if (option.spec.kind === "path" && typeof value === "string") value = path.resolve(cwd, value);
    if (name === "jobStore" && typeof value === "string") {
      givenJobStore = value;
      value = normalizeJobStoreLocator(value, cwd);
    }
    if (option.plugin) plugin[name] = value;
    else core[name] = value;
  }
  if (problems.length > 0) throw new ConfigError(`Invalid configuration:\n${problems.join("\n")}`);

  let batchOptions: Record<string, unknown>;
  try {
    batchOptions = parsePluginOptions(
      options.filter((o) => o.plugin).map((o) => o.spec),
      plugin,
    );
  } catch (err) {
    const e = err as ConfigError;
    const lines = (e.issues ?? []).map((i) => `  ${i.option}${sources.get(i.option) ? ` (from ${sources.get(i.option)})` : ""}: ${i.message}`);
    throw new ConfigError(lines.length > 0 ? `Invalid configuration:\n${lines.join("\n")}` : e.message, e.issues);
  }
  const config = parseConfig({ ...core, batchOptions }, (option) => sources.get(option));
  for (const dirOption of ["workDir", "coordinationDir"] as const) {
    const dir = config[dirOption];
    if (dir !== undefined && !(existsSync(dir) && statSync(dir).isDirectory())) {
      throw new ConfigError(
        `Invalid configuration:\n  ${dirOption} (from ${sources.get(dirOption)}): ${dir} does not exist or is not a directory; create it first`,
      );
    }
  }
  if (config.jobStore && input.checkJobStore !== false) {
    checkJobStoreLocation(config.jobStore, config.restart, givenJobStore ?? config.jobStore, sources.get("jobStore") ?? "jobStore", cwd);
  }
  return { config, explicit };
}
