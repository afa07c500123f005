/**
 * How the `toil` command prints errors. Every error line starts the same way, so people and
 * scripts can tell what kind of mistake it was:
 *
 *     toil run: error [ConfigError]: Invalid configuration: ...
 *     toil run: error [UsageError]: unknown option '--jobStor' (Did you mean --jobStore?) ...
 *     toil status: error [NoSuchJobStoreError]: ...
 *
 * The name in brackets is the error's class name (stable: tests and scripts may match it);
 * command-line syntax mistakes found by the argument parser are `UsageError`.
 */

/** The name printed for mistakes in the command line itself (unknown flag, missing argument, unknown command). */
export const USAGE_ERROR_NAME = "UsageError";

/** The stable name of an error: its class name. */
export function errorName(err: unknown): string {
  if (err instanceof Error) return err.name && err.name !== "Error" ? err.name : err.constructor?.name || "Error";
  return "Error";
}

/** `toil <command>: error [<Name>]: <message>` (one trailing newline). */
export function formatCliError(command: string, name: string, message: string): string {
  const prefix = command ? `toil ${command}` : "toil";
  return `${prefix}: error [${name}]: ${message.trimEnd()}\n`;
}

/**
 * Rewrite the argument parser's error text (`error: unknown option '--x'\n(Did you mean --y?)\n`)
 * in the common form, with where to look for the right usage.
 */
export function formatUsageError(command: string, parserText: string): string {
  const text = parserText.replace(/^error: /, "").trimEnd();
  const help = command ? `toil ${command} --help` : "toil --help";
  return formatCliError(command, USAGE_ERROR_NAME, `${text}\nRun \`${help}\` to see the usage and every option.`);
}
