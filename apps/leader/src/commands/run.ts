import { existsSync } from "node:fs";
import path from "node:path";
import { inspect } from "node:util";
import { ConfigError, importUserModule, isToilError, ToilError, type Config, type FileID } from "@toil/job";
import type { ConfigOptionSpec as BatchSystemOptionSpec } from "@toil/job";
import { configFromCommand } from "../cli/toil-options.js";
import { EXIT, type CliIO } from "../cli/io.js";
import { errorName, formatCliError } from "../cli/errors.js";
import { runExitCode } from "../cli/exit-codes.js";
import { Toil } from "../toil.js";
import { getBatchSystem, type InsufficientSystemResources } from "@toil/batch-core";
import { registerBundledBatchSystems } from "../batch-registry.js";
import { WorkflowFileError } from "../leader/errors.js";
import { appendToLogFile, type Logger } from "../log.js";
import type { RootJob } from "../jobs.js";
import { insufficientResourcesAdvice } from "../resource-advice.js";
import { settlePrestartedWorker } from "../cli/prestart-worker.js";
import { boundLeaderHeapGrowth } from "../cli/leader-heap.js";

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
  if (!existsSync(abs)) {
    throw new WorkflowFileError(
      `Workflow file ${abs} does not exist. Check the path` +
        (path.isAbsolute(file) ? "." : ` (the relative path ${JSON.stringify(file)} is resolved against the current directory ${cwd}).`),
    );
  }
  let ns: Record<string, unknown>;
  try {
    ns = (await importUserModule(abs)) as Record<string, unknown>;
  } catch (err) {
    let cause = (err as { cause?: unknown }).cause ?? err;
    if ((cause as { code?: unknown }).code === "ERR_REQUIRE_CYCLE_MODULE" && /\.(?:ts|mts|cts|tsx)$/i.test(abs)) {
      // A TypeScript file under a package.json without "type": "module" is compiled as CommonJS;
      // when that fails (e.g. a syntax error), Node reports only a require cycle. Compile it once
      // more in an isolated loader to get the real error.
      cause = (await diagnoseTypeScript(abs)) ?? cause;
    }
    const where = throwSite(cause, abs);
    const message = cause instanceof Error ? cause.message : String(cause);
    throw new WorkflowFileError(
      `Cannot load workflow file ${abs}${where ? ` (error at ${where})` : ""}: ${message}\n` +
        (commonJsAdvice(message, abs) ?? "Fix the workflow file: it failed while being imported, before any job was created or run."),
      { cause: err },
    );
  }
  const main = ns.default;
  if (typeof main !== "function") {
    throw new WorkflowFileError(
      `Workflow file ${abs} has no default export function${main === undefined ? "" : ` (its default export is ${main === null ? "null" : /^[aeiou]/.test(typeof main) ? `an ${typeof main}` : `a ${typeof main}`})`}. ` +
        `Add one that builds the root job:\n  export default function main({ args }: WorkflowContext) { return new MyRootJob(args); }`,
    );
  }
  return main as WorkflowMain;
}

/**
 * What to change when a workflow file failed because it was loaded as CommonJS (its package.json
 * says "type": "commonjs", as `npm init -y` writes, or has no "type"), else undefined.
 */
