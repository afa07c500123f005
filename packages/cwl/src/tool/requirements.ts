/**
 * Requirements as a tool run sees them: the expression engine (InlineJavascriptRequirement),
 * resources (ResourceRequirement, CWL v1.2 defaults), environment variables (EnvVarRequirement),
 * the time limit (ToolTimeLimit), and which requirements this runner implements.
 */
import { CwlInputError, UnsupportedCwlFeatureError } from "../errors.js";
import { evaluateExpressions, parameterReferenceEngine, type ExpressionEngine } from "../expr/engine.js";
import { JavaScriptEngine } from "../expr/javascript.js";
import { detectContainerEngine, type EngineDetection } from "./container.js";
import { findRequirement, type Process, type Requirement } from "../model.js";

/** What a process's requirements and hints are looked up in. */
export interface RequirementHolder {
  /** Requirements (honoured, or the run stops with exit 33). */
  requirements: Requirement[];
  /** Hints (honoured when known). */
  hints: Requirement[];
}

/**
 * The expression engine for a process: JavaScript when `InlineJavascriptRequirement` is in effect
 * (as a requirement or a hint), parameter references otherwise.
 */
export function expressionEngineFor(p: RequirementHolder): ExpressionEngine {
  const js = findRequirement(p, "InlineJavascriptRequirement");
  if (!js) return parameterReferenceEngine;
  const lib = Array.isArray(js.req.expressionLib) ? js.req.expressionLib.map(String) : [];
  return new JavaScriptEngine(lib);
}

/** Resources a tool asks for, as CWL's `runtime` reports them (cores, and MiB for the rest). */
export interface ToolResources {
  /** Cores (may be fractional; `runtime.cores` rounds up). */
  cores: number;
  /** RAM in MiB. */
  ram: number;
  /** Output directory space in MiB. */
  outdirSize: number;
  /** Temporary directory space in MiB. */
  tmpdirSize: number;
}

/** CWL v1.2 defaults when ResourceRequirement says nothing. */
export const DEFAULT_RESOURCES: ToolResources = { cores: 1, ram: 256, outdirSize: 1024, tmpdirSize: 1024 };

/** Evaluate ResourceRequirement (`xMin`, else `xMax`) against the inputs. */
export function evaluateResources(p: RequirementHolder, inputs: Record<string, unknown>, engine: ExpressionEngine): ToolResources {
  const found = findRequirement(p, "ResourceRequirement");
  const out = { ...DEFAULT_RESOURCES };
  if (!found) return out;
  const r = found.req;
  const value = (field: string): number | undefined => {
    const raw = r[field];
    if (raw === undefined || raw === null) return undefined;
    const v = typeof raw === "string" ? evaluateExpressions(raw, { inputs, self: null, runtime: {} }, engine) : raw;
    if (v === null || v === undefined) return undefined;
    if (typeof v !== "number" || !(v >= 0)) throw new CwlInputError(`ResourceRequirement.${field} is ${JSON.stringify(v)}; it must be a non-negative number.`);
    return v;
  };
  const pick = (name: string): number | undefined => value(`${name}Min`) ?? value(`${name}Max`);
  const cores = pick("cores");
  const ram = pick("ram");
  const outdir = pick("outdir");
  const tmpdir = pick("tmpdir");
  if (cores !== undefined) out.cores = cores;
  if (ram !== undefined) out.ram = Math.ceil(ram);
  if (outdir !== undefined) out.outdirSize = Math.ceil(outdir);
  if (tmpdir !== undefined) out.tmpdirSize = Math.ceil(tmpdir);
  return out;
}

