/**
 * Job data serialization: what job arguments, job fields, return values and deferred-function
 * arguments may contain, and its JSON form (never `eval`).
 *
 * Supported: JSON values, `undefined`, NaN/±Infinity/-0, BigInt, Date, RegExp, Map, Set, typed arrays,
 * Buffer, ArrayBuffer, FileIDs (strings), {@link JobPromise}s, and instances of user classes that opt in
 * with `static [serializable]` (see {@link serializable}). Shared references are copied; cycles,
 * functions, symbols, jobs and unmarked class instances are refused with an error naming the path.
 *
 * Encoding: plain values stay as JSON; everything else is a tagged object `{ "$t": tag, ... }`
 * (a plain object that itself has a `$t` key is wrapped as `{ "$t": "o", "v": {...} }`).
 */
import { JobRebuildError, JobSerializationError, UnresolvedPromiseError } from "./errors.js";
import { type PathKey, type PromiseSource, isJobPromise, isPromisedRequirement } from "./promise.js";
import { type ExportRef, type ModuleImporter, exportAdvice, findExport } from "./registry.js";
import { importModule, resolveExport } from "./loader.js";

/** Serialized job data: a JSON-compatible value. */
export type SerializedValue = null | boolean | number | string | SerializedValue[] | { [key: string]: SerializedValue };

/**
 * Opt a class into job-data serialization. Either copy the instance's own fields:
 * ```ts
 * export class Point { static [serializable] = true; constructor(public x: number, public y: number) {} }
 * ```
 * or convert explicitly:
 * ```ts
 * export class Interval {
 *   static [serializable] = { encode: (i: Interval) => [i.lo, i.hi], decode: ([lo, hi]: [number, number]) => new Interval(lo, hi) };
 * }
 * ```
 * The class must be exported from a registered module, like job classes.
 */
export const serializable: unique symbol = Symbol.for("toil.serializable") as never;

/** The explicit form of `static [serializable]`. */
export interface SerializableCodec<I = never, D = never> {
  /** Turns an instance into job data (JSON-like values, other serializable objects, promises). */
  encode(instance: I): unknown;
  /** Rebuilds an instance from what `encode` returned. */
  decode(data: D): unknown;
}

/** Marker checked on Job and Service objects so they are refused as data with a helpful message. */
export const NOT_DATA = Symbol.for("toil.notData");

const TYPED_ARRAYS: Record<string, new (buffer: ArrayBuffer, byteOffset?: number, length?: number) => ArrayBufferView> = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
};

/** Context for serialization. */
export interface SerializeOptions {
  /** Called for each promise found (e.g. to check consumption rules). */
  onPromise?: (source: PromiseSource, path: string) => void;
  /** What is being serialized, for messages, e.g. "argument 2 of job 'align'". */
  what?: string;
}

function fail(message: string, path: string, options: SerializeOptions): never {
  throw new JobSerializationError(`${options.what ? `${options.what}: ` : ""}${message} (at ${path})`, path);
}

function base64(view: ArrayBufferView | ArrayBuffer): string {
  const bytes = view instanceof ArrayBuffer ? Buffer.from(view) : Buffer.from(view.buffer, view.byteOffset, view.byteLength);
  return bytes.toString("base64");
}

