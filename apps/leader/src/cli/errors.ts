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

import { escapeControl } from "../text.js";

/** The name printed for mistakes in the command line itself (unknown flag, missing argument, unknown command). */
const USAGE_ERROR_NAME = "UsageError";

/** The stable name of an error: its class name. */
export function errorName(err: unknown): string {
  if (err instanceof Error) return err.name && err.name !== "Error" ? err.name : err.constructor?.name || "Error";
  return "Error";
}

/**
 * Errors whose report is longer than one line: after the error line, FailedJobsError lists each
 * failed job with its exit reason and the end of its log.
 */
const MULTI_LINE_ERRORS = new Set(["FailedJobsError"]);

/**
 * A message as one line: a heading that ends in ":" followed by lines of items becomes
 * "heading: item; item", other lines are joined with spaces.
 */
export function oneLine(message: string): string {
  const lines = message
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  if (lines.length <= 1) return lines[0] ?? "";
  const [head, ...rest] = lines as [string, ...string[]];
  if (head.endsWith(":") && rest.every((l) => !/[.!?]$/.test(l))) return `${head} ${rest.join("; ")}`;
  return lines.join(" ");
}

/**
 * `toil <command>: error [<Name>]: <message>` on one line (one trailing newline); see
 * MULTI_LINE_ERRORS. Control characters in the message (a job name or an error text from input
 * data) are shown escaped, as `cat -v` does.
 */
export function formatCliError(command: string, name: string, message: string): string {
  const prefix = command ? `toil ${command}` : "toil";
  return `${prefix}: error [${name}]: ${escapeControl(MULTI_LINE_ERRORS.has(name) ? message.trimEnd() : oneLine(message))}\n`;
}

/**
 * Rewrite the argument parser's error text (`error: unknown option '--x'\n(Did you mean --y?)\n`)
 * in the common form, with where to look for the right usage.
 */
export function formatUsageError(command: string, parserText: string): string {
  const text = parserText.replace(/^error: /, "").trimEnd();
  const help = command ? `toil ${command} --help` : "toil --help";
  return formatCliError(command, USAGE_ERROR_NAME, `${/[.!?)]$/.test(text) ? text : `${text}.`} Run \`${help}\` to see the usage and every option.`);
}
