import { existsSync } from "node:fs";
import path from "node:path";
import { inspect } from "node:util";
import { ConfigError, ToilError, type Config, type FileID } from "@toil/job";
import { importUserModule } from "@toil/worker";
import type { ConfigOptionSpec as BatchSystemOptionSpec } from "@toil/job";
import { configFromCommand } from "../cli/toil-options.js";
import { EXIT, type CliIO } from "../cli/io.js";
import { Toil } from "../toil.js";
import { DeadlockError, FailedJobsError, WorkflowFileError, WorkflowInterruptedError, WorkflowKilledError } from "../leader/errors.js";
import type { Logger } from "../log.js";
import type { RootJob } from "../jobs.js";

/** What a workflow file's default export receives. */
export interface WorkflowContext {
  /** Arguments after `--` on the `toil run` command line. */
  args: string[];
  /** The workflow configuration. */
  config: Config;
  /** Import a file (path or URL) into the job store, e.g. an input of the workflow. */
  importFile(srcUrl: string): Promise<FileID>;
  /** The leader's logger. */
  log: Logger;
  /** The open Toil scope (for anything else, e.g. exportFile after the run). */
  toil: Toil;
}

/** The shape of a workflow file's default export. */
export type WorkflowMain = (context: WorkflowContext) => RootJob | Promise<RootJob>;

/** Import a workflow file and return its default export, or throw WorkflowFileError saying what is wrong. */
export async function loadWorkflowFile(file: string, cwd: string): Promise<WorkflowMain> {
  const abs = path.resolve(cwd, file);
  if (!existsSync(abs)) throw new WorkflowFileError(`Workflow file ${abs} does not exist.`);
  let ns: Record<string, unknown>;
  try {
    ns = (await importUserModule(abs)) as Record<string, unknown>;
  } catch (err) {
    const cause = (err as { cause?: unknown }).cause ?? err;
    throw new WorkflowFileError(
      `Cannot load workflow file ${abs}: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause: err },
    );
  }
  const main = ns.default;
  if (typeof main !== "function") {
    throw new WorkflowFileError(
      `Workflow file ${abs} has no default export function${main === undefined ? "" : ` (its default export is a ${typeof main})`}. ` +
        `Add one that builds the root job:\n  export default function main({ args }: WorkflowContext) { return new MyRootJob(args); }`,
    );
  }
  return main as WorkflowMain;
}

function printResult(value: unknown, io: CliIO): void {
  if (value === undefined) return;
  let text: string;
  try {
    text = JSON.stringify(value) ?? inspect(value);
  } catch {
    text = inspect(value, { depth: 4 });
  }
  io.stdout.write(`${text}\n`);
}

/** `toil run <workflow> [args...]`. Resolves to the process exit code. */
export async function runCommand(
  workflow: string,
  args: string[],
  opts: Record<string, unknown>,
  pluginSpecs: readonly BatchSystemOptionSpec[],
  io: CliIO,
): Promise<number> {
  let toil: Toil | undefined;
  let started = false;
  try {
    const { config, explicit } = configFromCommand(opts, pluginSpecs, io.env);
    if (!config.jobStore) throw new ConfigError("No job store given: add --jobStore PATH (a directory that does not exist yet).");
    const main = await loadWorkflowFile(workflow, io.cwd);
    toil = await Toil.open({ ...config, explicitOptions: explicit.keys() });
    let result: unknown;
    if (toil.config.restart) {
      started = true;
      result = await toil.restart();
    } else {
      const t = toil;
      const root = await main({
        args,
        config: t.config,
        importFile: (src) => t.importFile(src),
        log: t.log,
        toil: t,
      });
      result = await t.start(root);
      started = true;
    }
    await toil.close();
    printResult(result, io);
    return EXIT.OK;
  } catch (err) {
    await toil?.close(err).catch(() => undefined);
    if (err instanceof ToilError) {
      io.stderr.write(`toil: ${err.message}\n`);
      // Stopped by SIGTERM/SIGINT: the store is ready for --restart (a distinct code, not a failure).
      if (err instanceof WorkflowInterruptedError) return EXIT.INTERRUPTED;
      const ranWorkflow = err instanceof FailedJobsError || err instanceof DeadlockError || err instanceof WorkflowKilledError;
      return started || ranWorkflow ? EXIT.WORKFLOW_FAILED : EXIT.USAGE;
    }
    io.stderr.write(`toil: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return EXIT.WORKFLOW_FAILED;
  }
}
