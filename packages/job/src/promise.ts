/**
 * Typed promises: `job.rv()` / `job.rv(...path)` return a {@link JobPromise} whose type follows the
 * job's `run()` return type and the path. Promises can be passed (also nested in arrays, objects,
 * Maps...) as arguments to jobs that run later; the worker replaces them with their values before
 * the consuming job runs.
 */

/** Marks JobPromise objects (works across duplicate copies of the package). */
const JOB_PROMISE = Symbol.for("toil.JobPromise");

declare const resultType: unique symbol;

/** What a promise points at: a job, by its description's original id (read at serialization time). */
export interface PromiseSource {
  /** Id under which the job's result is stored (its original id). */
  readonly resultId: string;
  /** For messages. */
  readonly displayName: string;
}

/** A path step: an object key or an array index. */
export type PathKey = string | number;

/**
 * The future value (of type `T`) of a job's return value, or of a part of it.
 * Obtain one with `job.rv(...)`; pass it as a job argument or job field.
 */
export class JobPromise<out T> {
  /** Type-level only: the type of the promised value. */
  declare readonly [resultType]?: T;
  /** Marks the object as a job promise. */
  readonly [JOB_PROMISE] = true;
  constructor(
    /** The promising job. */
    readonly source: PromiseSource,
    /** Keys applied to the job's return value. */
    readonly path: readonly PathKey[],
  ) {}

  /** A readable form for messages, e.g. `JobPromise(Align["bam"])`. */
  toString(): string {
    return `JobPromise(${this.source.displayName}${this.path.map((k) => `[${JSON.stringify(k)}]`).join("")})`;
  }

  /** Promises are not JSON; they are serialized by the job machinery. */
  toJSON(): never {
    throw new TypeError(`${this} cannot be converted with JSON.stringify; pass it as a job argument instead.`);
  }
}

/** True if `value` is a {@link JobPromise}. */
export function isJobPromise(value: unknown): value is JobPromise<unknown> {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[JOB_PROMISE] === true;
}

/** Marker property of {@link PromisedRequirement} objects. */
const PROMISED_REQUIREMENT = Symbol.for("toil.PromisedRequirement");

/**
 * A requirement computed from promised values when the job is about to be scheduled:
 * `promisedRequirement((a, b) => a.size + b.size, f1.rv(), f2.rv())`, or a single promise.
 * The function must be exported from a registered module (the worker calls it).
 */
export class PromisedRequirement<out T = unknown> {
  /** Marks the object as a promised requirement. */
  readonly [PROMISED_REQUIREMENT] = true;
  /** Type-level only: the type of the requirement's value. */
  declare readonly [resultType]?: T;
  constructor(
    /**
     * Function computing the requirement from the resolved `args` (undefined: the single promised value is
     * the requirement).
     */
    readonly fn: ((...args: never[]) => unknown) | undefined,
    /** Arguments of `fn`; promises among them are resolved first. */
    readonly args: readonly unknown[],
  ) {}
}

export function isPromisedRequirement(value: unknown): value is PromisedRequirement {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[PROMISED_REQUIREMENT] === true;
}

/** Build a promised requirement from an exported function and (promised) arguments. */
export function promisedRequirement<A extends unknown[], R extends number | string | boolean | object>(
  fn: (...args: A) => R,
  ...args: NoInfer<PromisedArgs<A>>
): PromisedRequirement<R> {
  return new PromisedRequirement<R>(fn as (...args: never[]) => unknown, args);
}

// ------------------------------------------------------------------ type machinery

type Primitive = string | number | boolean | bigint | symbol | null | undefined;
type Opaque = Primitive | Date | RegExp | ArrayBufferView | ArrayBuffer | ((...args: never[]) => unknown);

/** A value of type T, a promise of a T, or a structure of T's shape with promises inside. */
export type Promised<T> = T | JobPromise<T> | DeepPromised<T>;
type DeepPromised<T> = T extends Opaque | JobPromise<unknown>
  ? never
  : T extends Map<infer K, infer V>
    ? Map<K, Promised<V>>
    : T extends Set<infer V>
      ? Set<Promised<V>>
      : T extends readonly unknown[]
        ? { [K in keyof T]: Promised<T[K]> }
        : T extends object
          ? { [K in keyof T]: Promised<T[K]> }
          : never;

/** Arguments of a function where each may be a promise (or contain promises). */
export type PromisedArgs<A extends unknown[]> = { [K in keyof A]: Promised<A[K]> };

/** The value a (possibly promise-containing) type has once its promises are resolved. */
export type Resolved<T> =
  T extends JobPromise<infer U>
    ? U
    : T extends Opaque
      ? T
      : T extends Map<infer K, infer V>
        ? Map<K, Resolved<V>>
        : T extends Set<infer V>
          ? Set<Resolved<V>>
          : T extends readonly unknown[]
            ? { [K in keyof T]: Resolved<T[K]> }
            : T extends object
              ? { [K in keyof T]: Resolved<T[K]> }
              : T;

/** The result type of a job: its `run()` return, awaited, with returned promises resolved. */
export type ResultOf<J> = J extends {
  /** The job's run method, whose return type is inspected. */
  run(...args: never[]): infer R;
}
  ? Resolved<Awaited<R>>
  : unknown;

type TupleIndex<T extends readonly unknown[]> = {
  [K in keyof T]-?: K extends `${infer N extends number}` ? N : never;
}[number];

/** The keys `rv()` accepts at one level of a value of type T. */
export type KeyOf<T> = unknown extends T
  ? PathKey
  : T extends readonly unknown[]
    ? number extends T["length"]
      ? number
      : TupleIndex<T>
    : T extends Opaque | Map<unknown, unknown> | Set<unknown>
      ? never
      : T extends object
        ? Exclude<keyof T, symbol>
        : never;

/** The type at key K of T. */
export type At<T, K> = unknown extends T
  ? unknown
  : T extends readonly unknown[]
    ? K extends number
      ? T[K]
      : never
    : K extends keyof T
      ? T[K]
      : never;

/** Replace every promise nested in `value` by... nothing: a type-level cast for class-job fields. At run time promises were already replaced by their values; this checks it. */
export function resolved<T>(value: Promised<T>): T {
  const check = (v: unknown, depth: number): void => {
    if (isJobPromise(v)) {
      throw new TypeError(
        `${v} has not been resolved: resolved() is for job fields and arguments inside run(), after the worker replaced promises by their values.`,
      );
    }
    if (depth > 64 || typeof v !== "object" || v === null) return;
    if (Array.isArray(v)) for (const x of v) check(x, depth + 1);
    else if (v instanceof Map) for (const x of v.values()) check(x, depth + 1);
    else if (v instanceof Set) for (const x of v) check(x, depth + 1);
    else if (Object.getPrototypeOf(v) === Object.prototype) for (const x of Object.values(v)) check(x, depth + 1);
  };
  check(value, 0);
  return value as T;
}
