/**
 * `toil-cwl-runner` (and `toil cwl`): the standard CWL runner interface on toil-ts.
 *
 *   toil-cwl-runner [options] PROCESS [JOB_ORDER] [--input value ...]
 *
 * Options come before PROCESS: `--outdir`, `--quiet`, `--no-container`, and every `toil run`
 * option (`--jobStore`, `--batchSystem`, `--restart`, `--maxCores`, ...). The output object is
 * printed as JSON on stdout; exit 33 means the document uses a feature this runner does not
 * support. Without `--jobStore` the run uses a temporary job store and deletes it afterwards.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Command, CommanderError } from "commander";
import { isToilError, type ConfigOptionSpec as BatchSystemOptionSpec } from "@toil/job";
import {
  EVAL_TIMEOUT_ENV,
  cwlRootJob,
  exportCwlOutputs,
  importCwlFiles,
  jobStoreDirectoryStates,
  prepareCwlRun,
  registerCwlJobs,
} from "@toil/cwl";
import { getBatchSystem } from "@toil/batch-core";
import { addToilOptions, configFromCommand } from "../cli/toil-options.js";
import { EXIT, commanderExitCode, type CliIO } from "../cli/io.js";
import { errorName, formatCliError, formatUsageError } from "../cli/errors.js";
import { cwlExitCode } from "../cli/exit-codes.js";
import { registerBundledBatchSystems } from "../batch-registry.js";
import { Toil } from "../toil.js";

interface CwlOptions extends Record<string, unknown> {
  outdir?: string;
  evalTimeout?: string;
  quiet?: boolean;
  container?: boolean;
}

function buildCommand(prog: string, io: CliIO, pluginSpecs: readonly BatchSystemOptionSpec[], action: (process: string | undefined, rest: string[], opts: CwlOptions) => Promise<void>): Command {
  const cmd = new Command(prog)
    .description("Run a CWL workflow or tool (CWL v1.2) on toil-ts. Prints the output object as JSON on stdout.")
    .usage("[options] PROCESS [JOB_ORDER] [--input value ...]")
    .argument("[process]", "CWL document (a path or URL; `file.cwl#id` picks one process of a $graph)")
    .argument("[inputs...]", "input object file (YAML or JSON), then tool inputs as --name value")
    .option("--outdir <DIR>", "directory to write output files to (default: the current directory)")
    .option("--quiet", "only print warnings and errors on stderr")
    .option("--no-container", "run every tool on this host, ignoring DockerRequirement (by default a tool with one runs in Docker, Podman, Singularity or Apptainer, whichever answers)")
    .option("--eval-timeout <SECONDS>", "time limit of one JavaScript expression (default 30)")
    .passThroughOptions()
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (text, write) => write(formatUsageError("cwl", text)),
    })
    .action(async (process: string | undefined, rest: string[], opts: CwlOptions) => action(process, rest, opts))
    .addHelpText(
      "after",
      `
Examples:
  $ ${prog} --outdir out workflow.cwl inputs.yml
  $ ${prog} --outdir out tool.cwl --reads a.fq --threads 4
  $ ${prog} --jobStore ./js --batchSystem slurm workflow.cwl inputs.yml
  $ ${prog} --jobStore ./js --restart workflow.cwl inputs.yml    # after a crash
  $ ${prog} packed.cwl#main inputs.yml

Exit codes:
  0   done: the output object is on stdout, its files in --outdir
  1   the document or the inputs are invalid, or a job failed
  2   bad command line
  3   interrupted (SIGTERM/SIGINT): finish with --restart (needs --jobStore)
  33  the document uses a feature this runner does not support (stderr says which)`,
    );
  addToilOptions(cmd, pluginSpecs);
  return cmd;
}

/** Run the CWL runner with `argv` (without node and script). Resolves to the exit code. */
export async function cwlMain(argv: readonly string[], io: CliIO, pluginSpecs: readonly BatchSystemOptionSpec[], prog = "toil-cwl-runner"): Promise<number> {
  let code: number = EXIT.OK;
  const cmd = buildCommand(prog, io, pluginSpecs, async (processArg, rest, opts) => {
    code = await runCwl(processArg, rest, opts, pluginSpecs, io);
  });
  try {
    await cmd.parseAsync([...argv], { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) return commanderExitCode(err);
    throw err;
  }
  return code;
}

async function runCwl(
  processArg: string | undefined,
  rest: string[],
  opts: CwlOptions,
  pluginSpecs: readonly BatchSystemOptionSpec[],
  io: CliIO,
): Promise<number> {
  const fail = (name: string, message: string, exit: number): number => {
    io.stderr.write(formatCliError("cwl", name, message));
    return exit;
  };
  if (processArg === undefined) return fail("UsageError", "No CWL document given. Usage: toil-cwl-runner [options] PROCESS [JOB_ORDER]", EXIT.USAGE);
  const jobOrder = rest[0] !== undefined && !rest[0].startsWith("--") ? rest[0] : undefined;
  const inputFlags = jobOrder !== undefined ? rest.slice(1) : rest;
  const outdir = path.resolve(io.cwd, opts.outdir ?? ".");
  if (opts.evalTimeout !== undefined) {
    const seconds = Number(opts.evalTimeout);
    if (!(seconds > 0)) return fail("UsageError", `--eval-timeout must be a number of seconds above 0, not ${JSON.stringify(opts.evalTimeout)}.`, EXIT.USAGE);
    // Workers inherit the leader's environment: every expression of the run gets this limit.
    process.env[EVAL_TIMEOUT_ENV] = String(seconds);
  }

  let tempStore: string | undefined;
  let toil: Toil | undefined;
  try {
    const { config, explicit } = configFromCommand(opts, pluginSpecs, io.env);
    const explicitOptions = new Set(explicit.keys());
    if (opts.quiet && !explicitOptions.has("logLevel")) {
      config.logLevel = "warning";
      explicitOptions.add("logLevel");
    }
    if (opts.quiet && !explicitOptions.has("disableProgress")) {
      config.disableProgress = true;
      explicitOptions.add("disableProgress");
    }
    if (!config.jobStore) {
      if (config.restart) return fail("UsageError", "--restart needs the --jobStore of the run to resume.", EXIT.USAGE);
      tempStore = mkdtempSync(path.join(os.tmpdir(), "toil-cwl-"));
      config.jobStore = path.join(tempStore, "jobstore");
      explicitOptions.add("jobStore");
      // The whole temporary directory goes once the run is over (below), whatever --clean says.
      config.clean = "never";
      explicitOptions.add("clean");
    }
    registerBundledBatchSystems();
    await getBatchSystem(config.batchSystem);
    registerCwlJobs();

    let outputs: Record<string, unknown>;
    if (config.restart) {
      toil = await Toil.open({ ...config, explicitOptions });
      outputs = await toil.restart<Record<string, unknown>>();
    } else {
      // Load and check everything before a job store exists: a bad document leaves nothing behind.
      const prepared = await prepareCwlRun({
        process: processArg,
        ...(jobOrder !== undefined ? { jobOrder } : {}),
        inputFlags,
        cwd: io.cwd,
        noContainer: opts.container === false,
      });
      toil = await Toil.open({ ...config, explicitOptions });
      const t = toil;
      const imported = await importCwlFiles(prepared, (url) => t.importFile(url), (message) => t.log.warn(message));
      outputs = await t.start<Record<string, unknown>>(cwlRootJob(imported));
    }
    const t = toil;
    const result = await exportCwlOutputs(outputs ?? {}, outdir, (fileId, dest) => t.exportFile(fileId, dest), jobStoreDirectoryStates(t.jobStore));
    await toil.close();
    io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return EXIT.OK;
  } catch (err) {
    await toil?.close(err).catch(() => undefined);
    // The exit code follows from the error's code (33 unsupported, 3 interrupted, ...), not its class.
    const exit = cwlExitCode(err, toil !== undefined);
    if (!isToilError(err)) return fail(errorName(err), err instanceof Error ? (err.stack ?? err.message) : String(err), exit);
    // A temporary job store is deleted below, so --restart cannot resume a run that failed (not said
    // for a CWL error, found before anything ran, nor for an interrupted run).
    const failedRun = tempStore !== undefined && toil !== undefined && !err.code.startsWith("CWL_") && err.code !== "LEADER_INTERRUPTED";
    const note = failedRun ? "\nThis run's job store was temporary and is deleted: give --jobStore to keep one, so that --restart can resume a failed run." : "";
    return fail(errorName(err), err.message + note, exit);
  } finally {
    if (tempStore !== undefined) removeInBackground(tempStore);
  }
}

/**
 * Delete a run's temporary directory without making the run wait for it: deleting a job store is
 * thousands of unlinks and rmdirs (seconds after a large scatter), and nothing needs it once the
 * outputs are exported. A detached `rm -rf` outlives this process; where it cannot start, the
 * directory is deleted here.
 */
function removeInBackground(dir: string): void {
  try {
    const rm = spawn("rm", ["-rf", "--", dir], { detached: true, stdio: "ignore" });
    rm.on("error", () => rmSync(dir, { recursive: true, force: true }));
    rm.unref();
  } catch {
    rmSync(dir, { recursive: true, force: true });
  }
}
