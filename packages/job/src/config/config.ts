import { randomUUID } from "node:crypto";
import * as z from "zod";
import { configSchema, type Config, type ConfigInput, type ConfigKey } from "./schema.js";
import type { ConfigOptionSpec } from "./options.js";
import { tryParseConfigSize } from "./size.js";
import { ConfigError, parseStoredDocument } from "./stored.js";
import { parseAccelerator } from "../requirements.js";

function issuesFromZod(error: z.ZodError, sourceOf?: (option: string) => string | undefined): ConfigError {
  const issues = error.issues.map((issue) => {
    const option = issue.path.map(String).join(".") || "(config)";
    let message = issue.message;
    if (issue.code === "unrecognized_keys") {
      const keys = (issue as { keys?: string[] }).keys ?? [];
      message = `unknown option${keys.length === 1 ? "" : "s"} ${keys.map((k) => JSON.stringify(k)).join(", ")}${suggest(keys[0])}`;
    }
    return { option, message };
  });
  const lines = issues.map(({ option, message }) => {
    const src = sourceOf?.(option);
    return `  ${option}${src ? ` (from ${src})` : ""}: ${message}`;
  });
  return new ConfigError(`Invalid configuration:\n${lines.join("\n")}`, issues);
}

function suggest(key: string | undefined): string {
  if (!key) return "";
  const lower = key.toLowerCase();
  if (lower === "setenv") return '; did you mean "environment" (the config key of --setEnv)?';
  const match = Object.keys(configSchema.shape).find((name) => name.toLowerCase() === lower);
  return match ? `; did you mean "${match}"?` : "";
}

/** Cross-field checks zod cannot express per field. */
function checkConsistency(config: Config): Array<{ option: string; message: string }> {
  const problems: Array<{ option: string; message: string }> = [];
  const pairs: Array<[ConfigKey, ConfigKey, string]> = [
    ["defaultCores", "maxCores", "cores"],
    ["defaultMemory", "maxMemory", "bytes of memory"],
    ["defaultDisk", "maxDisk", "bytes of disk"],
  ];
  for (const [def, max, unit] of pairs) {
    const d = config[def] as number;
    const m = config[max] as number | undefined;
    if (m !== undefined && d > m) {
      problems.push({ option: def, message: `default of ${d} ${unit} exceeds ${max} (${m}); no default-sized job could ever run` });
    }
  }
  if (config.writeLogsFromAllJobs && !config.writeLogs && !config.writeLogsGzip) {
    problems.push({ option: "writeLogsFromAllJobs", message: "needs --writeLogs DIR or --writeLogsGzip DIR" });
  }
  if (config.writeLogs && config.writeLogsGzip) {
    problems.push({ option: "writeLogsGzip", message: "give only one of --writeLogs and --writeLogsGzip" });
  }
  if (config.debugWorker && config.badWorker > 0) {
    problems.push({ option: "badWorker", message: "cannot be combined with --debugWorker (it would kill the leader)" });
  }
  return problems;
}

/**
 * Validate any subset of options and fill in defaults. Sizes and numbers may be strings.
 * Throws `ConfigError` naming every bad option; `sourceOf` lets callers say where a value came from.
 */
export function parseConfig(input: ConfigInput | Record<string, unknown> = {}, sourceOf?: (option: string) => string | undefined): Config {
  const result = configSchema.safeParse(input);
  if (!result.success) throw issuesFromZod(result.error, sourceOf);
  const problems = checkConsistency(result.data);
  if (problems.length > 0) {
    const lines = problems.map(({ option, message }) => {
      const src = sourceOf?.(option);
      return `  ${option}${src ? ` (from ${src})` : ""}: ${message}`;
    });
    throw new ConfigError(`Invalid configuration:\n${lines.join("\n")}`, problems);
  }
  return result.data;
}

/** A configuration with every default, plus the given overrides. */
export function defaultConfig(overrides: ConfigInput | Record<string, unknown> = {}): Config {
  return parseConfig(overrides);
}

/**
 * Read a document written by `configToJSON`, validated again with the schema. `source` (e.g. the
 * stored file's path) is named in errors, so a damaged or newer configuration says where it is.
 */
export function configFromJSON(text: string, source?: string): Config {
  const { where, config } = parseStoredDocument(text, source);
  try {
    return parseConfig(config);
  } catch (err) {
    if (err instanceof ConfigError && source !== undefined) throw new ConfigError(`${where}: ${err.message}`, err.issues);
    throw err;
  }
}

/** Before a first run: assign a fresh workflow id, attempt 0. Returns a new object. */
export function prepareStart(config: Config): Config {
  return { ...config, workflowId: randomUUID(), workflowAttemptNumber: 0, restart: false };
}

/**
 * Options that apply only to the run whose command line gives them: fault injection and debugging
 * aids. A restart does not take them from the stored configuration (as Toil, which rebuilds them from
 * the new command line); they are back at their defaults unless given again.
 */
export const PER_RUN_OPTIONS = ["badWorker", "badWorkerFailInterval", "debugWorker", "disableWorkerOutputCapture"] as const satisfies readonly ConfigKey[];

/**
 * Before a restart: take the stored configuration, bump the attempt number, drop values that only
 * applied to the previous run (its message-bus file and the {@link PER_RUN_OPTIONS}), then apply the
 * options the user set explicitly on this invocation (`overrides`). The workflow id and the job store
 * never change.
 */
