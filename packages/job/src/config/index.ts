/**
 * Workflow configuration: every run option with Toil's defaults, validated by a zod schema,
 * JSON round-trippable (the job store keeps it; workers read it back).
 *
 * ```ts
 * const config = defaultConfig({ jobStore: "./js", retryCount: 3, defaultMemory: "512Mi" });
 * const stored = configToJSON(prepareStart(config));
 * ```
 */
export {
  configSchema,
  sizeSchema,
  CLEAN_POLICIES,
  LOG_LEVELS,
  type Config,
  type ConfigInput,
  type ConfigKey,
  type CleanPolicy,
  type ConfigLogLevel,
} from "./schema.js";
export type { ConfigOptionSpec, OptionKind } from "./options.js";
export {
  parseConfig,
  defaultConfig,
  configFromJSON,
  prepareStart,
  prepareRestart,
  PER_RUN_OPTIONS,
  parseOptionText,
  parseSetEnv,
  parseAcceleratorSpec,
  parsePluginOptions,
} from "./config.js";
