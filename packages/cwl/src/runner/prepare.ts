/**
 * The leader's side of a CWL run, before any job exists: load and check the process, build and
 * check the input object, import every input file (and every default file of the process tree)
 * into the job store, and make the root job.
 */
import { existsSync, statSync } from "node:fs";
import type { Job } from "@toil/job";
import { mapFiles, type CwlFileOrDirectory } from "../files.js";
import { CwlLoader, processUrl } from "../load/index.js";
import { urlToPath } from "../load/uri.js";
import type { CommandLineTool, ExpressionTool, Process, Requirement, Workflow } from "../model.js";
import { applyDefaults, checkFormats, checkInputTypes, checkSecondaryFiles } from "../tool/inputs.js";
import { checkSupported, evaluateResources, expressionEngineFor } from "../tool/requirements.js";
import { loadJavaScriptEngineFor } from "../expr/javascript.js";
import { CwlToolJob, CwlWorkflowJob } from "../jobs/jobs.js";
import { registerCwlJobs } from "../jobs/location.js";
import { toilFileLocation } from "../jobs/file-store-backend.js";
import { directoryIdentity, newDirectoryLocation } from "../tool/directory-state.js";
import { discoverSecondaryFiles, expandDirectoryListings, expandFormats, fillLocalSizes, parseInputFlags, readJobOrder } from "./job-order.js";
import { shortName } from "../load/uri.js";

/** What a CWL run is started from. */
export interface CwlRunRequest {
  /** The process: a path or URL, optionally ending in `#id`. */
  process: string;
  /** The input object file (YAML or JSON), if any. */
  jobOrder?: string;
  /** Tool inputs given as flags after the process (`--reads a.fq`). */
  inputFlags?: readonly string[];
  /** Directory relative paths are resolved against (default: the current directory). */
  cwd?: string;
  /** Run tools that require a container on this host instead (`--no-container`). */
  noContainer?: boolean;
}

/** A loaded, checked process with its input object. */
export interface PreparedCwlRun {
  /** The process (with requirements given in the input object merged in). */
  process: Process;
  /** Its input object, defaults applied and checked. */
  inputs: Record<string, unknown>;
}

/**
 * Load the process and its input object and check both: unsupported features raise
 * `UnsupportedCwlFeatureError` (exit 33), bad documents `CwlDocumentError`, bad inputs `CwlInputError`.
 */
export async function prepareCwlRun(request: CwlRunRequest): Promise<PreparedCwlRun> {
  const cwd = request.cwd ?? process.cwd();
  const loaded = await new CwlLoader().load(processUrl(request.process, cwd), cwd);
  const jobOrder = request.jobOrder !== undefined ? await readJobOrder(request.jobOrder, cwd) : { inputs: {}, requirements: [] };
  // Requirements given with the inputs override the process's own.
  const given = jobOrder.requirements;
  const merged: Process = given.length === 0 ? loaded : { ...loaded, requirements: [...loaded.requirements.filter((r) => !given.some((g) => g.class === r.class)), ...given] };
  checkSupported(merged, { noContainer: request.noContainer ?? false });
  // --no-container: every tool runs on this host, whatever its DockerRequirement says.
  const proc = request.noContainer ? withoutContainers(merged) : merged;
  await loadJavaScriptEngineFor(proc);
  const order = jobOrder.inputs;
  Object.assign(order, parseInputFlags(request.inputFlags ?? [], proc, cwd));
  expandFormats(order, proc.namespaces);
  const inputs = applyDefaults(proc.inputs, order);
  expandDirectoryListings(inputs);
  fillLocalSizes(inputs);
  discoverSecondaryFiles(proc.inputs, inputs, proc);
  const engine = expressionEngineFor(proc);
  checkInputTypes(proc.inputs, inputs, proc.id);
  checkSecondaryFiles(proc.inputs, inputs, engine, proc.id);
  await checkFormats(proc, inputs, engine, proc.id);
  return { process: proc, inputs };
}

/** Imports files into the job store; resolves to the new FileID. */
export type FileImporter = (url: string) => Promise<string>;

/** Messages about files that could not be imported (a default that does not exist is only a warning). */
export type ImportWarning = (message: string) => void;

class Importer {
  private readonly done = new Map<string, Promise<string>>();
  constructor(
    private readonly importFile: FileImporter,
    private readonly warn: ImportWarning,
  ) {}

  private importOnce(location: string): Promise<string> {
    let p = this.done.get(location);
    if (!p) {
      p = this.importFile(location).then(toilFileLocation);
      this.done.set(location, p);
    }
    return p;
  }