function commonJsAdvice(message: string, file: string): string | undefined {
  if (!/No "exports" main defined|Cannot use import statement outside a module|ERR_REQUIRE_ESM|require\(\) of ES Module|Unexpected token 'export'/.test(message)) {
    return undefined;
  }
  if (/\.c[jt]s$/i.test(file)) {
    return "The toil-ts packages are ES modules, which require() cannot load here: write the workflow with import and export statements in a .mjs or .mts file.";
  }
  let dir = path.dirname(file);
  for (;;) {
    const manifest = path.join(dir, "package.json");
    if (existsSync(manifest)) {
      return `It was loaded as CommonJS: ${manifest} does not say "type": "module". Add "type": "module" to it (npm pkg set type=module), or name the workflow file .mts or .mjs.`;
    }
    const parent = path.dirname(dir);
    if (parent === dir) return `It was loaded as CommonJS. Name the workflow file .mts or .mjs, or add a package.json with "type": "module" next to it.`;
    dir = parent;
  }
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

/** The error an isolated tsx import of `file` raises, or undefined if it loads. */
async function diagnoseTypeScript(file: string): Promise<unknown> {
  try {
    const { tsImport } = (await import("tsx/esm/api")) as { tsImport: (specifier: string, parent: string) => Promise<unknown> };
    await tsImport(file, import.meta.url);
    return undefined;
  } catch (err) {
    return err;
  }
}

/** Where in the workflow file an error was thrown (`file:line:col` of the first stack frame in it), if known. */
function throwSite(err: unknown, workflowFile: string): string | undefined {
  const stack = err instanceof Error ? err.stack : undefined;
  if (!stack) return undefined;
  for (const line of stack.split("\n").slice(1)) {
    const m = /\(?((?:file:\/\/)?\/[^()]*?):(\d+):(\d+)\)?\s*$/.exec(line.trim());
    if (m && m[1]!.replace(/^file:\/\//, "") === workflowFile) return `${workflowFile}:${m[2]}:${m[3]}`;
  }
  return undefined;
}

/**
 * An error thrown by the workflow file's default export while it built the root job. Toil errors
 * (an unserializable argument, a malformed requirement, a job function that is not exported) keep
 * their type; anything else becomes a WorkflowFileError naming the file and the place.
 */
function workflowMainError(err: unknown, workflowFile: string): ToilError {
  if (isToilError(err)) return err;
  const where = throwSite(err, workflowFile);
  const message = err instanceof Error ? `${err.name && err.name !== "Error" ? `${err.name}: ` : ""}${err.message}` : String(err);
  return new WorkflowFileError(
    `The default export of workflow file ${workflowFile} threw while building the root job${where ? ` (at ${where})` : ""}: ${message}\n` +
      "Fix the workflow file (or the arguments after -- it reads); nothing ran and no job store was kept.",
    { cause: err },
  );
}

/** Extra advice for errors whose fix depends on how `toil run` was called. */
function adviceFor(err: ToilError, opts: Record<string, unknown>, restart: boolean, storeKept: string | undefined): string {
  const given = typeof opts.jobStore === "string" ? opts.jobStore : typeof opts.jobstore === "string" ? opts.jobstore : undefined;
  const lines: string[] = [];
  if (err.code === "LEADER_JOB_STORE_STATE" && restart && given !== undefined && !path.isAbsolute(given.replace(/^file:/, ""))) {
    lines.push(
      `The relative --jobStore ${JSON.stringify(given)} was resolved against the current directory ${process.cwd()}; ` +
        "run from the directory the workflow was started in, or pass the job store's absolute path.",
    );
  }
  if (err.code === "FILESTORE_INVALID_URL") {
    lines.push(
      "Check the location the workflow imports (a path, or a file:, http: or https: URL that exists and is readable from the leader).",
    );
  }
  // By code: a batch-system plugin may bring its own copy of @toil/batch-core.
  if (err.code === "BATCH_INSUFFICIENT_RESOURCES") {
    lines.push(...insufficientResourcesAdvice(err as InsufficientSystemResources, storeKept, restart));
  }
  return lines.length > 0 ? `\n${lines.join("\n")}` : "";
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
  let restart = false;
  boundLeaderHeapGrowth(io.env);
  try {
    const { config, explicit } = configFromCommand(opts, pluginSpecs, io.env);
    restart = config.restart;
    if (!config.jobStore) throw new ConfigError("No job store given: add --jobStore PATH (a directory that does not exist yet).");
    await settlePrestartedWorker(config);
    const main = await loadWorkflowFile(workflow, io.cwd);
    // An unknown or broken --batchSystem fails here, before a job store is created or resumed.
    registerBundledBatchSystems();
    await getBatchSystem(config.batchSystem);
    toil = await Toil.open({ ...config, explicitOptions: explicit.keys() });
    let result: unknown;
    if (toil.config.restart) {
      result = await toil.restart();
      started = true;
    } else {
      const t = toil;
      let root: Awaited<ReturnType<WorkflowMain>>;
      try {
        root = await main({
          args,
          config: t.config,
          importFile: (src) => t.importFile(src),
          log: t.log,
          toil: t,
        });
      } catch (err) {
        // Nothing ran: the store this run just created holds only its config. Leave none behind,
        // so running again after the fix does not find "a workflow" there.
        await t.jobStore.destroy().catch(() => undefined);
        throw workflowMainError(err, path.resolve(io.cwd, workflow));
      }
      result = await t.start(root);
      started = true;
    }
    await toil.close();
    printResult(result, io);
    return EXIT.OK;
  } catch (err) {
    await toil?.close(err).catch(() => undefined);
    if (isToilError(err)) {
      let kept: string | undefined;
      try {
        kept = toil && existsSync(toil.config.jobStore.replace(/^file:/, "")) ? toil.config.jobStore : undefined;
      } catch {
        kept = undefined;
      }
      const report = err.message + adviceFor(err, opts, restart, kept);
      io.stderr.write(formatCliError("run", errorName(err), report));
      // The log file keeps the report too (the terminal may be gone, or the output piped into `head`).
      if (toil) appendToLogFile(toil.logFile, toil.config.logJson, "error", `toil run: error [${errorName(err)}]: ${report}`);
      // Exit 2 promises that nothing ran and the store is as it was (none, for a first run); a
      // stopped workflow (SIGTERM, Ctrl-C) exits 3, ready for --restart.
      return runExitCode(err, started || toil?.ranJobs === true || toil?.resumed === true);
    }
    // Not a toil-ts error: a bug, or something toil-ts does not explain yet. One line; the stack on request.
    const debug = opts.logDebug === true || opts.logTrace === true || opts.logLevel === "debug" || opts.logLevel === "trace";
    io.stderr.write(formatCliError("run", errorName(err), err instanceof Error ? err.message : String(err)));
    io.stderr.write(debug && err instanceof Error && err.stack ? `${err.stack}\n` : "Rerun with --logLevel debug for the stack trace, and report it if it persists.\n");
    return runExitCode(err, started);
  }
}
