/**
 * The toil-ts jobs a CWL run is made of. A tool is one job; a workflow is a job that adds one job
 * per step, each a child of the steps it takes values from (so it runs as soon as its inputs
 * exist), and a follow-on that gathers the workflow's outputs. Values flow between steps as
 * promises of the step jobs' results; files flow through the job store.
 *
 * Workers load these classes by module reference (`cwlJobModuleUrl()`), never by a static import.
 */
import { Job, PermanentJobFailureError, resolved, type FileStore, type Promised, type RequirementsInput } from "@toil/job";
import { CwlError, CwlPermanentFailureError, CwlTemporaryFailureError } from "../errors.js";
import type { CommandLineTool, ExpressionTool, OutputParameter, Process, Workflow, WorkflowStepInput } from "../model.js";
import { findRequirement } from "../model.js";
import { loadJavaScriptEngineFor } from "../expr/javascript.js";
import { runCommandLineTool, runExpressionTool } from "../tool/run.js";
import { evaluateResources, expressionEngineFor, type RequirementHolder, type ToolResources } from "../tool/requirements.js";
import { applyDefaults, checkInputTypes, loadContentsInto, loadInputContents } from "../tool/inputs.js";
import { shortName } from "../load/uri.js";
import { applyValueFrom, evaluateWhen, sourceStep, stepSourceObject, stepOrder, withInheritedRequirements, workflowOutputObject } from "../workflow/links.js";
import { gatherScatter, planScatter, type ScatterMethod, type ScatterShape } from "../workflow/scatter.js";
import { FileStoreBackend } from "./file-store-backend.js";

/** Requirements of the small jobs that only move values around (workflows, output gathering). */
const LIGHT_JOB: RequirementsInput = { cores: 0.1, memory: "128Mi", disk: "1Mi" };

/** Toil requirements for a tool's resources (cores; RAM, outdir and tmpdir in MiB). */
function toilRequirements(r: ToolResources): RequirementsInput {
  return { cores: r.cores, memory: `${Math.max(1, r.ram)}Mi`, disk: `${Math.max(1, r.outdirSize + r.tmpdirSize)}Mi` };
}

/** Resources a process asks for when they do not depend on its inputs; undefined when they do. */
function staticResources(process: Process): ToolResources | undefined {
  const found = findRequirement(process, "ResourceRequirement");
  if (found && Object.entries(found.req).some(([k, v]) => k !== "class" && typeof v === "string")) return undefined;
  return evaluateResources(process, {}, expressionEngineFor(process));
}

/**
 * A process's name for people: its file's name (`sort.cwl` → `sort`), its id in a `$graph`; a
 * process written inside a step has its label, or its command (`echo`), or its class.
 */
function nameOf(process: Process): string {
  const hash = process.id.indexOf("#");
  const fragment = hash < 0 ? "" : process.id.slice(hash + 1);
  if (hash < 0 || (fragment !== "" && !fragment.includes("/") && !fragment.startsWith("_:"))) {
    const n = shortName(process.id).replace(/\.cwl$/, "");
    if (n) return n;
  }
  if (process.label) return process.label;
  if (process.class === "CommandLineTool" && process.baseCommand.length > 0) return process.baseCommand[0]!.split("/").pop()!;
  return process.class;
}

/**
 * Name a CWL job the way `toil status`, `toil stats` and `toil report` show it: its kind (what
 * `toil stats` groups by) is the tool or workflow it runs, not the runner's job class; its display
 * name is the step (`align`, `align[3]` for a scatter job, `outer/align` inside a subworkflow)
 * with the tool after it when their names differ.
 */
function nameJob(job: Job, kind: string, step: string, what = kind): void {
  job.description.jobName = kind;
  job.description.displayName = step === what ? step : `${step} (${what})`;
}

/**
 * Run a job body; a CWL error other than a temporary failure (bad input, a failing expression, a
 * permanent exit code, outputs that do not match their types) fails the job for good: running it
 * again would give the same result. A temporary failure code, and any other error, is retried.
 */
async function permanentOnCwlError<T>(body: () => T | Promise<T>, process?: Process | RequirementHolder): Promise<T> {
  try {
    if (process !== undefined) await loadJavaScriptEngineFor(process);
    return await body();
  } catch (err) {
    if (err instanceof CwlError && !(err instanceof CwlTemporaryFailureError)) {
      throw new PermanentJobFailureError(`${err.name}: ${err.message}`, { cause: err });
    }
    throw err;
  }
}

