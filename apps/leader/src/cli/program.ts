import { Command, CommanderError } from "commander";
import type { ConfigOptionSpec as BatchSystemOptionSpec } from "@toil/job";
import { registerOpsCommands } from "../ops/cli.js";
import type { addToilOptions } from "./toil-options.js";
import { errorName, formatCliError, formatUsageError } from "./errors.js";
import { RUN_HELP_AFTER } from "./run-help.js";
import leaderPackage from "../../package.json" with { type: "json" };

export { EXIT, type CliIO } from "./io.js";
import { EXIT, commanderExitCode, type CliIO } from "./io.js";

/**
 * Build the `toil` command. `pluginSpecs` are the options of the batch systems the command line
 * may use (they become flags of `run`). `addRunOptions` adds them: only a command line that runs
 * a workflow or shows `run`'s help passes it, so that `toil --help` and the operating commands
 * load neither the option table's defaults (@toil/job's schema) nor the config file reader.
 */
function buildProgram(
  io: CliIO,
  pluginSpecs: readonly BatchSystemOptionSpec[],
  setExit: (code: number) => void,
  addRunOptions?: typeof addToilOptions,
): Command {
  const program = new Command("toil")
    .description("Run and manage toil-ts workflows.")
    .version(leaderPackage.version, "-V, --version", "print the toil-ts version (of @toil/leader) and exit")
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    });

  const run = new Command("run")
    .description("Run a workflow file: its default export builds the root job.")
    .argument("<workflow>", "workflow file (.ts, .mts, .js or .mjs)")
    .argument("[args...]", "arguments passed to the workflow (put them after --)")
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .action(async (workflow: string, args: string[], opts: Record<string, unknown>) => {
      const { runCommand } = await import("../commands/run.js");
      setExit(await runCommand(workflow, args, opts, pluginSpecs, io));
    });
  if (addRunOptions) {
    addRunOptions(run, pluginSpecs);
    run.addHelpText("after", RUN_HELP_AFTER);
  }
  program.addCommand(run);

  program
    .command("config")
    .description("Write a commented YAML file with every option and its default (use it with --config).")
    .argument("<file>", "file to write")
    .action(async (file: string) => {
      const { writeConfigFile } = await import("../config/file.js");
      writeConfigFile(file, pluginSpecs, io.cwd);
      io.stdout.write(`Wrote ${file}\n`);
      setExit(EXIT.OK);
    });

  // `toil cwl` is handled by main() (its options follow the CWL runner interface); listed here for --help.
  program.command("cwl").description("Run a CWL workflow or tool (same as toil-cwl-runner; see toil cwl --help).").helpOption(false);

  // status, stats, report, kill, clean, debug-job (apps/leader/src/ops).
  registerOpsCommands(program, io, setExit);

  // Parser errors (unknown flag or command, missing argument, bad choice) in the common form.
  const withUsageErrors = (cmd: Command, path: string): void => {
    cmd.configureOutput({ outputError: (text, write) => write(formatUsageError(path, text)) });
    for (const sub of cmd.commands) withUsageErrors(sub, path ? `${path} ${sub.name()}` : sub.name());
  };
  withUsageErrors(program, "");

  return program;
}

/** Whether a command line needs `run`'s options: `toil run ...` or `toil help run`. */
function usesRunOptions(argv: readonly string[]): boolean {
  return argv[0] === "run" || (argv[0] === "help" && argv[1] === "run");
}

/** Run the CLI with `argv` (without node and script). Resolves to the exit code. */
export async function main(argv: readonly string[], io: CliIO, pluginSpecs: readonly BatchSystemOptionSpec[]): Promise<number> {
  if (argv[0] === "cwl") return (await import("../commands/cwl.js")).cwlMain(argv.slice(1), io, pluginSpecs, "toil cwl");
  let code: number = EXIT.OK;
  const addRunOptions = usesRunOptions(argv) ? (await import("./toil-options.js")).addToilOptions : undefined;
  const program = buildProgram(
    io,
    pluginSpecs,
    (c) => {
      code = c;
    },
    addRunOptions,
  );
  try {
    await program.parseAsync([...argv], { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) return commanderExitCode(err);
    // @toil/bus is loaded only when there is an error to report.
    if ((await import("@toil/bus")).isToilError(err)) {
      io.stderr.write(formatCliError(argv[0] && !argv[0].startsWith("-") ? argv[0] : "", errorName(err), err.message));
      return EXIT.USAGE;
    }
    throw err;
  }
  return code;
}
