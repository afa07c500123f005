/**
 * What the `toil` command line asks for, read before anything is loaded: the scans decide which
 * modules a command needs, so they import nothing.
 */

/** The batch system named on a command line (`--batchSystem X` / `--batchSystem=X`), env-free pre-scan. */
export function batchSystemFromArgv(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") break;
    if (a === "--batchSystem") return argv[i + 1];
    if (a.startsWith("--batchSystem=")) return a.slice("--batchSystem=".length);
  }
  return undefined;
}

const COMMANDS_WITH_BATCH_OPTIONS = new Set(["run", "config", "cwl"]);

/**
 * Whether a command line uses the batch systems' options: `run` and `cwl` accept them, `config`
 * writes them, `help run` shows them. `toil --help` and the operating commands do not load them.
 */
export function usesBatchSystemOptions(argv: readonly string[]): boolean {
  const [command, topic] = argv;
  if (command === "help") return topic !== undefined && COMMANDS_WITH_BATCH_OPTIONS.has(topic);
  return command !== undefined && COMMANDS_WITH_BATCH_OPTIONS.has(command);
}

const HELP_FLAGS = new Set(["--help", "-h", "--version", "-V"]);

/** Whether a command line only prints help or the version (and so runs no workflow code). */
export function onlyShowsHelp(argv: readonly string[]): boolean {
  if (argv.length === 0 || argv[0] === "help") return true;
  for (const a of argv) {
    if (a === "--") return false;
    if (HELP_FLAGS.has(a)) return true;
  }
  return false;
}
