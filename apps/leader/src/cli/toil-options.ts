import { Command, Option } from "commander";
import { defaultConfig, formatConfigSize, type Config, type ConfigOptionSpec as BatchSystemOptionSpec } from "@toil/job";
import { cliOptions } from "../config/specs.js";
import { resolveConfig, type ResolvedConfig } from "../config/resolve.js";

const LOG_SHORTCUTS: Record<string, string> = {
  logTrace: "trace",
  logDebug: "debug",
  logInfo: "info",
  logWarning: "warning",
  logError: "error",
  logCritical: "critical",
  logOff: "off",
};

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/**
 * The default an option's help shows, or undefined when it has none worth showing (unset, empty, a
 * flag that is off, or help that already says it).
 */
function defaultShown(spec: BatchSystemOptionSpec, flag: string, value: unknown): string | undefined {
  if (/\(default\b/i.test(spec.help)) return undefined;
  if (value === undefined || value === null || value === "") return undefined;
  if (spec.kind === "boolean") return value === true ? `on; --no-${flag} turns it off` : undefined;
  if (Array.isArray(value)) return value.length > 0 ? value.join(",") : undefined;
  if (typeof value === "object") return Object.keys(value).length > 0 ? JSON.stringify(value) : undefined;
  if (spec.kind === "size" && typeof value === "number") return formatConfigSize(value);
  return String(value);
}

/**
 * Add every run option (core and the given plugin options) to a commander command.
 * No defaults are set on the flags, so "not given" stays distinguishable from "given the default".
 */
export function addToilOptions(cmd: Command, pluginSpecs: readonly BatchSystemOptionSpec[] = []): Command {
  const defaults: Config = defaultConfig();
  for (const option of cliOptions(pluginSpecs)) {
    const { spec, flag } = option;
    const shown = defaultShown(spec, flag, option.plugin ? spec.default : defaults[spec.name as keyof Config]);
    const withDefault = shown === undefined ? spec.help : `${spec.help} (default: ${shown})`;
    const help = spec.env ? `${withDefault} [env: ${spec.env}]` : withDefault;
    if (spec.kind === "boolean") {
      cmd.addOption(new Option(`--${flag}`, help).helpGroup(`${spec.section} options:`));
      cmd.addOption(new Option(`--no-${flag}`, `Turn off --${flag}.`).hideHelp());
      continue;
    }
    const valueName = spec.valueName ?? (spec.kind === "path" ? "PATH" : spec.kind === "size" ? "BYTES" : spec.choices ? "CHOICE" : "VALUE");
    const opt = new Option(`--${flag} <${valueName}>`, help).helpGroup(`${spec.section} options:`);
    if (spec.kind === "setEnv" || spec.kind === "accelerators") opt.argParser(collect);
    cmd.addOption(opt);
  }
  cmd.addOption(new Option("--jobstore <LOCATOR>", "Alias of --jobStore.").hideHelp());
  cmd.addOption(new Option("--config <FILE>", "Read options from this YAML file (write one with `toil config FILE`)."));
  for (const shortcut of Object.keys(LOG_SHORTCUTS)) {
    cmd.addOption(new Option(`--${shortcut}`, `Same as --logLevel ${LOG_SHORTCUTS[shortcut]}.`).hideHelp());
  }
  return cmd;
}

/** The explicitly given run-option values of a parsed command, keyed by option name. */
function givenFlags(opts: Record<string, unknown>, pluginSpecs: readonly BatchSystemOptionSpec[] = []): Record<string, unknown> {
  const flags: Record<string, unknown> = {};
  for (const option of cliOptions(pluginSpecs)) {
    const key = option.flag;
    if (opts[key] !== undefined) flags[option.spec.name] = opts[key];
  }
  if (flags.jobStore === undefined && typeof opts.jobstore === "string") flags.jobStore = opts.jobstore;
  for (const [shortcut, level] of Object.entries(LOG_SHORTCUTS)) {
    if (opts[shortcut] === true && flags.logLevel === undefined) flags.logLevel = level;
  }
  return flags;
}

/** Resolve a parsed command's options into a workflow configuration. */
export function configFromCommand(
  opts: Record<string, unknown>,
  pluginSpecs: readonly BatchSystemOptionSpec[] = [],
  env: NodeJS.ProcessEnv = process.env,
): ResolvedConfig {
  return resolveConfig({
    flags: givenFlags(opts, pluginSpecs),
    env,
    ...(typeof opts.config === "string" ? { configFile: opts.config } : {}),
    pluginSpecs,
  });
}
