/**
 * Reading the stored configuration in a process that has not loaded the schema (a worker): see
 * stored.ts. Kept apart from stored.ts, which config.ts imports, so the schema is loaded only here,
 * and only for a document that needs it.
 */
import type { Config } from "./schema.js";
import { trustedStoredConfig } from "./stored.js";

/**
 * Read the document `configToJSON` wrote, for a process that has not loaded the schema (a worker):
 * one this toil-ts's schema validated and nobody changed since is taken as it is; any other is
 * validated with the schema (`configFromJSON`, loaded then), which refuses a bad one with a
 * `ConfigError` naming each bad option. `source` (the stored file's path) is named in errors.
 */
export async function readStoredConfig(text: string, source?: string): Promise<Config> {
  const trusted = trustedStoredConfig(text, source);
  if (trusted !== undefined) return trusted;
  const { configFromJSON } = await import("./config.js");
  return configFromJSON(text, source);
}
