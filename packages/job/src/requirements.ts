/**
 * Resource requirements of a job (Toil's `Requirer`): types, parsing and display.
 *
 * Sizes follow Toil exactly: `'2G'` = 2 000 000 000 bytes (powers of 1000), `'2Gi'` = 2^31 bytes
 * (powers of 1024), units are case-insensitive with an optional trailing `B`, spaces are allowed
 * between number and unit, a fractional mantissa is truncated to whole bytes after scaling
 * (`'1.5GiB'` = 1 610 612 736), and a plain number (or numeric string) is a byte count.
 */
import { InvalidRequirementError, describeValue } from "./errors.js";

/** One kind of accelerator a job needs, e.g. one CUDA GPU. */
export interface AcceleratorRequirement {
  /** What it is; `"gpu"` for graphics processors. */
  kind: string;
  /** How many. */
  count: number;
  /** A specific model, e.g. `"nvidia-tesla-k80"`. */
  model?: string;
  /** The maker, e.g. `"nvidia"` or `"amd"` (inferred from the model or the API when possible). */
  brand?: string;
  /** The programming interface that must be available, e.g. `"cuda"`, `"rocm"`, `"opencl"`. */
  api?: string;
}

/** Fully resolved requirements of a job (every field set). */
export interface Requirements {
  /** Cores; fractions allowed (0.1 = a tenth of a core). */
  cores: number;
  /** Bytes of memory. */
  memory: number;
  /** Bytes of local scratch disk. */
  disk: number;
  /** Accelerators the job needs (empty: none). */
  accelerators: AcceleratorRequirement[];
  /** Whether the job may run on a preemptible (spot) node. */
  preemptible: boolean;
}

/** A size as a user may write it: a byte count or a string such as `'2Gi'`, `'500 MB'`, `'1.5GiB'`. */
export type SizeInput = number | string;
/** Accelerators as a user may write them: a GPU count, `'gpu'`, `'cuda:1'`, `'nvidia-tesla-k80:2'`, an object, or a list of those. */
export type AcceleratorInput =
  | number
  | string
  | (Partial<AcceleratorRequirement> & {
      /** How many (default 1). */
      count?: number;
    })
  | ReadonlyArray<
      | number
      | string
      | (Partial<AcceleratorRequirement> & {
          /** How many (default 1). */
          count?: number;
        })
    >;

/** Requirements as a user writes them. Unset fields take the workflow's defaults. */
export interface RequirementsInput {
  /** Cores: a number, or a string such as `"0.5"`. */
  cores?: number | string;
  /** Memory: bytes, or a size such as `"2Gi"` or `"500M"`. */
  memory?: SizeInput;
  /** Local disk: bytes, or a size such as `"10Gi"`. */
  disk?: SizeInput;
  /** Accelerators: a count, a spec such as `"cuda:1"` or `"gpu:2"`, an object, or a list of those. */
  accelerators?: AcceleratorInput;
  /** Whether the job may run on preemptible capacity (`true`, `"yes"`, `1`, ...). */
  preemptible?: boolean | number | string;
}

/** The configuration values requirement defaults come from (a subset of the workflow `Config`). */
export interface RequirementDefaults {
  /** Cores of a job that does not say (`--defaultCores`). */
  defaultCores: number;
  /** Memory in bytes of a job that does not say (`--defaultMemory`). */
  defaultMemory: number;
  /** Disk in bytes of a job that does not say (`--defaultDisk`). */
  defaultDisk: number;
  /** Accelerators of a job that does not say (`--defaultAccelerators`). */
  defaultAccelerators: readonly AcceleratorRequirement[];
  /** Whether a job that does not say is preemptible (`--defaultPreemptible`). */
  defaultPreemptible: boolean;
}

