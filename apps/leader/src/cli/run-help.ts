/** What `toil run --help` prints after the options: defaults, exit codes, examples. */

/** Help text after the option list of `toil run`. */
export const RUN_HELP_AFTER = `
Options without "(default: ...)" are unset unless given; flags are off unless given, and --no-<flag>
turns a flag off. Precedence: flag > environment variable > --config file > default.

Exit codes:
  0  the workflow succeeded (the root job's return value is printed on stdout as JSON)
  1  the workflow ran and did not finish: jobs failed for good, it deadlocked, or \`toil kill\` stopped it
  2  nothing ran: a bad option, config file, workflow file or job store (the message says which)
  3  stopped by Ctrl-C or SIGTERM; \`--restart\` continues it

Examples:
  $ toil run flow.ts --jobStore ./js -- input.txt        # arguments after -- go to the workflow
  $ toil run flow.ts --jobStore ./js --restart           # continue a stopped or failed workflow
  $ toil run flow.ts --jobStore ./js --clean never --retryCount 3 --maxCores 4
  $ toil run flow.ts --jobStore ./js --stats && toil stats ./js`;