/** Run a CommandLineTool or ExpressionTool inside a job. */
async function runTool(
  tool: CommandLineTool | ExpressionTool,
  inputs: Record<string, unknown>,
  job: Job,
  fileStore: FileStore,
  inlineSmallFiles: boolean,
): Promise<Record<string, unknown>> {
  const workDir = await fileStore.getLocalTempDir();
  const backend = new FileStoreBackend(fileStore, { inlineSmallFiles });
  const options = {
    workDir,
    backend,
    log: (line: string) => {
      process.stderr.write(`${line}\n`);
    },
  };
  const result = tool.class === "CommandLineTool" ? await runCommandLineTool(tool, inputs, options) : await runExpressionTool(tool, inputs, options);
  if (result.command) job.log(`${job.displayName}: ran ${result.command.join(" ")} (exit ${result.exitCode})`, "debug");
  return result.outputs;
}

/** A CommandLineTool or ExpressionTool run on a known input object. */
export class CwlToolJob extends Job {
  constructor(
    /** The tool (its inherited requirements merged in). */
    readonly tool: CommandLineTool | ExpressionTool,
    /** Its input object. */
    readonly inputs: Promised<Record<string, unknown>>,
    /** Outputs to return (all when undefined). */
    readonly keep: string[] | undefined,
    resources: ToolResources,
    displayName: string,
    /** Whether small output files may travel inside the result (false in a workflow that updates files in place). */
    readonly inlineSmallFiles = true,
  ) {
    super({ ...toilRequirements(resources), displayName });
    nameJob(this, nameOf(tool), displayName);
  }

  override async run(fileStore: FileStore): Promise<Record<string, unknown>> {
    return permanentOnCwlError(async () => {
      const outputs = await runTool(this.tool, resolved(this.inputs), this, fileStore, this.inlineSmallFiles);
      return this.keep === undefined ? outputs : Object.fromEntries(this.keep.map((k) => [k, outputs[k] ?? null]));
    }, this.tool);
  }
}

/** One link into a step: its declaration and its sources (values, or promises of upstream results). */
interface StepLink {
  spec: WorkflowStepInput;
  values: unknown[];
}

/** What a step job needs to know about its step besides its process and links. */
interface StepSpec {
  /** The step's name within the run (`step`, or `outer/step` inside a subworkflow): shown in logs and status. */
  name: string;
  /** The outputs the step exposes. */
  out: string[];
  /** Inputs to scatter over. */
  scatter?: string[];
  /** How several scattered inputs combine. */
  scatterMethod?: ScatterMethod;
  /** The step's condition. */
  when?: string;
}

/** The job that runs a step's process on one input object: a tool job, or a subworkflow. */
function processJob(p: Process, inputs: Record<string, unknown>, out: string[], name: string, where: string, inlineSmallFiles: boolean): Job {
  if (p.class === "Workflow") return new CwlWorkflowJob(p, inputs, name, inlineSmallFiles);
  if (p.class === "Operation") throw new CwlPermanentFailureError(`${where}: an Operation cannot run.`);
  const resources = staticResources(p) ?? resourcesFor(p, inputs);
  return new CwlToolJob(p, inputs, out, resources, name, inlineSmallFiles);
}

/** Whether a process, or any process a workflow runs (nested included), asks for InplaceUpdateRequirement. */
function updatesFilesInPlace(p: Process): boolean {
  if (findRequirement(p, "InplaceUpdateRequirement") !== undefined) return true;
  return p.class === "Workflow" && p.steps.some((s) => findRequirement(s, "InplaceUpdateRequirement") !== undefined || updatesFilesInPlace(s.run));
}

/** Resources of a tool whose ResourceRequirement depends on its inputs. */
function resourcesFor(p: CommandLineTool | ExpressionTool, given: Record<string, unknown>): ToolResources {
  const prepared = applyDefaults(p.inputs, given);
  checkInputTypes(p.inputs, prepared, p.id);
  return evaluateResources(p, prepared, expressionEngineFor(p));
}

/**
 * A workflow step: gathers its inputs from upstream results, then runs its process. A scattered
 * step adds one job per scatter element and a follow-on that gathers their outputs into arrays;
 * a conditional step (`when`) whose condition is false outputs nulls without running anything.
 */