/** Toil's built-in defaults (`--defaultCores 1`, `--defaultMemory 2Gi`, `--defaultDisk 2Gi`, no accelerators, not preemptible). */
export const DEFAULT_REQUIREMENTS: Readonly<RequirementDefaults> = Object.freeze({
  defaultCores: 1,
  defaultMemory: 2 * 1024 ** 3,
  defaultDisk: 2 * 1024 ** 3,
  defaultAccelerators: Object.freeze([]) as readonly AcceleratorRequirement[],
  defaultPreemptible: false,
});

const DECIMAL_UNITS = ["b", "k", "m", "g", "t", "p", "e"] as const;

function unitMultiplier(unit: string): number | undefined {
  const u = unit.toLowerCase();
  if (u === "" || u === "b") return 1;
  // binary: ki, kib, mi, mib, ...
  const binary = /^([kmgtpe])ib?$/.exec(u);
  if (binary) return 1024 ** DECIMAL_UNITS.indexOf(binary[1] as (typeof DECIMAL_UNITS)[number]);
  const decimal = /^([kmgtpe])b?$/.exec(u);
  if (decimal) return 1000 ** DECIMAL_UNITS.indexOf(decimal[1] as (typeof DECIMAL_UNITS)[number]);
  return undefined;
}

/** Where a requirement came from, so errors can name it. */
export interface RequirementContext {
  /** The job (or service) whose requirement it is. */
  jobName?: string;
  /** The field, e.g. `"memory"` (default `"size"`). */
  field?: string;
}

/**
 * Parse a size into whole bytes.
 *
 * @example parseSize('2G') === 2_000_000_000; parseSize('2Gi') === 2_147_483_648; parseSize('1.5GiB') === 1_610_612_736
 * @throws InvalidRequirementError naming the job, field and value when malformed.
 */
