import { Command, CommanderError } from "commander";
import { ConfigError } from "@toil/job";
import type { ConfigOptionSpec as BatchSystemOptionSpec } from "@toil/job";
import { addToilOptions, configFromCommand } from "./toil-options.js";
import type { ResolvedConfig } from "../config/resolve.js";

/**
 * Parse toil options for a script that drives `Toil` itself: `[jobStore] [options] [-- args]`.
 * Unknown flags, malformed values and impossible values throw `ConfigError`.
 */
export function parseToilArgs(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  pluginSpecs: readonly BatchSystemOptionSpec[] = [],
): ResolvedConfig & {
  /** The arguments after the options (and after `--`), for the script. */
  args: string[];
} {
  const cmd = addToilOptions(new Command("script"), pluginSpecs)
    .argument("[jobStore]", "job store locator (or --jobStore)")
    .argument("[args...]", "arguments for the script")
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, writeOut: () => undefined })
    .helpOption(false);
  try {
    cmd.parse([...argv], { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) throw new ConfigError(err.message.replace(/^error: /, ""));
    throw err;
  }
  const opts = cmd.opts() as Record<string, unknown>;
  const [jobStore, rest] = cmd.processedArgs as [string | undefined, string[]];
  let args = rest ?? [];
  if (jobStore !== undefined) {
    // With --jobStore given as a flag, the first positional is the script's first argument.
    if (opts.jobStore === undefined && opts.jobstore === undefined) opts.jobStore = jobStore;
    else args = [jobStore, ...args];
  }
  const resolved = configFromCommand(opts, pluginSpecs, env);
  return { ...resolved, args };
}
