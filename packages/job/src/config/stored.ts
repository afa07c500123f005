/**
 * The configuration as the job store keeps it (`meta/config.json`), written and read without zod:
 * a worker reads the stored configuration before every job, and the schema (config.ts, schema.ts)
 * costs a cold worker's start about as much as everything else it imports. The document records
 * which schema validated it and a digest of the validated configuration; a reader whose schema is
 * the same and whose digest matches takes the configuration as the leader validated it, and any
 * other document is validated again with the schema (read-stored.ts loads it then), so a
 * hand-edited or damaged configuration is refused with a {@link ConfigError} naming each bad
 * option, as before.
 */
import { ToilError } from "../errors.js";
import type { Config } from "./schema.js";

/** Version of the JSON document `configToJSON` writes. */
export const CONFIG_FORMAT_VERSION = 1;

/**
 * The configuration schema (schema.ts) this toil-ts validates with: its options and their
 * defaults, as a fingerprint (config.test.ts checks it against the schema, so adding, removing or
 * re-defaulting an option fails the test until this is updated). Change it by hand too when an
 * option's rules change, so configurations validated under the old rules are validated again.
 */
export const CONFIG_SCHEMA_ID = "cfg1-0383e480439b0faf";

/** A configuration value was missing, malformed or impossible. `issues` names each bad option. */
export class ConfigError extends ToilError {
  static override readonly code: string = "JOB_CONFIG_INVALID";
  constructor(
    message: string,
    /** Each bad option with what is wrong with it. */
    readonly issues: ReadonlyArray<{
      /** The option, e.g. `maxJobs` (`(config)` for the whole document). */
      option: string;
      /** What is wrong with its value. */
      message: string;
    }> = [],
  ) {
    super(message);
  }
}

/** SHA-256 (hex) of the configuration's JSON text. */
function digestOf(configJson: string): string {
  return process.getBuiltinModule("node:crypto").createHash("sha256").update(configJson).digest("hex");
}

/** The JSON document stored in the job store (of a configuration `parseConfig` validated). */
export function configToJSON(config: Config): string {
  const configJson = JSON.stringify(config);
  return `{"formatVersion":${CONFIG_FORMAT_VERSION},"schema":${JSON.stringify(CONFIG_SCHEMA_ID)},"digest":"${digestOf(configJson)}","config":${configJson}}`;
}

/** The parts of a stored document, or a {@link ConfigError} for one this toil-ts cannot read. */
export function parseStoredDocument(text: string, source?: string): { where: string; config: Record<string, unknown>; schema: unknown; digest: unknown } {
  const where = source === undefined ? "The stored configuration" : `The stored configuration ${source}`;
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(
      `${where} is not valid JSON (${(err as Error).message}); it is damaged. Restore it from a backup of the ` +
        `job store, or run the workflow again from the start in a new job store.`,
    );
  }
  const { formatVersion, config, schema, digest } = (doc ?? {}) as { formatVersion?: unknown; config?: unknown; schema?: unknown; digest?: unknown };
  if (typeof formatVersion === "number" && Number.isInteger(formatVersion) && formatVersion > CONFIG_FORMAT_VERSION) {
    throw new ConfigError(
      `${where} has format version ${formatVersion}, newer than this toil-ts reads (${CONFIG_FORMAT_VERSION}): ` +
        `it was written by a newer toil-ts. Use that version (or a newer one) to run or inspect this workflow.`,
    );
  }
  if (formatVersion !== CONFIG_FORMAT_VERSION || typeof config !== "object" || config === null || Array.isArray(config)) {
    throw new ConfigError(
      `${where} has format version ${JSON.stringify(formatVersion) ?? "undefined"} and this toil-ts reads version ` +
        `${CONFIG_FORMAT_VERSION}; it is not a configuration this toil-ts wrote, or it is damaged.`,
    );
  }
  return { where, config: config as Record<string, unknown>, schema, digest };
}

/**
 * The configuration a stored document holds, when it needs no validation: written by `configToJSON`
 * under this schema and unchanged since (its digest matches). Undefined otherwise (validate it with
 * `configFromJSON`). Throws {@link ConfigError} for a document that is no configuration at all.
 */
export function trustedStoredConfig(text: string, source?: string): Config | undefined {
  const { config, schema, digest } = parseStoredDocument(text, source);
  if (schema !== CONFIG_SCHEMA_ID || typeof digest !== "string") return undefined;
  return digestOf(JSON.stringify(config)) === digest ? (config as Config) : undefined;
}