/** Serialize a value to JSON-compatible data, or throw {@link JobSerializationError} naming the path of the offending part. */
export function serializeValue(value: unknown, options: SerializeOptions = {}, rootPath = "value"): SerializedValue {
  const stack = new Set<object>();
  const walk = (v: unknown, path: string): SerializedValue => {
    switch (typeof v) {
      case "string":
      case "boolean":
        return v;
      case "number":
        if (Number.isNaN(v)) return { $t: "n", v: "NaN" };
        if (v === Infinity) return { $t: "n", v: "Infinity" };
        if (v === -Infinity) return { $t: "n", v: "-Infinity" };
        if (Object.is(v, -0)) return { $t: "n", v: "-0" };
        return v;
      case "undefined":
        return { $t: "u" };
      case "bigint":
        return { $t: "bi", v: v.toString() };
      case "symbol":
        return fail("a symbol cannot be stored as job data", path, options);
      case "function":
        return fail(
          `function '${v.name || "(anonymous)"}' cannot be stored as job data; pass data, or make it a job (Job.wrapFn) and pass its rv()`,
          path,
          options,
        );
    }
    if (v === null) return null;
    const obj = v as object;
    if (isJobPromise(obj)) {
      options.onPromise?.(obj.source, path);
      return { $t: "p", j: obj.source.resultId, p: [...obj.path] };
    }
    if (stack.has(obj)) return fail(
        "a cycle (an object containing itself) cannot be stored as job data; break the cycle, e.g. keep ids or names instead of back-references",
        path,
        options,
      );
    stack.add(obj);
    try {
      return walkObject(obj, path);
    } finally {
      stack.delete(obj);
    }
  };
  const walkObject = (obj: object, path: string): SerializedValue => {
    if (Array.isArray(obj)) {
      const out: SerializedValue[] = new Array(obj.length);
      for (let i = 0; i < obj.length; i++) out[i] = walk(obj[i], `${path}[${i}]`);
      return out;
    }
    const proto = Object.getPrototypeOf(obj) as object | null;
    if (proto === Object.prototype || proto === null) {
      const out: Record<string, SerializedValue> = {};
      for (const key of Object.keys(obj)) out[key] = walk((obj as Record<string, unknown>)[key], `${path}.${key}`);
      if (Object.getOwnPropertySymbols(obj).length > 0) fail("symbol-keyed properties cannot be stored as job data", path, options);
      return "$t" in out ? { $t: "o", v: out } : out;
    }
    if (obj instanceof Date) return { $t: "d", v: obj.getTime() };
    if (obj instanceof RegExp) return { $t: "re", v: obj.source, f: obj.flags };
    if (obj instanceof Map) {
      let i = 0;
      return { $t: "m", v: [...obj].map(([k, x]) => [walk(k, `${path}<key ${i}>`), walk(x, `${path}<value ${i++}>`)]) };
    }
    if (obj instanceof Set) {
      let i = 0;
      return { $t: "s", v: [...obj].map((x) => walk(x, `${path}<item ${i++}>`)) };
    }
    if (Buffer.isBuffer(obj)) return { $t: "ta", c: "Buffer", v: base64(obj) };
    if (ArrayBuffer.isView(obj)) {
      const name = obj.constructor.name;
      if (TYPED_ARRAYS[name] === undefined) return fail(`${name} cannot be stored as job data`, path, options);
      return { $t: "ta", c: name, v: base64(obj) };
    }
    if (obj instanceof ArrayBuffer) return { $t: "ab", v: base64(obj) };
    if ((obj as Record<symbol, unknown>)[NOT_DATA] !== undefined) {
      return fail(
        `${String((obj as Record<symbol, unknown>)[NOT_DATA])} cannot be stored as job data; pass its rv() (a promise of its result) instead`,
        path,
        options,
      );
    }
    if (isPromisedRequirement(obj)) return fail("a promisedRequirement() belongs in requirements, not in job data", path, options);
    if (obj instanceof Promise) {
      return fail("a JavaScript Promise cannot be stored as job data; await it first, or pass a job's rv()", path, options);
    }
    const ctor = (obj as { constructor?: unknown }).constructor;
    const mark = typeof ctor === "function" ? (ctor as unknown as Record<symbol, unknown>)[serializable] : undefined;
    const className = typeof ctor === "function" ? ctor.name || "(anonymous class)" : "(unknown class)";
    if (mark === undefined || mark === false) {
      return fail(
        `an instance of class ${className} cannot be stored as job data; pass plain data, or opt the class in with ` +
          `\`static [serializable] = true\` (import { serializable } from "@toil/job") and export it from a registered module`,
        path,
        options,
      );
    }
    const ref = findExport(ctor as never);
    if (ref === undefined) {
      return fail(`serializable class ${className} cannot be found again by a worker. ${exportAdvice("the class", className)}`, path, options);
    }
    let data: unknown;
    if (mark === true) {
      data = Object.fromEntries(Object.keys(obj).map((k) => [k, (obj as Record<string, unknown>)[k]]));
    } else if (typeof mark === "object" && mark !== null && typeof (mark as SerializableCodec).encode === "function") {
      data = (mark as SerializableCodec<object>).encode(obj);
    } else {
      return fail(`class ${className} has an invalid [serializable] marker (use true or { encode, decode })`, path, options);
    }
    return { $t: "c", m: ref.module, e: ref.exportName, v: walk(data, `${path}<${className}>`) };
  };
  return walk(value, rootPath);
}

/** Reads the stored results of finished jobs (for promises). Implemented by the job store. */
export interface PromiseResolver {
  /**
   * The serialized return value stored for the job (exactly what {@link serializeValue} produced when
   * the job ran), or `undefined` if none is stored (the job has not run).
   */
  readResult(jobId: string): Promise<unknown>;
}

/** Options for {@link deserializeValue}. */
export interface DeserializeOptions {
  /** Needed if the data contains promises. */
  resolver?: PromiseResolver;
  /** How to import user modules (default: `importModule`, the package's loader of user modules). */
  importModule?: ModuleImporter;
  /** Cache of already-resolved job results, shared between calls of one job rebuild. */
  resultCache?: Map<string, Promise<unknown>>;
}

type Tagged = { $t: string; [k: string]: SerializedValue };

function isTagged(v: unknown): v is Tagged {
  return typeof v === "object" && v !== null && !Array.isArray(v) && typeof (v as Tagged).$t === "string";
}