export function prepareRestart(stored: Config, overrides: Partial<Config> = {}): Config {
  const { workflowId: _id, jobStore: _js, workflowAttemptNumber: _n, ...rest } = overrides;
  const defaults = defaultConfig();
  const perRunDefaults = Object.fromEntries(PER_RUN_OPTIONS.map((key) => [key, defaults[key]]));
  const next: Config = {
    ...stored,
    ...perRunDefaults,
    writeMessages: undefined,
    ...stripUndefined(rest),
    restart: true,
    workflowAttemptNumber: stored.workflowAttemptNumber + 1,
  };
  if (!("writeMessages" in rest)) delete next.writeMessages;
  return next;
}

function stripUndefined<T extends object>(obj: T): Partial<T> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Parse an accelerator spec such as "gpu", "cuda:2", "nvidia-tesla-k80:2" or "3" (count of GPUs). */
export function parseAcceleratorSpec(spec: string): {
  /** Kind of accelerator, e.g. `gpu`. */
  kind: string;
  /** How many. */
  count: number;
  /** Model, when the spec names one. */
  model?: string;
  /** Brand, when the spec names one. */
  brand?: string;
  /** Programming interface, when the spec names one (e.g. `cuda`). */
  api?: string;
} {
  try {
    return parseAccelerator(spec);
  } catch (err) {
    throw new ConfigError(`"${spec}" is not an accelerator (${(err as Error).message}); write e.g. gpu, cuda:1, nvidia-tesla-k80:2`);
  }
}

/**
 * Convert one text value (from a flag, an environment variable or a config file) for an option.
 * Returns the value in the form `parseConfig` accepts; throws `ConfigError` on malformed text.
 */
export function parseOptionText(spec: ConfigOptionSpec, text: string): unknown {
  switch (spec.kind) {
    case "size": {
      if (tryParseConfigSize(text) === undefined) {
        throw new ConfigError(`--${spec.flag ?? spec.name}: "${text}" is not a size; write e.g. 2G, 2Gi, 512Mi or 1000`);
      }
      return text;
    }
    case "accelerators":
      return text.split(",").filter((s) => s.trim() !== "").map(parseAcceleratorSpec);
    case "setEnv":
      return parseSetEnv([text]);
    case "enum":
      if (spec.choices && !spec.choices.some((c) => c.toLowerCase() === text.trim().toLowerCase())) {
        throw new ConfigError(`--${spec.flag ?? spec.name}: "${text}" is not one of ${spec.choices.join(", ")}`);
      }
      return text;
    default:
      return text;
  }
}

/** Turn `NAME=VALUE` / `NAME` entries into an environment map (NAME alone copies from `env`). */
export function parseSetEnv(entries: readonly string[], env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of entries) {
    const eq = entry.indexOf("=");
    const name = eq < 0 ? entry : entry.slice(0, eq);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new ConfigError(`--setEnv: "${entry}" is not NAME or NAME=VALUE with a valid variable name`);
    }
    const value = eq < 0 ? env[name] : entry.slice(eq + 1);
    if (value === undefined) {
      throw new ConfigError(`--setEnv ${name}: the variable is not set in this environment; give NAME=VALUE`);
    }
    out[name] = value;
  }
  return out;
}

/**
 * Validate the values of options declared by a batch-system plugin and fill in their defaults.
 * Unknown keys are left to the caller (it knows which flags exist).
 */
export function parsePluginOptions(specs: readonly ConfigOptionSpec[], values: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const problems: Array<{ option: string; message: string }> = [];
  for (const spec of specs) {
    const raw = values[spec.name] ?? spec.default;
    if (raw === undefined) continue;
    try {
      out[spec.name] = coercePluginValue(spec, raw);
    } catch (err) {
      problems.push({ option: spec.name, message: (err as Error).message });
    }
  }
  if (problems.length > 0) {
    throw new ConfigError(`Invalid configuration:\n${problems.map((p) => `  ${p.option}: ${p.message}`).join("\n")}`, problems);
  }
  return out;
}

function coercePluginValue(spec: ConfigOptionSpec, raw: unknown): unknown {
  switch (spec.kind) {
    case "boolean": {
      if (typeof raw === "boolean") return raw;
      const t = String(raw).toLowerCase();
      if (["true", "yes", "1"].includes(t)) return true;
      if (["false", "no", "0"].includes(t)) return false;
      throw new Error(`${JSON.stringify(raw)} is not a boolean; use true or false`);
    }
    case "size": {
      const bytes = tryParseConfigSize(raw as string | number);
      if (bytes === undefined) throw new Error(`${JSON.stringify(raw)} is not a size; write e.g. 2G, 2Gi, 512Mi or 1000`);
      return bytes;
    }
    case "int":
    case "number": {
      const n = typeof raw === "number" ? raw : Number(String(raw));
      if (!Number.isFinite(n) || (spec.kind === "int" && !Number.isInteger(n))) {
        throw new Error(`${JSON.stringify(raw)} is not ${spec.kind === "int" ? "a whole number" : "a number"}`);
      }
      return n;
    }
    case "enum": {
      const t = String(raw);
      if (spec.choices && !spec.choices.includes(t)) throw new Error(`${JSON.stringify(raw)} is not one of ${spec.choices.join(", ")}`);
      return t;
    }
    default:
      return typeof raw === "string" ? raw : String(raw);
  }
}