export class CwlStepJob extends Job {
  constructor(
    /** The step: its name, outputs, scatter and condition. */
    readonly step: StepSpec,
    /** The process the step runs (inherited requirements merged in). */
    readonly process: Process,
    /** Its input links. */
    readonly links: Promised<StepLink[]>,
    /** The requirements valueFrom and when are evaluated with: the workflow's, with the step's own. */
    readonly linkRequirements: RequirementHolder,
    /** Resources when the step runs its tool itself (no scatter, static ResourceRequirement). */
    resources: ToolResources | undefined,
    /** Whether small output files may travel inside results (false in a workflow that updates files in place). */
    readonly inlineSmallFiles = true,
  ) {
    super({ ...(resources ? toilRequirements(resources) : LIGHT_JOB), displayName: step.name });
    // A step that only adds jobs (a scatter, a subworkflow) is not a run of its tool.
    const tool = nameOf(process);
    if (step.scatter !== undefined) nameJob(this, `${tool} scatter`, step.name, `scatter of ${tool}`);
    else if (process.class === "Workflow") nameJob(this, `${tool} subworkflow`, step.name, `subworkflow ${tool}`);
    else nameJob(this, tool, step.name);
  }

  override run(fileStore: FileStore): Promise<unknown> {
    return permanentOnCwlError(async () => {
      await loadJavaScriptEngineFor(this.linkRequirements);
      return this.runStep(fileStore);
    }, this.process);
  }

  private async runStep(fileStore: FileStore): Promise<unknown> {
    const { name, out, scatter, scatterMethod, when } = this.step;
    const where = `step '${name}'`;
    const backend = new FileStoreBackend(fileStore);
    const links = resolved(this.links);
    const specs = links.map((l) => l.spec);
    const engine = expressionEngineFor(this.linkRequirements);
    const base = await stepSourceObject(links, where, (v, label) => loadContentsInto(v, backend, label));
    const nulls = (): Record<string, unknown> => Object.fromEntries(out.map((k) => [k, null]));
    const p = this.process;

    if (scatter === undefined || scatter.length === 0) {
      const inputs = applyValueFrom(base, specs, engine, where);
      if (when !== undefined && !evaluateWhen(when, inputs, engine, where)) {
        this.log(`${where}: skipped ('when' is false)`, "debug");
        return nulls();
      }
      if (p.class === "CommandLineTool" || p.class === "ExpressionTool") {
        if (staticResources(p) !== undefined) {
          const outputs = await runTool(p, inputs, this, fileStore, this.inlineSmallFiles);
          return Object.fromEntries(out.map((k) => [k, outputs[k] ?? null]));
        }
      }
      // A subworkflow, or a tool whose resources depend on its inputs: a child job that asks for them.
      return this.addChild(processJob(p, inputs, out, name, where, this.inlineSmallFiles)).rv();
    }

    const plan = planScatter(base, scatter, scatterMethod, where);
    const results: Promised<Record<string, unknown> | null>[] = [];
    let skipped = 0;
    plan.jobs.forEach((element, i) => {
      const at = `${where} (scatter job ${i + 1} of ${plan.jobs.length})`;
      const inputs = applyValueFrom(element, specs, engine, at);
      if (when !== undefined && !evaluateWhen(when, inputs, engine, at)) {
        skipped++;
        results.push(null);
        return;
      }
      results.push(this.addChild(processJob(p, inputs, out, `${name}[${i}]`, at, this.inlineSmallFiles)).rv() as Promised<Record<string, unknown>>);
    });
    if (skipped > 0) this.log(`${where}: ${skipped} of ${plan.jobs.length} scatter jobs skipped ('when' is false)`, "debug");
    return this.addFollowOn(new CwlScatterGatherJob(results, plan.shape, out, name, nameOf(p))).rv();
  }
}

/** Gathers the outputs of a scattered step's jobs into one array per output. */
export class CwlScatterGatherJob extends Job {
  constructor(
    /** Each scatter job's outputs (null for a job `when` skipped), in scatter order. */
    readonly results: Promised<(Record<string, unknown> | null)[]>,
    /** The nesting of the gathered arrays. */
    readonly shape: ScatterShape,
    /** The outputs the step exposes. */
    readonly out: string[],
    stepName: string,
    processName: string,
  ) {
    super({ ...LIGHT_JOB, displayName: `${stepName} gather` });
    nameJob(this, `${processName} gather`, `${stepName} gather`);
  }