function applyPath(value: unknown, path: readonly PathKey[], jobId: string): unknown {
  let v = value;
  for (const key of path) {
    if (v === null || v === undefined) {
      throw new JobRebuildError(`Promise of job ${jobId} at path ${JSON.stringify(path)}: the value has no key ${JSON.stringify(key)}.`);
    }
    v = v instanceof Map ? v.get(key) : (v as Record<PathKey, unknown>)[key];
  }
  return v;
}

/** Turn serialized data back into values, importing user classes and resolving promises. */
export async function deserializeValue(data: unknown, options: DeserializeOptions = {}): Promise<unknown> {
  const importer = options.importModule ?? importModule;
  const cache = options.resultCache ?? new Map<string, Promise<unknown>>();
  // Pass 1: collect what must be fetched (promise results, class modules).
  const classes = new Map<string, Promise<unknown>>();
  const promises = new Map<string, Promise<unknown>>();
  const collect = (v: unknown): void => {
    if (Array.isArray(v)) {
      for (const x of v) collect(x);
      return;
    }
    if (typeof v !== "object" || v === null) return;
    if (isTagged(v)) {
      if (v.$t === "p") {
        const id = v.j as string;
        if (!promises.has(id)) promises.set(id, readResult(id));
        return;
      }
      if (v.$t === "c") {
        const key = `${v.m as string}#${v.e as string}`;
        if (!classes.has(key)) classes.set(key, resolveExport({ module: v.m as string, exportName: v.e as string } satisfies ExportRef, importer));
      }
      for (const [k, x] of Object.entries(v)) if (k !== "$t") collect(x);
      return;
    }
    for (const x of Object.values(v)) collect(x);
  };
  const readResult = (id: string): Promise<unknown> => {
    let p = cache.get(id);
    if (p === undefined) {
      const resolver = options.resolver;
      if (resolver === undefined) {
        p = Promise.reject(new JobRebuildError(`Job data contains a promise of job ${id} but no PromiseResolver was given.`));
      } else {
        p = (async () => {
          const stored = await resolver.readResult(id);
          if (stored === undefined) throw new UnresolvedPromiseError(id);
          return deserializeValue(stored, { ...options, resultCache: cache });
        })();
      }
      p.catch(() => {});
      cache.set(id, p);
    }
    return p;
  };
  collect(data);
  const classValues = new Map<string, unknown>();
  const promiseValues = new Map<string, unknown>();
  await Promise.all([
    ...[...classes].map(async ([k, p]) => classValues.set(k, await p)),
    ...[...promises].map(async ([k, p]) => promiseValues.set(k, await p)),
  ]);
  // Pass 2: build.
  const build = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(build);
    if (typeof v !== "object" || v === null) return v;
    if (!isTagged(v)) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = build(x);
      return out;
    }
    switch (v.$t) {
      case "u":
        return undefined;
      case "n":
        return v.v === "-0" ? -0 : Number(v.v);
      case "bi":
        return BigInt(v.v as string);
      case "d":
        return new Date(v.v as number);
      case "re":
        return new RegExp(v.v as string, v.f as string);
      case "m":
        return new Map((v.v as SerializedValue[][]).map(([k, x]) => [build(k), build(x)]));
      case "s":
        return new Set((v.v as SerializedValue[]).map(build));
      case "ab": {
        const b = Buffer.from(v.v as string, "base64");
        return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
      }
      case "ta": {
        const b = Buffer.from(v.v as string, "base64");
        if (v.c === "Buffer") return b;
        const Ctor = TYPED_ARRAYS[v.c as string];
        if (Ctor === undefined) throw new JobRebuildError(`Unknown typed array kind ${JSON.stringify(v.c)} in job data.`);
        const copy = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
        return new Ctor(copy);
      }
      case "o": {
        const out: Record<string, unknown> = {};
        for (const [k, x] of Object.entries(v.v as Record<string, unknown>)) out[k] = build(x);
        return out;
      }
      case "p":
        return applyPath(promiseValues.get(v.j as string), v.p as PathKey[], v.j as string);
      case "c": {
        const ctor = classValues.get(`${v.m as string}#${v.e as string}`) as (new () => object) | undefined;
        if (typeof ctor !== "function") {
          throw new JobRebuildError(`Export '${v.e as string}' of ${v.m as string} is not a class.`);
        }
        const mark = (ctor as unknown as Record<symbol, unknown>)[serializable];
        const inner = build(v.v);
        if (mark === true) return Object.assign(Object.create(ctor.prototype as object) as object, inner);
        if (typeof mark === "object" && mark !== null && typeof (mark as SerializableCodec).decode === "function") {
          return (mark as SerializableCodec<never, unknown>).decode(inner);
        }
        throw new JobRebuildError(`Class ${v.e as string} of ${v.m as string} is no longer marked [serializable].`);
      }
      default:
        throw new JobRebuildError(`Unknown tag ${JSON.stringify(v.$t)} in job data (written by a newer toil-ts?).`);
    }
  };
  return build(data);
}
