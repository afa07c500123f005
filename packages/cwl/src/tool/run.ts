/**
 * Running one CommandLineTool or ExpressionTool: inputs prepared and staged, the command line
 * built, the process run in its output directory with stdin/stdout/stderr redirected, its exit
 * code classified (successCodes, temporaryFailCodes, permanentFailCodes), outputs collected and
 * handed to the file backend.
 */
import { randomBytes } from "node:crypto";
import { createWriteStream, existsSync } from "node:fs";
import { lstat, mkdir, readdir, rm, symlink } from "node:fs/promises";
import path from "node:path";
import { CwlOutputError, CwlPermanentFailureError, CwlTemporaryFailureError, UnsupportedCwlFeatureError } from "../errors.js";
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
import { CONTAINER_INPUTS, CONTAINER_OUTDIR, CONTAINER_TMPDIR, containerCommand, containerKillCommand, detectContainerEngine, dockerRequirement, networkAccess, type ContainerEngine } from "./container.js";
import { execute } from "./execute.js";
import { ensureImage } from "./image.js";
import { applyMoves, layOutInitialWorkDir, planInitialWorkDir } from "./initial-workdir.js";
import { PathMapper } from "./path-map.js";
import { directoryIdentity, newDirectoryLocation, refreshDirectories } from "./directory-state.js";

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
  /**
   * The container engine for tools with a DockerRequirement: an engine, `null` to run every tool on
   * this host (`--no-container`), or undefined to use the one that answers here (see
   * `detectContainerEngine`).
   */
  containerEngine?: ContainerEngine | null;
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

/** Prepare inputs: Directories changed in place brought up to date, defaults, types, secondary files, formats. */
async function prepareInputs(
  tool: CommandLineTool | ExpressionTool,
  given: Record<string, unknown>,
  engine: ExpressionEngine,
  backend?: FileBackend,
): Promise<Record<string, unknown>> {
  const current = backend ? await refreshDirectories(given, backend) : given;
  const inputs = applyDefaults(tool.inputs, current);
  checkInputTypes(tool.inputs, inputs, tool.id);
  checkSecondaryFiles(tool.inputs, inputs, engine, tool.id);
  await checkFormats(tool, inputs, engine, tool.id);
  return inputs;
}