  override run(): Record<string, unknown> {
    const results = resolved(this.results);
    return Object.fromEntries(this.out.map((k) => [k, gatherScatter(results.map((r) => (r === null ? null : (r[k] ?? null))), this.shape)]));
  }
}

/** One workflow output: its declaration and its sources (values or promises). */
interface OutputLink {
  spec: OutputParameter;
  values: unknown[];
}

/** Gathers a workflow's outputs once every step has finished. */
export class CwlOutputsJob extends Job {
  constructor(
    /** The workflow's outputs and their sources. */
    readonly outputs: Promised<OutputLink[]>,
    /** The workflow's name (for messages). */
    readonly workflowName: string,
  ) {
    super({ ...LIGHT_JOB, displayName: `${workflowName} outputs` });
    nameJob(this, "workflow outputs", `${workflowName} outputs`);
  }

  override run(): Promise<Record<string, unknown>> {
    return permanentOnCwlError(() => workflowOutputObject(resolved(this.outputs), `workflow '${this.workflowName}'`));
  }
}

/** A workflow: adds one job per step and a follow-on that gathers the outputs. */
export class CwlWorkflowJob extends Job {
  constructor(
    /** The workflow (its inherited requirements merged in). */
    readonly workflow: Workflow,
    /** Its input object. */
    readonly inputs: Promised<Record<string, unknown>>,
    /** The name of the step that runs it (`outer/inner` when nested), empty for the run's own workflow. */
    readonly prefix: string,
    /** Whether small output files may travel inside results: not when some step updates files in place. */
    readonly inlineSmallFiles = !updatesFilesInPlace(workflow),
  ) {
    super({ ...LIGHT_JOB, displayName: prefix || nameOf(workflow) });
    nameJob(this, nameOf(workflow), prefix || nameOf(workflow));
  }

  override run(fileStore: FileStore): Promise<unknown> {
    return permanentOnCwlError(() => this.addSteps(fileStore));
  }

  private async addSteps(fileStore: FileStore): Promise<unknown> {
    const wf = this.workflow;
    const inputs = applyDefaults(wf.inputs, resolved(this.inputs));
    checkInputTypes(wf.inputs, inputs, wf.id);
    await loadInputContents(wf.inputs, inputs, new FileStoreBackend(fileStore));
    const jobs = new Map<string, Job>();
    const value = (source: string): unknown => {
      const step = sourceStep(source);
      if (step === undefined) return inputs[source] ?? null;
      const job = jobs.get(step);
      if (!job) throw new CwlPermanentFailureError(`${wf.id}: source ${source} names an unknown step.`);
      return job.rv(source.slice(step.length + 1));
    };
    const byId = new Map(wf.steps.map((s) => [s.id, s]));
    for (const id of stepOrder(wf.steps, wf.id)) {
      const step = byId.get(id)!;
      const process = withInheritedRequirements(step.run, wf, step);
      const links: StepLink[] = step.in.map((spec) => ({ spec, values: spec.source.map(value) }));
      const linkRequirements = withInheritedRequirements({ ...wf, requirements: [], hints: [] }, wf, step);
      const spec: StepSpec = { name: this.prefix ? `${this.prefix}/${step.id}` : step.id, out: step.out };
      if (step.scatter !== undefined && step.scatter.length > 0) spec.scatter = step.scatter;
      if (step.scatterMethod !== undefined) spec.scatterMethod = step.scatterMethod;
      if (step.when !== undefined) spec.when = step.when;
      const runsItself = spec.scatter === undefined && process.class !== "Workflow" && process.class !== "Operation";
      const job = new CwlStepJob(spec, process, links, { requirements: linkRequirements.requirements, hints: linkRequirements.hints }, runsItself ? staticResources(process) : undefined, this.inlineSmallFiles);
      const upstream = new Set(step.in.flatMap((i) => i.source.map(sourceStep)).filter((s): s is string => s !== undefined && jobs.has(s)));
      if (upstream.size === 0) this.addChild(job);
      for (const u of upstream) jobs.get(u)!.addChild(job);
      jobs.set(id, job);
    }
    const outputs: OutputLink[] = wf.outputs.map((spec) => ({ spec, values: (spec.outputSource ?? []).map(value) }));
    const gather = this.addFollowOn(new CwlOutputsJob(outputs, this.prefix || nameOf(wf)));
    return gather.rv();
  }
}