  async file(f: CwlFileOrDirectory, optional: boolean): Promise<CwlFileOrDirectory> {
    const out = { ...f } as CwlFileOrDirectory;
    if (f.class === "File") {
      if (f.location !== undefined && /^(file|https?):/.test(f.location)) {
        const local = urlToPath(f.location);
        if (local !== undefined && !existsSync(local) && optional) {
          this.warn(`Default file ${local} does not exist; it is used only if the input is not given.`);
          return out;
        }
        if (local !== undefined && out.size === undefined) out.size = statSync(local).size;
        out.location = await this.importOnce(f.location);
        delete out.path;
      }
      if (f.secondaryFiles) out.secondaryFiles = await Promise.all(f.secondaryFiles.map((s) => this.file(s, optional)));
    } else {
      if (f.listing) out.listing = await Promise.all(f.listing.map((s) => this.file(s, optional)));
      // An identity, so an in-place update of this Directory shows in every step that reads it.
      if (f.listing !== undefined && directoryIdentity(f.location) === undefined) out.location = newDirectoryLocation(f.basename ?? "dir");
      delete out.path;
    }
    return out;
  }

  async value<T>(v: T, optional = false): Promise<T> {
    return (await mapFiles(v, (f) => this.file(f, optional))) as T;
  }

  /** Files and Directories written in an InitialWorkDirRequirement listing (not expressions). */
  private async requirements(list: Requirement[]): Promise<Requirement[]> {
    const out: Requirement[] = [];
    for (const r of list) {
      if (r.class === "InitialWorkDirRequirement" && Array.isArray(r.listing)) out.push({ ...r, listing: await this.value(r.listing) });
      else out.push(r);
    }
    return out;
  }

  /** Import the default files of a process tree (inputs' and steps' defaults, InitialWorkDirRequirement literals). */
  async process<P extends Process>(p: P): Promise<P> {
    const inputs = [];
    for (const i of p.inputs) inputs.push("default" in i ? { ...i, default: await this.value(i.default, true) } : i);
    const reqs = { requirements: await this.requirements(p.requirements), hints: await this.requirements(p.hints) };
    if (p.class !== "Workflow") return { ...p, ...reqs, inputs };
    const wf = p as Workflow;
    const steps = [];
    for (const s of wf.steps) {
      const ins = [];
      for (const i of s.in) ins.push("default" in i ? { ...i, default: await this.value(i.default, true) } : i);
      steps.push({ ...s, in: ins, run: await this.process(s.run), requirements: await this.requirements(s.requirements), hints: await this.requirements(s.hints) });
    }
    return { ...wf, ...reqs, inputs, steps } as P;
  }
}

/**
 * Import the input files and the process tree's default files into the job store: their
 * locations become `toilfile:` locations every worker can read.
 */
export async function importCwlFiles(run: PreparedCwlRun, importFile: FileImporter, warn: ImportWarning = () => undefined): Promise<PreparedCwlRun> {
  const importer = new Importer(importFile, warn);
  const expanded = structuredClone(run);
  expandDirectoryListings(collectDefaults(expanded.process));
  return { process: await importer.process(expanded.process), inputs: await importer.value(expanded.inputs) };
}

/** InitialWorkDirRequirement listings of a list of requirements. */
function listings(list: readonly Requirement[]): unknown[] {
  return list.filter((r) => r.class === "InitialWorkDirRequirement" && Array.isArray(r.listing)).map((r) => r.listing);
}

/** Every default value (and InitialWorkDirRequirement listing) of a process tree, for listing Directories before import. */
function collectDefaults(p: Process): unknown[] {
  const out: unknown[] = p.inputs.filter((i) => "default" in i).map((i) => i.default);
  out.push(...listings(p.requirements), ...listings(p.hints));
  if (p.class === "Workflow") {
    for (const s of p.steps) {
      for (const i of s.in) if ("default" in i) out.push(i.default);
      out.push(...listings(s.requirements), ...listings(s.hints));
      out.push(...collectDefaults(s.run));
    }
  }
  return out;
}

/** The root job of a run: a tool job, or a workflow job. Registers the CWL job module first. */
export function cwlRootJob(run: PreparedCwlRun): Job {
  registerCwlJobs();
  const p = run.process;
  const name = shortName(p.id).replace(/\.cwl$/, "") || p.class;
  if (p.class === "Workflow") return new CwlWorkflowJob(p, run.inputs, "");
  const tool = p as CommandLineTool | ExpressionTool;
  const resources = evaluateResources(tool, run.inputs, expressionEngineFor(tool));
  return new CwlToolJob(tool, run.inputs, undefined, resources, name);
}

/** The process tree without DockerRequirement (requirements and hints): `--no-container`. */
function withoutContainers<P extends Process>(p: P): P {
  const strip = (list: Requirement[]): Requirement[] => list.filter((r) => r.class !== "DockerRequirement");
  const out = { ...p, requirements: strip(p.requirements), hints: strip(p.hints) };
  if (out.class !== "Workflow") return out;
  return { ...out, steps: (out as Workflow).steps.map((s) => ({ ...s, requirements: strip(s.requirements), hints: strip(s.hints), run: withoutContainers(s.run) })) } as P;
}