export function parseSize(value: SizeInput, context: RequirementContext = {}): number {
  const field = context.field ?? "size";
  const fail = (reason: string): never => {
    throw new InvalidRequirementError(field, value, context.jobName, reason);
  };
  if (typeof value === "number") {
    if (!Number.isFinite(value) || value < 0) fail("a size must be a finite, non-negative number of bytes");
    if (!Number.isInteger(value)) {
      fail(`a size given as a number must be a whole number of bytes (write a string such as '1.5Gi' for fractions of a unit)`);
    }
    return value;
  }
  if (typeof value !== "string") {
    return fail(`expected a byte count or a string such as '2Gi', '500M' or '1.5GiB', got ${typeof value}`);
  }
  const match = /^\s*([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*([a-zA-Z]*)\s*$/.exec(value);
  if (!match) return fail("expected a number followed by an optional unit, such as '2Gi', '500M', '1.5GiB' or '100'");
  const multiplier = unitMultiplier(match[2] ?? "");
  if (multiplier === undefined) {
    return fail(
      `unknown unit '${match[2]}'; use B, K, M, G, T, P, E (powers of 1000) or Ki, Mi, Gi, Ti, Pi, Ei (powers of 1024), optionally followed by B`,
    );
  }
  const bytes = Math.trunc(Number(match[1]) * multiplier);
  if (!Number.isFinite(bytes)) return fail("the size is too large");
  return bytes;
}

/**
 * Parse a core count: a positive number (fractions allowed, e.g. 0.1) or numeric string.
 * 0 and negative counts are refused: every job runs a process, which needs some CPU.
 */
export function parseCores(value: number | string, context: RequirementContext = {}): number {
  const field = context.field ?? "cores";
  const n = typeof value === "string" && value.trim() !== "" ? Number(value.trim()) : value;
  if (typeof n !== "number" || !Number.isFinite(n) || n <= 0) {
    throw new InvalidRequirementError(
      field,
      value,
      context.jobName,
      n === 0
        ? "a job needs more than 0 cores; ask for a fraction such as 0.1 for a job that mostly waits"
        : "expected a positive number of cores such as 1, 0.5 or '2'",
    );
  }
  return n;
}

/** Parse a preemptible flag: a boolean, 0/1, or 'true'/'false' (any case). */
export function parsePreemptible(value: boolean | number | string, context: RequirementContext = {}): boolean {
  if (typeof value === "boolean") return value;
  if (value === 0 || value === 1) return value === 1;
  if (typeof value === "string") {
    const v = value.trim().toLowerCase();
    if (v === "true" || v === "1") return true;
    if (v === "false" || v === "0") return false;
  }
  throw new InvalidRequirementError(
    context.field ?? "preemptible",
    value,
    context.jobName,
    "expected true/false, 1/0 or 'true'/'false'",
  );
}

const API_BRANDS: Record<string, string> = { cuda: "nvidia", rocm: "amd", hip: "amd" };
const KNOWN_APIS = new Set(["cuda", "rocm", "hip", "opencl"]);
const KNOWN_BRANDS = new Set(["nvidia", "amd", "intel"]);
const KNOWN_KINDS = new Set(["gpu"]);

function inferBrand(req: AcceleratorRequirement): AcceleratorRequirement {
  if (req.brand === undefined) {
    if (req.model !== undefined) {
      const prefix = req.model.split("-")[0]?.toLowerCase();
      if (prefix !== undefined && KNOWN_BRANDS.has(prefix)) req.brand = prefix;
    }
    if (req.brand === undefined && req.api !== undefined && API_BRANDS[req.api] !== undefined) {
      req.brand = API_BRANDS[req.api];
    }
  }
  return req;
}

/**
 * Parse one accelerator request.
 *
 * Forms: a count (`2` = two GPUs); `'gpu'`; `'cuda'` / `'cuda:1'` (an API); `'nvidia'` (a brand);
 * `'nvidia-tesla-k80:2'` (a model); `'gpu:2'`; or an object `{ kind?, count?, model?, brand?, api? }`
 * (kind defaults to `'gpu'`, count to 1). The brand is inferred from the model prefix or the API.
 */
export function parseAccelerator(
  value: number | string | (Partial<AcceleratorRequirement> & { count?: number }),
  context: RequirementContext = {},
): AcceleratorRequirement {
  const fail = (reason: string): never => {
    throw new InvalidRequirementError(context.field ?? "accelerators", value, context.jobName, reason);
  };
  const checkCount = (count: unknown): number => {
    if (typeof count !== "number" || !Number.isInteger(count) || count < 1) {
      fail(`the count must be a whole number of at least 1, got ${describeValue(count)}`);
    }
    return count as number;
  };
  if (typeof value === "number") return { kind: "gpu", count: checkCount(value) };
  if (typeof value === "string") {
    const trimmed = value.trim();
    const parts = trimmed.split(":");
    if (parts.length > 2 || trimmed === "") fail("expected 'kind', 'kind:count', 'cuda:1' or 'model:count'");
    const name = (parts[0] ?? "").trim();
    let count = 1;
    if (parts.length === 2) {
      const countText = (parts[1] ?? "").trim();
      if (!/^[0-9]+$/.test(countText)) fail(`the count after ':' must be a whole number, got '${countText}'`);
      count = checkCount(Number(countText));
    }
    if (/^[0-9]+$/.test(name) && parts.length === 1) return { kind: "gpu", count: checkCount(Number(name)) };
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) fail(`'${name}' is not a valid accelerator name`);
    const lower = name.toLowerCase();
    if (KNOWN_KINDS.has(lower)) return { kind: lower, count };
    if (KNOWN_APIS.has(lower)) return inferBrand({ kind: "gpu", count, api: lower });
    if (KNOWN_BRANDS.has(lower)) return { kind: "gpu", count, brand: lower };
    return inferBrand({ kind: "gpu", count, model: name });
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return fail("expected a count, a string such as 'cuda:1', or an object { kind, count, model?, brand?, api? }");
  }
  const allowed = new Set(["kind", "count", "model", "brand", "api"]);
  for (const key of Object.keys(value)) {
    if (!allowed.has(key)) fail(`unknown key '${key}' (allowed: kind, count, model, brand, api)`);
  }
  const result: AcceleratorRequirement = { kind: "gpu", count: value.count === undefined ? 1 : checkCount(value.count) };
  for (const key of ["kind", "model", "brand", "api"] as const) {
    const v = value[key];
    if (v === undefined) continue;
    if (typeof v !== "string" || v.trim() === "") fail(`'${key}' must be a non-empty string`);
    result[key] = key === "model" ? (v as string) : (v as string).toLowerCase();
  }
  return inferBrand(result);
}

/** Parse the `accelerators` requirement: one accelerator form or a list of them. */
export function parseAccelerators(value: AcceleratorInput, context: RequirementContext = {}): AcceleratorRequirement[] {
  const list = Array.isArray(value) ? value : [value];
  return (list as Array<Exclude<AcceleratorInput, ReadonlyArray<unknown>>>).map((item) =>
    parseAccelerator(item, { ...context, field: context.field ?? "accelerators" }),
  );
}

/**
 * Parse user-written requirements into normalized values. Unset fields stay unset (they take the
 * workflow's defaults later).
 */
export function parseRequirements(input: RequirementsInput, jobName?: string): Partial<Requirements> {
  const out: Partial<Requirements> = {};
  const context = (field: string): RequirementContext => (jobName === undefined ? { field } : { field, jobName });
  if (input === null || typeof input !== "object") {
    throw new InvalidRequirementError("requirements", input, jobName, "expected an object such as { memory: '2Gi' }");
  }
  for (const key of Object.keys(input)) {
    if (!["cores", "memory", "disk", "accelerators", "preemptible"].includes(key)) {
      throw new InvalidRequirementError(
        key,
        (input as Record<string, unknown>)[key],
        jobName,
        "unknown requirement (known: cores, memory, disk, accelerators, preemptible)",
      );
    }
  }
  if (input.cores !== undefined) out.cores = parseCores(input.cores, context("cores"));
  if (input.memory !== undefined) out.memory = parseSize(input.memory, context("memory"));
  if (input.disk !== undefined) out.disk = parseSize(input.disk, context("disk"));
  if (input.accelerators !== undefined) out.accelerators = parseAccelerators(input.accelerators, context("accelerators"));
  if (input.preemptible !== undefined) out.preemptible = parsePreemptible(input.preemptible, context("preemptible"));
  return out;
}

/** Fill unset requirements from the workflow's defaults. */
export function resolveRequirements(
  explicit: Partial<Requirements>,
  defaults: RequirementDefaults = DEFAULT_REQUIREMENTS,
): Requirements {
  return {
    cores: explicit.cores ?? defaults.defaultCores,
    memory: explicit.memory ?? defaults.defaultMemory,
    disk: explicit.disk ?? defaults.defaultDisk,
    accelerators: (explicit.accelerators ?? defaults.defaultAccelerators).map((a) => ({ ...a })),
    preemptible: explicit.preemptible ?? defaults.defaultPreemptible,
  };
}

/** Render a byte count the way Toil logs it, e.g. `2.0 Gi`. */
export function formatSize(bytes: number): string {
  const units = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];
  let value = bytes;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  if (i === 0) return `${bytes} B`;
  return `${value.toFixed(1)} ${units[i]}`;
}

/** Describe accelerators briefly, e.g. `2 x gpu (nvidia, cuda)`. */
function formatAccelerator(a: AcceleratorRequirement): string {
  const details = [a.model, a.brand, a.api].filter((x): x is string => x !== undefined);
  return `${a.count} x ${a.kind}${details.length > 0 ? ` (${details.join(", ")})` : ""}`;
}

/** The line the leader logs for a job's requirements, e.g. `disk: 2.0 Gi, memory: 2.0 Gi, cores: 1, accelerators: [], preemptible: false`. */
export function requirementsString(r: Requirements): string {
  return (
    `disk: ${formatSize(r.disk)}, memory: ${formatSize(r.memory)}, cores: ${r.cores}, ` +
    `accelerators: [${r.accelerators.map(formatAccelerator).join(", ")}], preemptible: ${r.preemptible}`
  );
}
