/**
 * Running one CommandLineTool or ExpressionTool: inputs prepared and staged, the command line
 * built, the process run in its output directory with stdin/stdout/stderr redirected, its exit
 * code classified (successCodes, temporaryFailCodes, permanentFailCodes), outputs collected and
 * handed to the file backend.
 */
import { spawn } from "node:child_process";
import { createWriteStream, openSync, closeSync, existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { CwlOutputError, CwlPermanentFailureError, CwlTemporaryFailureError } from "../errors.js";
import { evaluateExpressions, type ExpressionEngine } from "../expr/engine.js";
import { loadJavaScriptEngineFor } from "../expr/javascript.js";
import { LISTED_BY_RUNNER, fillNames, localDirectoryObject, mapFiles, visitFiles, type CwlFileOrDirectory } from "../files.js";
import { findRequirement, type CommandLineTool, type CwlDirectory, type ExpressionTool, type Requirement } from "../model.js";
import type { FileBackend } from "./backend.js";
import { buildCommandLine, shellCommand, type CommandWord } from "./command-line.js";
import { checkOutputTypes, collectOutputs, describeLocalFiles } from "./collect.js";
import { applyDefaults, checkFormats, checkInputTypes, checkSecondaryFiles, listingView, loadInputContents } from "./inputs.js";
import { evaluateEnvironment, evaluateResources, evaluateTimeLimit, expressionEngineFor, type ToolResources } from "./requirements.js";
import { Stager } from "./stage.js";

/** How to run a tool. */
export interface ToolRunOptions {
  /** A fresh directory private to this run (output, temporary and staging directories go inside). */
  workDir: string;
  /** Where inputs come from and outputs go. */
  backend: FileBackend;
  /** Progress and tool output lines (default: none). */
  log?: (line: string) => void;
  /** Resources granted; default: what ResourceRequirement asks. */
  resources?: ToolResources;
  /** The environment the tool's PATH comes from (default: this process's). */
  env?: NodeJS.ProcessEnv;
}

/** What a finished tool run reports. */
export interface ToolRunResult {
  /** The output object (Files stored by the backend). */
  outputs: Record<string, unknown>;
  /** The command line that ran (words). */
  command?: string[];
  /** The tool's exit code (CommandLineTools). */
  exitCode?: number;
}

/** Prepare inputs: defaults, types, secondary files, formats. */
export async function prepareInputs(
  tool: CommandLineTool | ExpressionTool,
  given: Record<string, unknown>,
  engine: ExpressionEngine,
): Promise<Record<string, unknown>> {
  const inputs = applyDefaults(tool.inputs, given);
  checkInputTypes(tool.inputs, inputs, tool.id);
  checkSecondaryFiles(tool.inputs, inputs, engine, tool.id);
  await checkFormats(tool, inputs, engine, tool.id);
  return inputs;
}

/** Outputs handed to the backend: Files stored (unless the backend has them already), local paths dropped. */
export async function storeOutputs(outputs: Record<string, unknown>, backend: FileBackend, inputs?: unknown): Promise<Record<string, unknown>> {
  await describeLocalFiles(outputs);
  // Directories of the inputs with their full listings, for outputs that pass one on without it.
  const originals = new Map<string, CwlFileOrDirectory>();
  visitFiles(inputs, (f) => {
    if (f.class === "Directory" && f.location !== undefined && f.listing !== undefined && !originals.has(f.location)) originals.set(f.location, f);
  });
  const store = async (f: CwlFileOrDirectory): Promise<CwlFileOrDirectory> => {
    const out: CwlFileOrDirectory = fillNames({ ...f });
    if (out.class === "Directory" && out.listing === undefined) {
      // A Directory passed on without its listing (loadListing: no_listing) gets it back.
      const original = out.location !== undefined ? originals.get(out.location) : undefined;
      if (original) out.listing = (original as CwlDirectory).listing;
      else if (typeof out.path === "string" && existsSync(out.path)) out.listing = (await localDirectoryObject(out.path)).listing;
      out[LISTED_BY_RUNNER] = true;
    }
    if (f.class === "File") {
      const local = typeof f.path === "string" && existsSync(f.path) ? f.path : undefined;
      if (f.location !== undefined && backend.owns(f.location) && !f.location.startsWith("file:")) {
        // Already kept by the backend (an input passed through).
      } else if (local !== undefined) out.location = await backend.store(local);
      else if (f.location === undefined && typeof f.contents !== "string") {
        throw new CwlOutputError(`Output File ${JSON.stringify(f.basename ?? "")} has neither a location nor contents.`);
      }
      if (f.secondaryFiles) out.secondaryFiles = (await Promise.all(f.secondaryFiles.map(store))) as CwlFileOrDirectory[];
    } else {
      const listing = (out as CwlDirectory).listing;
      if (listing) out.listing = (await Promise.all(listing.map(store))) as CwlFileOrDirectory[];
      if (out.location === undefined || out.location.startsWith("file:") || out.location.startsWith("_:")) out.location = `_:${out.basename ?? "dir"}`;
    }
    delete out.path;
    delete out.dirname;
    return out;
  };
  return (await mapFiles(outputs, async (f) => store(f))) as Record<string, unknown>;
}

function classify(tool: CommandLineTool, code: number): "success" | "temporaryFail" | "permanentFail" {
  if (tool.successCodes.includes(code)) return "success";
  if (tool.temporaryFailCodes.includes(code)) return "temporaryFail";
  if (tool.permanentFailCodes.includes(code)) return "permanentFail";
  return code === 0 ? "success" : "permanentFail";
}

function requirementsOf(tool: CommandLineTool): { requirements: Requirement[]; hints: Requirement[] } {
  return { requirements: tool.requirements, hints: tool.hints };
}

/** Run a CommandLineTool on an input object. */
export async function runCommandLineTool(tool: CommandLineTool, given: Record<string, unknown>, options: ToolRunOptions): Promise<ToolRunResult> {
  await loadJavaScriptEngineFor(tool);
  const log = options.log ?? (() => undefined);
  const engine = expressionEngineFor(tool);
  const prepared = await prepareInputs(tool, given, engine);
  const outdir = path.join(options.workDir, "out");
  const tmpdir = path.join(options.workDir, "tmp");
  await mkdir(outdir, { recursive: true });
  await mkdir(tmpdir, { recursive: true });
  const staged = await new Stager(path.join(options.workDir, "stage"), options.backend).stage(prepared);
  await loadInputContents(tool.inputs, staged, options.backend);
  const inputs = listingView(tool, staged);
  const resources = options.resources ?? evaluateResources(tool, inputs, engine);
  const runtime: Record<string, unknown> = {
    outdir,
    tmpdir,
    cores: Math.ceil(resources.cores),
    ram: resources.ram,
    outdirSize: resources.outdirSize,
    tmpdirSize: resources.tmpdirSize,
  };
  const words = buildCommandLine(tool, { inputs, runtime, engine });
  const shell = findRequirement(requirementsOf(tool), "ShellCommandRequirement") !== undefined;
  const argv = shell ? ["/bin/sh", "-c", shellCommand(words)] : words.map((w: CommandWord) => w.word);
  if (argv.length === 0) throw new CwlPermanentFailureError(`${tool.id}: the command line is empty (no baseCommand and no arguments).`);

  const redirect = (field: "stdin" | "stdout" | "stderr"): string | undefined => {
    const raw = tool[field];
    if (raw === undefined) return undefined;
    const v = evaluateExpressions(raw, { inputs, self: null, runtime }, engine);
    if (v === null || v === undefined) return undefined;
    if (typeof v !== "string" || v === "") throw new CwlPermanentFailureError(`${tool.id}: ${field} evaluated to ${JSON.stringify(v)}, not a file name.`);
    return v;
  };
  const stdinPath = redirect("stdin");
  const stdoutName = redirect("stdout");
  const stderrName = redirect("stderr");
  for (const [field, name] of [["stdout", stdoutName], ["stderr", stderrName]] as const) {
    if (name !== undefined && (path.isAbsolute(name) || name.split("/").includes(".."))) {
      throw new CwlPermanentFailureError(`${tool.id}: ${field} must be a file name inside the output directory, not ${JSON.stringify(name)}.`);
    }
  }
  const env: Record<string, string> = {
    HOME: outdir,
    TMPDIR: tmpdir,
    PATH: (options.env ?? process.env).PATH ?? "/usr/bin:/bin",
    ...evaluateEnvironment(tool, inputs, runtime, engine),
  };
  const timeLimit = evaluateTimeLimit(tool, inputs, engine);

  log(`Running ${argv.map((a) => (/[\s'"]/.test(a) ? JSON.stringify(a) : a)).join(" ")}${stdinPath ? ` < ${stdinPath}` : ""}${stdoutName ? ` > ${stdoutName}` : ""}${stderrName ? ` 2> ${stderrName}` : ""}`);
  const code = await execute(argv, { cwd: outdir, env, stdinPath, stdoutPath: stdoutName && path.join(outdir, stdoutName), stderrPath: stderrName && path.join(outdir, stderrName), timeLimit, log, what: tool.id });
  const status = classify(tool, code);
  if (status === "temporaryFail") throw new CwlTemporaryFailureError(`${tool.id}: the tool exited with ${code}, one of its temporaryFailCodes.`, code);
  if (status === "permanentFail") throw new CwlPermanentFailureError(`${tool.id}: the tool exited with ${code} (not one of its success codes).`, code);
  runtime.exitCode = code;
  const collected = await collectOutputs(tool, { outdir, inputs, runtime, engine, linkRoots: [path.join(options.workDir, "stage")] });
  return { outputs: await storeOutputs(collected, options.backend, staged), command: argv, exitCode: code };
}

interface ExecOptions {
  cwd: string;
  env: Record<string, string>;
  stdinPath?: string;
  stdoutPath?: string;
  stderrPath?: string;
  timeLimit: number;
  log: (line: string) => void;
  what: string;
}

/** Run argv; resolves to its exit code (a signal counts as 128 + its number). */
function execute(argv: string[], o: ExecOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    const fds: number[] = [];
    const openFd = (p: string, flags: string): number => {
      const fd = openSync(p, flags);
      fds.push(fd);
      return fd;
    };
    let stdin: number | "ignore";
    try {
      stdin = o.stdinPath !== undefined ? openFd(o.stdinPath, "r") : "ignore";
    } catch (err) {
      reject(new CwlPermanentFailureError(`${o.what}: cannot open stdin ${o.stdinPath}: ${(err as Error).message}`));
      return;
    }
    const stdout = o.stdoutPath !== undefined ? openFd(o.stdoutPath, "w") : "pipe";
    const stderr = o.stderrPath !== undefined ? openFd(o.stderrPath, "w") : "pipe";
    const child = spawn(argv[0]!, argv.slice(1), { cwd: o.cwd, env: o.env, stdio: [stdin, stdout, stderr] });
    for (const fd of fds) closeSync(fd);
    const relay = (stream: NodeJS.ReadableStream | null): void => {
      if (!stream) return;
      let pending = "";
      stream.setEncoding("utf8");
      stream.on("data", (chunk: string) => {
        pending += chunk;
        const lines = pending.split("\n");
        pending = lines.pop() ?? "";
        for (const l of lines) o.log(l);
      });
      stream.on("end", () => {
        if (pending) o.log(pending);
      });
    };
    relay(child.stdout);
    relay(child.stderr);
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    if (o.timeLimit > 0) {
      timer = setTimeout(() => {
        timedOut = true;
        child.kill("SIGKILL");
      }, o.timeLimit * 1000);
    }
    child.on("error", (err) => {
      if (timer) clearTimeout(timer);
      const code = (err as NodeJS.ErrnoException).code;
      reject(
        new CwlPermanentFailureError(
          code === "ENOENT" ? `${o.what}: command not found: ${argv[0]} (is it installed and on PATH?)` : `${o.what}: cannot run ${argv[0]}: ${err.message}`,
        ),
      );
    });
    child.on("close", (exitCode, signal) => {
      if (timer) clearTimeout(timer);
      if (timedOut) {
        reject(new CwlPermanentFailureError(`${o.what}: the tool ran longer than its time limit of ${o.timeLimit} s and was stopped.`));
        return;
      }
      if (exitCode !== null) resolve(exitCode);
      else resolve(128 + (signal ? signalNumber(signal) : 0));
    });
  });
}

