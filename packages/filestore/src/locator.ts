/**
 * Job-store locators and the open registry of job-store kinds. `file:<path>` and plain paths are the
 * built-in file job store; another package registers its kind (`registerJobStoreKind("pg", ...)`)
 * and the leader opens any store with {@link openJobStore} without knowing the kind.
 */
import * as path from "node:path";
import { InvalidIdError, UnknownJobStoreKindError } from "./errors.js";
import type { JobStore } from "./job-store.js";

/** A parsed locator: the kind and the kind-specific rest (an absolute path for `file`). */
export interface ParsedLocator {
  /** The job store kind, e.g. `file`. */
  kind: string;
  /** The rest of the locator, e.g. the store's absolute path for `file`. */
  rest: string;
  /** `kind:rest`, the form to pass to workers. */
  canonical: string;
}

/** Makes a job store object (not yet initialized or resumed) for a parsed locator. */
export type JobStoreFactory = (locator: ParsedLocator) => JobStore;

const kinds = new Map<string, JobStoreFactory>();

/** Register a job-store kind; returns a function that removes it. */
export function registerJobStoreKind(kind: string, factory: JobStoreFactory): () => void {
  if (!/^[a-z][a-z0-9-]{1,30}$/.test(kind)) {
    throw new InvalidIdError("job store kind", kind, "kinds are 2-31 lower-case letters, digits or '-'");
  }
  kinds.set(kind, factory);
  return () => {
    if (kinds.get(kind) === factory) kinds.delete(kind);
  };
}

/** Registered job store kinds, sorted. */
export function knownJobStoreKinds(): string[] {
  return [...kinds.keys()].sort();
}

/**
 * Parse a locator. A string starting with `/` or `.`, or containing no `:`, is a file store path;
 * relative paths are made absolute against `cwd` (workers may start elsewhere). Symlinks in the path
 * are kept as given, not resolved.
 */
export function parseLocator(locator: string, cwd = process.cwd()): ParsedLocator {
  if (typeof locator !== "string" || locator.trim() === "") {
    throw new InvalidIdError("job store locator", String(locator), "it is empty");
  }
  if (locator.includes("\0")) throw new InvalidIdError("job store locator", locator, "it contains a NUL byte");
  let kind: string;
  let rest: string;
  const colon = locator.indexOf(":");
  if (locator.startsWith("/") || locator.startsWith(".") || colon < 0) {
    kind = "file";
    rest = locator;
  } else {
    kind = locator.slice(0, colon);
    rest = locator.slice(colon + 1);
  }
  if (kind === "file") {
    if (rest === "") throw new InvalidIdError("job store locator", locator, "file: needs a path");
    rest = path.resolve(cwd, rest);
  } else if (!kinds.has(kind)) {
    throw new UnknownJobStoreKindError(locator, kind, knownJobStoreKinds());
  }
  return { kind, rest, canonical: `${kind}:${rest}` };
}

/** Make the job store object for a locator (call `initialize` or `resume` on it next). */
export function openJobStore(locator: string, cwd?: string): JobStore {
  const parsed = parseLocator(locator, cwd);
  const factory = kinds.get(parsed.kind);
  if (!factory) throw new UnknownJobStoreKindError(locator, parsed.kind, knownJobStoreKinds());
  return factory(parsed);
}