/** Outputs handed to the backend: Files stored (unless the backend has them already), local paths dropped. */
async function storeOutputs(outputs: Record<string, unknown>, backend: FileBackend, inputs?: unknown): Promise<Record<string, unknown>> {
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
      // A stored Directory gets an identity, so a later in-place update of it can be seen (directory-state.ts).
      if (directoryIdentity(out.location) === undefined) out.location = newDirectoryLocation(out.basename ?? "dir");
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

/** Where a tool runs: on this host, or in a container of an engine. */
interface Placement {
  engine?: ContainerEngine;
  req?: Requirement;
  /** The output directory as the tool sees it. */
  outdir: string;
  /** The temporary directory as the tool sees it. */
  tmpdir: string;
  mapper: PathMapper;
}

/** Decide where the tool runs: a DockerRequirement (or hint) with an engine that answers puts it in a container. */
function placement(tool: CommandLineTool, options: ToolRunOptions, dirs: { outdir: string; tmpdir: string; stagedir: string }, log: (line: string) => void): Placement {
  const onHost: Placement = { outdir: dirs.outdir, tmpdir: dirs.tmpdir, mapper: new PathMapper() };
  const docker = dockerRequirement(tool);
  if (!docker || options.containerEngine === null) return onHost;
  const detection = options.containerEngine !== undefined ? { engine: options.containerEngine, reason: "" } : detectContainerEngine(options.env ?? process.env);
  if (detection.engine === undefined) {
    if (!docker.hint) {
      throw new UnsupportedCwlFeatureError(
        "DockerRequirement",
        `${tool.id}: DockerRequirement: ${detection.reason}. Install Docker, Podman, Singularity or Apptainer, or run with --no-container to run the tool on this host.`,
      );
    }
    log(`warning: ${tool.id}: the DockerRequirement hint is ignored (${detection.reason}); the tool runs on this host.`);
    return onHost;
  }
  const dockerOutdir = docker.req.dockerOutputDirectory;
  const outdir = typeof dockerOutdir === "string" && dockerOutdir.startsWith("/") ? dockerOutdir : CONTAINER_OUTDIR;
  const mapper = new PathMapper([
    [dirs.outdir, outdir],
    [dirs.tmpdir, CONTAINER_TMPDIR],
    [dirs.stagedir, CONTAINER_INPUTS],
  ]);
  return { engine: detection.engine, req: docker.req, outdir, tmpdir: CONTAINER_TMPDIR, mapper };
}

/** Run a CommandLineTool on an input object. */
export async function runCommandLineTool(tool: CommandLineTool, given: Record<string, unknown>, options: ToolRunOptions): Promise<ToolRunResult> {
  await loadJavaScriptEngineFor(tool);
  const log = options.log ?? (() => undefined);
  const engine = expressionEngineFor(tool);
  const prepared = await prepareInputs(tool, given, engine, options.backend);
  const outdir = path.join(options.workDir, "out");
  const tmpdir = path.join(options.workDir, "tmp");
  const stagedir = path.join(options.workDir, "stage");
  await mkdir(outdir, { recursive: true });
  await mkdir(tmpdir, { recursive: true });
  const where = placement(tool, options, { outdir, tmpdir, stagedir }, log);
  const { mapper } = where;
  const staged = await new Stager(stagedir, options.backend).stage(prepared);
  await loadInputContents(tool.inputs, staged, options.backend);
  const hostInputs = listingView(tool, staged);
  const resources = options.resources ?? evaluateResources(tool, hostInputs, engine);
  const runtime: Record<string, unknown> = {
    outdir: where.outdir,
    tmpdir: where.tmpdir,
    cores: Math.ceil(resources.cores),
    ram: resources.ram,
    outdirSize: resources.outdirSize,
    tmpdirSize: resources.tmpdirSize,
  };

  // The initial working directory: evaluated on the paths the tool sees, laid out on the host.
  let inputs = mapper.mapValue(hostInputs, "toRuntime");
  const plan = planInitialWorkDir(tool, { inputs, runtime, engine, inContainer: where.engine !== undefined && !dockerRequirement(tool)!.hint, runtimeOutdir: where.outdir, where: tool.id });
  const workDir = await layOutInitialWorkDir(
    plan.map((e) => (e.value ? { ...e, value: mapper.mapValue(e.value, "toHost") } : e)),
    { outdir, stageDir: path.join(options.workDir, "iwd"), backend: options.backend, ...(where.engine ? { containerOutdir: where.outdir } : {}), where: tool.id },
  );
  inputs = mapper.mapValue(applyMoves(hostInputs, workDir.moves), "toRuntime");

  const words = buildCommandLine(tool, { inputs, runtime, engine });
  const shell = findRequirement(requirementsOf(tool), "ShellCommandRequirement") !== undefined;
  const toolArgv = shell ? ["/bin/sh", "-c", shellCommand(words)] : words.map((w: CommandWord) => w.word);
  if (toolArgv.length === 0 && where.engine === undefined) throw new CwlPermanentFailureError(`${tool.id}: the command line is empty (no baseCommand and no arguments).`);

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
  const toolEnv: Record<string, string> = {
    HOME: where.outdir,
    TMPDIR: where.tmpdir,
    ...evaluateEnvironment(tool, inputs, runtime, engine),
  };
  const timeLimit = evaluateTimeLimit(tool, inputs, engine);

  let argv = toolArgv;
  let env: Record<string, string> = { PATH: (options.env ?? process.env).PATH ?? "/usr/bin:/bin", ...toolEnv };
  let onTimeout: (() => void) | undefined;
  if (where.engine !== undefined) {
    const image = await ensureImage(where.engine, where.req!, log);
    const name = `toil-cwl-${randomBytes(8).toString("hex")}`;
    const cmd = containerCommand({
      engine: where.engine,
      image,
      argv: toolArgv,
      outdir,
      containerOutdir: where.outdir,
      tmpdir,
      mounts: [{ source: stagedir, target: CONTAINER_INPUTS, readonly: true }, ...workDir.mounts],
      env: toolEnv,
      networkAccess: networkAccess(tool, (v) => evaluateExpressions(v, { inputs, self: null, runtime }, engine)),
      uid: process.getuid?.() ?? 0,
      gid: process.getgid?.() ?? 0,
      name,
    });
    argv = cmd.argv;
    env = { ...(options.env ?? process.env), ...cmd.env } as Record<string, string>;
    const kill = containerKillCommand(where.engine, name);
    if (kill) onTimeout = () => void execute(kill, { cwd: outdir, env, timeLimit: 60, log: () => undefined, what: "stopping the container" }).catch(() => undefined);
    await mkdir(stagedir, { recursive: true });
  }

  log(`Running ${argv.map((a) => (/[\s'"]/.test(a) ? JSON.stringify(a) : a)).join(" ")}${stdinPath ? ` < ${stdinPath}` : ""}${stdoutName ? ` > ${stdoutName}` : ""}${stderrName ? ` 2> ${stderrName}` : ""}`);
  const code = await execute(argv, {
    cwd: outdir,
    env,
    ...(stdinPath !== undefined ? { stdinPath: mapper.toHost(stdinPath) } : {}),
    ...(stdoutName !== undefined ? { stdoutPath: path.join(outdir, stdoutName) } : {}),
    ...(stderrName !== undefined ? { stderrPath: path.join(outdir, stderrName) } : {}),
    timeLimit,
    log,
    what: tool.id,
    ...(onTimeout ? { onTimeout } : {}),
  });
  // Entries a container saw as mounts are linked now, so output globs find them as on the host.
  // The engine may have left an empty file or directory where it mounted an entry: replace it.
  for (const l of workDir.linkAfter) {
    const st = await lstat(l.dest).catch(() => undefined);
    if (st !== undefined && ((st.isFile() && st.size === 0) || (st.isDirectory() && (await readdir(l.dest)).length === 0))) await rm(l.dest, { recursive: true, force: true });
    if (!existsSync(l.dest)) await symlink(l.source, l.dest).catch(() => undefined);
  }
  const status = classify(tool, code);
  if (status === "temporaryFail") throw new CwlTemporaryFailureError(`${tool.id}: the tool exited with ${code}, one of its temporaryFailCodes.`, code);
  if (status === "permanentFail") throw new CwlPermanentFailureError(`${tool.id}: the tool exited with ${code} (not one of its success codes).`, code);
  runtime.exitCode = code;
  const collected = await collectOutputs(tool, {
    outdir,
    toHost: (p) => mapper.toHost(p),
    inputs,
    runtime,
    engine,
    linkRoots: [stagedir, path.join(options.workDir, "iwd")],
  });
  const inplace = await updateFilesInPlace(tool, collected, workDir.writableCopies, options.backend);
  const stored = await storeOutputs(inplace.outputs, options.backend, staged);
  await recordDirectoriesInPlace(inplace.directories, stored, options.backend);
  return { outputs: stored, command: toolArgv, exitCode: code };
}

/**
 * InplaceUpdateRequirement, before outputs are stored: a writable File the tool changed in place
 * is written back over the job-store file it was staged from, and an output that is that file
 * keeps its location, so later steps that read the original see the change. An output that is a
 * writable Directory copy takes the original Directory's identity; the Directories to record
 * (identity → local copy) are returned for {@link recordDirectoriesInPlace}.
 */
async function updateFilesInPlace(
  tool: CommandLineTool,
  outputs: Record<string, unknown>,
  copies: Map<string, CwlFileOrDirectory>,
  backend: FileBackend,
): Promise<{ outputs: Record<string, unknown>; directories: Map<string, string> }> {
  const directories = new Map<string, string>();
  const req = findRequirement(tool, "InplaceUpdateRequirement");
  if (!req || req.req.inplaceUpdate !== true || copies.size === 0) return { outputs, directories };
  const newLocation = new Map<string, string>();
  for (const [copy, original] of copies) {
    if (original.class === "Directory") {
      const id = directoryIdentity(original.location);
      if (id !== undefined && backend.writeDirectoryState !== undefined) {
        directories.set(id, copy);
        newLocation.set(copy, original.location!);
      }
    } else if (original.location !== undefined && backend.owns(original.location) && backend.update !== undefined) {
      newLocation.set(copy, await backend.update(original.location, copy));
    }
  }
  const updated = (await mapFiles(outputs, async function visit(f: CwlFileOrDirectory): Promise<CwlFileOrDirectory> {
    const moved = typeof f.path === "string" ? newLocation.get(f.path) : undefined;
    const out = moved !== undefined ? { ...f, location: moved } : f;
    if (out.class === "Directory" && out.listing) return { ...out, listing: (await Promise.all(out.listing.map(visit))) as CwlFileOrDirectory[] };
    return out;
  })) as Record<string, unknown>;
  return { outputs: updated, directories };
}

/** Record the new listing of each Directory changed in place: the stored output that is it, else its copy stored now. */
async function recordDirectoriesInPlace(directories: Map<string, string>, stored: Record<string, unknown>, backend: FileBackend): Promise<void> {
  if (directories.size === 0 || backend.writeDirectoryState === undefined) return;
  for (const [id, copy] of directories) {
    let listing: CwlFileOrDirectory[] | undefined;
    visitFiles(stored, (f) => {
      if (listing === undefined && f.class === "Directory" && directoryIdentity(f.location) === id) listing = (f as CwlDirectory).listing;
    });
    if (listing === undefined) {
      const own = await storeOutputs({ dir: await localDirectoryObject(copy) }, backend);
      listing = (own.dir as CwlDirectory).listing ?? [];
    }
    await backend.writeDirectoryState(id, listing);
  }
}

/** Run an ExpressionTool: evaluate its expression on the (unstaged) inputs. */
export async function runExpressionTool(tool: ExpressionTool, given: Record<string, unknown>, options: ToolRunOptions): Promise<ToolRunResult> {
  await loadJavaScriptEngineFor(tool);
  const engine = expressionEngineFor(tool);
  const prepared = await prepareInputs(tool, given, engine, options.backend);
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