function signalNumber(signal: NodeJS.Signals): number {
  const table: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGTERM: 15 };
  return table[signal] ?? 0;
}

/** Run an ExpressionTool: evaluate its expression on the (unstaged) inputs. */
export async function runExpressionTool(tool: ExpressionTool, given: Record<string, unknown>, options: ToolRunOptions): Promise<ToolRunResult> {
  await loadJavaScriptEngineFor(tool);
  const engine = expressionEngineFor(tool);
  const prepared = await prepareInputs(tool, given, engine);
  await loadInputContents(tool.inputs, prepared, options.backend);
  const inputs = listingView(tool, prepared);
  const resources = options.resources ?? evaluateResources(tool, inputs, engine);
  const runtime = { outdir: path.join(options.workDir, "out"), tmpdir: path.join(options.workDir, "tmp"), cores: Math.ceil(resources.cores), ram: resources.ram, outdirSize: resources.outdirSize, tmpdirSize: resources.tmpdirSize };
  const value = evaluateExpressions(tool.expression, { inputs, self: null, runtime }, engine);
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new CwlOutputError(`${tool.id}: the expression must evaluate to an object of outputs, got ${JSON.stringify(value)}.`);
  }
  const out: Record<string, unknown> = {};
  for (const p of tool.outputs) out[p.id] = (value as Record<string, unknown>)[p.id] ?? null;
  checkOutputTypes(tool.outputs, out);
  // File literals an expression makes are written out so they can be stored.
  let n = 0;
  const literalDir = path.join(options.workDir, "literals");
  const written = await mapFiles(out, async function write(f: CwlFileOrDirectory): Promise<CwlFileOrDirectory> {
    if (f.class === "File" && f.location === undefined && typeof f.contents === "string") {
      const dir = path.join(literalDir, String(n++));
      await mkdir(dir, { recursive: true });
      const p = path.join(dir, f.basename ?? "literal");
      await new Promise<void>((res, rej) => createWriteStream(p).on("error", rej).end(f.contents, () => res()));
      return { ...f, path: p, basename: f.basename ?? "literal" };
    }
    if (f.class === "Directory" && f.listing) return { ...f, listing: (await Promise.all(f.listing.map(write))) as CwlFileOrDirectory[] };
    return f;
  });
  return { outputs: await storeOutputs(written as Record<string, unknown>, options.backend, prepared) };
}