/** Environment variables EnvVarRequirement defines (values may be expressions). */
export function evaluateEnvironment(p: RequirementHolder, inputs: Record<string, unknown>, runtime: Record<string, unknown>, engine: ExpressionEngine): Record<string, string> {
  const env: Record<string, string> = {};
  // Hints first, so a requirement overrides a hint.
  const all = [...p.hints.filter((r) => r.class === "EnvVarRequirement"), ...p.requirements.filter((r) => r.class === "EnvVarRequirement")];
  for (const r of all) {
    const defs = Array.isArray(r.envDef) ? (r.envDef as Record<string, unknown>[]) : [];
    for (const d of defs) {
      const v = evaluateExpressions(String(d.envValue ?? ""), { inputs, self: null, runtime }, engine);
      env[String(d.envName)] = typeof v === "string" ? v : JSON.stringify(v);
    }
  }
  return env;
}

/** Seconds a tool may run (ToolTimeLimit; 0 or absent: no limit). */
export function evaluateTimeLimit(p: RequirementHolder, inputs: Record<string, unknown>, engine: ExpressionEngine): number {
  const found = findRequirement(p, "ToolTimeLimit");
  if (!found) return 0;
  const raw = found.req.timelimit;
  const v = typeof raw === "string" ? evaluateExpressions(raw, { inputs, self: null, runtime: {} }, engine) : raw;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
    throw new CwlInputError(`ToolTimeLimit.timelimit is ${JSON.stringify(v)}; it must be a non-negative integer (seconds).`);
  }
  return v;
}

/** Requirement classes this runner implements (others, under `requirements`, exit 33). */
export const SUPPORTED_REQUIREMENTS: ReadonlySet<string> = new Set([
  "InlineJavascriptRequirement",
  "SchemaDefRequirement",
  "LoadListingRequirement",
  "EnvVarRequirement",
  "ShellCommandRequirement",
  "ResourceRequirement",
  "WorkReuse",
  "NetworkAccess",
  "ToolTimeLimit",
  "SoftwareRequirement",
  "StepInputExpressionRequirement",
  "MultipleInputFeatureRequirement",
  "SubworkflowFeatureRequirement",
  "ScatterFeatureRequirement",
  "DockerRequirement",
  "InitialWorkDirRequirement",
  "InplaceUpdateRequirement",
]);

/** Options that change what is supported. */
export interface SupportOptions {
  /** `--no-container`: run tools that require a container on the host. */
  noContainer?: boolean;
  /**
   * Whether a container engine answers here, and if not why (asked only when a process requires
   * DockerRequirement; default: `detectContainerEngine()`).
   */
  containerEngine?: () => EngineDetection;
}

/**
 * Throw {@link UnsupportedCwlFeatureError} (exit 33) for the first feature of `process` (its steps
 * included) this runner does not implement, with a one-line reason.
 */
export function checkSupported(process: Process, options: SupportOptions = {}, where = process.id): void {
  for (const r of process.requirements) {
    if (!SUPPORTED_REQUIREMENTS.has(r.class)) {
      throw new UnsupportedCwlFeatureError(r.class, `${where}: requirement ${r.class} is not supported yet.`);
    }
    if (r.class === "DockerRequirement" && !options.noContainer) {
      const detection = (options.containerEngine ?? detectContainerEngine)();
      if (detection.engine === undefined) {
        throw new UnsupportedCwlFeatureError(
          "DockerRequirement",
          `${where}: DockerRequirement: ${detection.reason}. Install Docker, Podman, Singularity or Apptainer, or rerun with --no-container to run the tool on this host.`,
        );
      }
    }
  }
  if (process.class === "Operation") throw new UnsupportedCwlFeatureError("Operation", `${where}: an Operation is abstract and cannot run.`);
  if (process.class !== "Workflow") return;
  for (const step of process.steps) {
    const at = `${where} step '${step.id}'`;
    for (const r of step.requirements) {
      if (!SUPPORTED_REQUIREMENTS.has(r.class)) throw new UnsupportedCwlFeatureError(r.class, `${at}: requirement ${r.class} is not supported yet.`);
    }
    checkSupported(step.run, options, at);
  }
}
